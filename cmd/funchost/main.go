// Command funchost runs a deployable Azure Functions custom-handler layout
// locally, the way the Functions host would: it starts the handler, serves
// HTTP functions on --addr under /api, and drives timer, Service Bus and
// Event Grid (blob-created) triggers. See emulators/funchost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ffbatch/ffbatch/emulators/funchost"
	"github.com/ffbatch/ffbatch/internal/profiling"
)

// sources collects repeated --eventgrid-blob flags.
type sources []funchost.EventGridBlobSource

func (s *sources) String() string { return fmt.Sprint(len(*s)) }
func (s *sources) Set(v string) error {
	parsed, err := funchost.ParseEventGridBlobSources(v)
	if err != nil {
		return err
	}
	*s = append(*s, parsed...)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile := profiling.CPU("funchost")
	err := run(ctx, os.Args[1:], os.Environ(), os.Stderr)
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "funchost:", err)
		stop()
		os.Exit(1)
	}
}

// run parses args, runs the host until ctx ends (SIGINT/SIGTERM in main) or
// the host stops on its own, and shuts it down gracefully.
func run(ctx context.Context, args, environ []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("funchost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		app        = fs.String("app", ".", "function app directory (host.json, handler, <Function>/function.json)")
		settings   = fs.String("settings", "", "local.settings.json (default <app>/local.settings.json, optional)")
		addr       = fs.String("addr", "127.0.0.1:7071", "listen address for HTTP functions, /admin and /runtime/webhooks")
		state      = fs.String("state", "", "state directory for timer status and Event Grid deliveries (default <app>/.funchost)")
		poll       = fs.Duration("blob-poll", 250*time.Millisecond, "how often watched blob containers are listed")
		logFormat  = fs.String("log-format", "text", "log format: text or json")
		logLevel   = fs.String("log-level", "info", "log level: debug, info, warn or error")
		eventGrids sources
	)
	fs.Var(&eventGrids, "eventgrid-blob", "deliver BlobCreated events for a container to an eventGridTrigger function: Function=[Connection:]container (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler
	switch strings.ToLower(*logFormat) {
	case "text":
		handler = slog.NewTextHandler(stderr, hopts)
	case "json":
		handler = slog.NewJSONHandler(stderr, hopts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", *logFormat)
	}
	log := slog.New(handler)

	h, err := funchost.New(&funchost.Options{
		AppDir:               *app,
		SettingsFile:         *settings,
		HTTPAddr:             *addr,
		StateDir:             *state,
		Logger:               log,
		HandlerOutput:        stderr,
		Environ:              environ,
		EventGridBlobSources: eventGrids,
		BlobPollInterval:     *poll,
	})
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "funchost: functions %s listening on http://%s\n", strings.Join(h.Functions(), ", "), h.Addr())

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case <-h.Done():
		runErr = h.Err()
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Close(closeCtx); err != nil {
		runErr = errors.Join(runErr, err)
	}
	return runErr
}
