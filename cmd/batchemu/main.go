// Command batchemu runs the local Azure Batch data-plane emulator
// (emulators/batchemu) on a loopback address until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ffbatch/ffbatch/internal/azurite"
	"github.com/ffbatch/ffbatch/internal/localtoken"
	"github.com/ffbatch/ffbatch/internal/profiling"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
)

// Azurite's well-known development account (public, like DefaultAccountKey).
const (
	azuriteEndpoint = "http://127.0.0.1:10000/" + azurite.AccountName
	azuriteAccount  = azurite.AccountName
	azuriteKey      = azurite.AccountKey
)

type config struct {
	addr     string
	tokenKey localtoken.KeyFlag
	opts     batchemu.Options
	storage  batchemu.StorageAccount
	logLevel slog.Level
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("batchemu", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:10200", "listen address (loopback by default)")
	fs.StringVar(&c.opts.AccountName, "account", batchemu.DefaultAccountName, "Batch account name")
	fs.StringVar(&c.opts.AccountKey, "key", batchemu.DefaultAccountKey, "Batch account key (base64)")
	fs.Func("key-file", "file holding the Batch account key (base64), instead of --key (command lines are visible to every local user)", func(path string) error {
		key, err := localtoken.ReadSecretFile(path)
		c.opts.AccountKey = key
		return err
	})
	fs.StringVar(&c.opts.DataDir, "data", "", "data directory for persisted state and node directories (empty: in memory)")
	fs.StringVar(&c.storage.BlobEndpoint, "storage-endpoint", azuriteEndpoint, "auto-storage blob endpoint (empty disables auto-storage)")
	fs.StringVar(&c.storage.AccountName, "storage-account", azuriteAccount, "auto-storage account name")
	fs.StringVar(&c.storage.AccountKey, "storage-key", azuriteKey, "auto-storage account key")
	fs.Func("storage-key-file", "file holding the auto-storage account key, instead of --storage-key", func(path string) error {
		key, err := localtoken.ReadSecretFile(path)
		c.storage.AccountKey = key
		return err
	})
	fs.DurationVar(&c.opts.NodeStartDelay, "node-start-delay", 0, "simulated allocation time of each node")
	fs.IntVar(&c.opts.Concurrency, "concurrency", 0, "maximum concurrently running task processes (0: number of CPUs)")
	fs.DurationVar(&c.opts.AutoScaleMinInterval, "autoscale-min-interval", 5*time.Minute, "smallest accepted autoScaleEvaluationInterval")
	fs.DurationVar(&c.opts.SampleInterval, "sample-interval", 30*time.Second, "autoscale metric sampling interval")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level (debug, info, warn, error)")
	fs.Var(&c.tokenKey, "token-key-file", "file with the local token issuer's secret (base64): accept Bearer tokens it signed for the Batch audience (empty: Shared Key only)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.opts.TokenKey = c.tokenKey.Key
	if c.storage.BlobEndpoint != "" {
		if c.storage.AccountName == "" || c.storage.AccountKey == "" {
			return nil, errors.New("--storage-account and --storage-key are required with --storage-endpoint")
		}
		c.opts.Storage = &c.storage
	}
	if c.opts.Concurrency < 0 {
		return nil, fmt.Errorf("--concurrency must not be negative, got %d", c.opts.Concurrency)
	}
	if c.opts.NodeStartDelay < 0 {
		return nil, fmt.Errorf("--node-start-delay must not be negative, got %v", c.opts.NodeStartDelay)
	}
	if c.opts.AutoScaleMinInterval <= 0 || c.opts.SampleInterval <= 0 {
		return nil, errors.New("--autoscale-min-interval and --sample-interval must be positive")
	}
	return c, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile := profiling.CPU("batchemu")
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchemu:", err)
		os.Exit(1)
	}
}

// run serves the emulator until ctx is cancelled, then shuts it down
// gracefully. ready, if not nil, receives the listening address.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- string) error {
	c, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: c.logLevel}))
	c.opts.Logger = log
	srv, err := batchemu.NewServer(&c.opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		_ = srv.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("batch emulator listening", "url", "http://"+ln.Addr().String(), "account", c.opts.AccountName, "dataDir", c.opts.DataDir)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		_ = srv.Close(context.Background())
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Close(sctx)
}
