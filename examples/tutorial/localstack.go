package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
	"github.com/ffbatch/ffbatch/internal/azurite"
)

// targets are the Batch and storage endpoints the tutorial talks to.
type targets struct {
	local                            bool
	batchURL, batchAccount, batchKey string
	storageConnectionString          string
	close                            func()
}

// resolveTargets returns the remote targets from cfg, or starts the local
// stack (Azurite and the Batch emulator on loopback) when none are given.
func resolveTargets(ctx context.Context, cfg Config, out io.Writer, logger *slog.Logger) (*targets, error) {
	remoteBatch := cfg.BatchURL != ""
	remoteStorage := cfg.StorageConnectionString != ""
	if remoteBatch != remoteStorage {
		return nil, errors.New("give both -batch-url (with -batch-account and a key) and -storage-connection-string, or neither to use the local stack")
	}
	if remoteBatch {
		if cfg.BatchAccount == "" || cfg.BatchKey == "" {
			return nil, errors.New("-batch-url needs -batch-account and a key (-batch-key or FFBATCH_BATCH_KEY)")
		}
		return &targets{
			batchURL: cfg.BatchURL, batchAccount: cfg.BatchAccount, batchKey: cfg.BatchKey,
			storageConnectionString: cfg.StorageConnectionString, close: func() {},
		}, nil
	}

	fmt.Fprintln(out, "Starting the local stack (Azurite, Batch emulator)...")
	// Keys of this run only: the emulators' built-in development keys are
	// public, and the emulator runs any task a signed request adds as this
	// user, so the stack is closed as `ffbatch up`'s is.
	storageKey, batchKey := newKey(), newKey()
	az, err := azurite.Start(ctx, &azurite.Options{Dir: filepath.Join(cfg.StateDir, "azurite"), AccountKey: storageKey})
	if err != nil {
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	emu, err := batchemu.NewServer(&batchemu.Options{
		AccountKey: batchKey,
		DataDir:    filepath.Join(cfg.StateDir, "batchemu"),
		Storage:    &batchemu.StorageAccount{BlobEndpoint: az.BlobEndpoint, AccountName: az.AccountName, AccountKey: az.AccountKey},
		Logger:     logger.With("component", "batchemu"),
	})
	if err != nil {
		az.Stop()
		return nil, fmt.Errorf("start batch emulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		az.Stop()
		return nil, fmt.Errorf("listen for batch emulator: %w", err)
	}
	go func() { _ = emu.Serve(ln) }()
	fmt.Fprintf(out, "  Azurite blob endpoint: %s\n  Batch emulator:        http://%s\n\n", az.BlobEndpoint, ln.Addr())
	return &targets{
		local:                   true,
		batchURL:                "http://" + ln.Addr().String(),
		batchAccount:            batchemu.DefaultAccountName,
		batchKey:                batchKey,
		storageConnectionString: az.ConnectionString,
		close: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = emu.Close(ctx)
			az.Stop()
		},
	}, nil
}

// newKey returns a random account key (64 bytes in base64, as Azure's).
func newKey() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(b)
}
