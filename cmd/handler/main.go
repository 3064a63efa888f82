// Command handler is the Azure Functions custom handler: the HTTP server
// the Functions host starts and invokes (POST /{FunctionName}). It reads
// its settings once, wires the real Batch, Service Bus and Blob clients
// (no network calls before serving) and serves until SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
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
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = os.Getenv("FUNCTIONS_HTTPWORKER_PORT")
	}
	if port == "" {
		return errors.New("FUNCTIONS_CUSTOMHANDLER_PORT is not set (the Functions host sets it)")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// stdout lines are logged by the host at Information, stderr at Error.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("handler ready", "addr", ln.Addr().String(), "settings", cfg.Redacted())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
