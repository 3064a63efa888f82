// Command sbemu runs the local Azure Service Bus emulator (emulators/sbemu):
// AMQP 1.0 on --amqp-addr for the azservicebus client
// (Endpoint=sb://localhost;...;UseDevelopmentEmulator=true) and a small HTTP
// endpoint (/health, /entities) on --http-addr, until SIGINT or SIGTERM.
//
// Entities come from --config, a Config.json in the official emulator's
// format; without it the local stack's entities are served (print them with
// --print-default-config). With --data the broker persists every message.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu"
	"github.com/ffbatch/ffbatch/internal/localtoken"
	"github.com/ffbatch/ffbatch/internal/profiling"
)

type config struct {
	amqpAddr, httpAddr string
	configPath         string
	printDefault       bool
	opts               sbemu.Options
	tokenKey           localtoken.KeyFlag
	logLevel           slog.Level
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("sbemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.amqpAddr, "amqp-addr", "127.0.0.1:5672", `AMQP listen address ("localhost" binds 127.0.0.1)`)
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:5300", `HTTP listen address for /health and /entities ("localhost" binds 127.0.0.1)`)
	fs.StringVar(&c.configPath, "config", "", "Config.json in the official emulator's format (empty: the local stack's entities)")
	fs.BoolVar(&c.printDefault, "print-default-config", false, "print the built-in Config.json and exit")
	fs.StringVar(&c.opts.DataDir, "data", "", "data directory for durable messages (empty: in memory)")
	fs.StringVar(&c.opts.KeyName, "key-name", sbemu.DefaultKeyName, "shared access key name")
	fs.StringVar(&c.opts.Key, "key", sbemu.DefaultKey, "shared access key")
	fs.Func("key-file", "file holding the shared access key, instead of --key (command lines are visible to every local user)", func(path string) error {
		key, err := localtoken.ReadSecretFile(path)
		c.opts.Key = key
		return err
	})
	fs.IntVar(&c.opts.MaxMessageSize, "max-message-size", sbemu.DefaultMaxMessageSize, "largest accepted message in bytes")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level (debug, info, warn, error)")
	fs.Var(&c.tokenKey, "token-key-file", `file with the local token issuer's secret (base64): accept "jwt" put-tokens it signed for the Service Bus audience (empty: SAS only)`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.opts.TokenKey = c.tokenKey.Key
	if c.opts.KeyName == "" || c.opts.Key == "" {
		return nil, errors.New("--key-name and --key must not be empty")
	}
	if c.opts.MaxMessageSize <= 0 {
		return nil, fmt.Errorf("--max-message-size must be positive, got %d", c.opts.MaxMessageSize)
	}
	var err error
	if c.amqpAddr, err = loopbackAddr(c.amqpAddr); err != nil {
		return nil, fmt.Errorf("--amqp-addr: %w", err)
	}
	if c.httpAddr, err = loopbackAddr(c.httpAddr); err != nil {
		return nil, fmt.Errorf("--http-addr: %w", err)
	}
	if c.configPath != "" {
		data, err := os.ReadFile(c.configPath)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		if c.opts.Config, err = sbemu.LoadConfig(data); err != nil {
			return nil, fmt.Errorf("--config %s: %w", c.configPath, err)
		}
	}
	return c, nil
}

// loopbackAddr checks host:port and maps the host "localhost" to
// 127.0.0.1, so "localhost" never binds more than IPv4 loopback. (An empty
// host, ":5672", binds every interface: the caller asked for it.)
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := profiling.CPU("sbemu")
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stopProfile()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbemu:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, if not nil, receives the bound AMQP and
// HTTP addresses once both listeners are open.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- [2]string) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if c.printDefault {
		_, err := stdout.Write(sbemu.DefaultConfigJSON)
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	c.opts.Logger = log
	srv, err := sbemu.NewServer(&c.opts)
	if err != nil {
		return err
	}
	amqpLn, err := net.Listen("tcp", c.amqpAddr)
	if err != nil {
		_ = srv.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", c.amqpAddr, err)
	}
	httpLn, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		amqpLn.Close()
		_ = srv.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", c.httpAddr, err)
	}
	hs := &http.Server{Handler: srv.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeAMQP(amqpLn) }()
	go func() { errc <- hs.Serve(httpLn) }()
	configName := "built-in"
	if c.configPath != "" {
		configName = c.configPath
	}
	_, port, _ := net.SplitHostPort(amqpLn.Addr().String())
	log.Info("service bus emulator listening",
		"amqp", amqpLn.Addr().String(), "http", "http://"+httpLn.Addr().String(),
		"config", configName, "dataDir", c.opts.DataDir, "keyName", c.opts.KeyName)
	log.Info("connection string for azservicebus (key elided)", "connectionString",
		"Endpoint=sb://localhost:"+port+";SharedAccessKeyName="+c.opts.KeyName+";SharedAccessKey=<--key>;UseDevelopmentEmulator=true")
	if ready != nil {
		ready <- [2]string{amqpLn.Addr().String(), httpLn.Addr().String()}
	}
	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serveErr = <-errc:
		log.Error("server stopped", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	herr := hs.Shutdown(sctx)
	if herr != nil {
		herr = fmt.Errorf("shut down http: %w", herr)
	}
	return errors.Join(serveErr, herr, srv.Close(sctx))
}
