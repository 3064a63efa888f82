// Command handler is the Azure Functions custom handler: the HTTP server
// the Functions host starts and invokes (POST /{FunctionName}). It reads
// its settings once, wires the real Batch, Service Bus and Blob clients
// (no network calls before serving) and serves until SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ffbatch/ffbatch/handlers"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/profiling"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile := profiling.CPU("handler")
	err := run(ctx, os.Getenv, os.Stdout, nil)
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled. getenv reads the host-provided port;
// the settings are read from the environment by config.Load. ready, if
// not nil, receives the listening address once the server accepts
// connections.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	port := getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = getenv("FUNCTIONS_HTTPWORKER_PORT")
	}
	if port == "" {
		return errors.New("FUNCTIONS_CUSTOMHANDLER_PORT is not set (the Functions host sets it)")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// stdout lines are logged by the host at Information, stderr at Error.
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	deps, closeDeps, err := handlers.Connect(cfg)
	if err != nil {
		return err
	}
	defer closeDeps()

	app := handlers.New(cfg, log, deps, nil)
	mux := customhandler.NewMux(log, nil)
	app.Register(mux)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	log.Info("handler ready", "addr", ln.Addr().String(), "settings", cfg.Redacted())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
