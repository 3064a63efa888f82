package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg := defaultConfig()
	flag.StringVar(&cfg.StateDir, "state", cfg.StateDir, "directory for generated inputs, downloaded outputs and local-stack data")
	flag.IntVar(&cfg.Files, "files", cfg.Files, "number of sample MP4 files to generate and convert")
	flag.DurationVar(&cfg.ClipDuration, "duration", cfg.ClipDuration, "length of each generated sample")
	flag.StringVar(&cfg.PoolID, "pool", cfg.PoolID, "pool id")
	flag.StringVar(&cfg.JobID, "job", cfg.JobID, "job id")
	flag.IntVar(&cfg.DedicatedNodes, "dedicated-nodes", cfg.DedicatedNodes, "dedicated nodes in the pool")
	flag.IntVar(&cfg.LowPriorityNodes, "low-priority-nodes", cfg.LowPriorityNodes, "spot/low-priority nodes in the pool")
	flag.BoolVar(&cfg.Keep, "keep", cfg.Keep, "keep the job and pool at the end")
	flag.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "how long to wait for the tasks")
	flag.StringVar(&cfg.BatchURL, "batch-url", "", "Batch account URL (default: start the local Batch emulator)")
	flag.StringVar(&cfg.BatchAccount, "batch-account", "", "Batch account name (with -batch-url)")
	flag.StringVar(&cfg.BatchKey, "batch-key", "", "Batch account key (with -batch-url); prefer the FFBATCH_BATCH_KEY environment variable")
	flag.StringVar(&cfg.StorageConnectionString, "storage-connection-string", "", "storage connection string (default: start Azurite); prefer FFBATCH_STORAGE_CONNECTION_STRING")
	flag.Parse()
	if cfg.BatchKey == "" {
		cfg.BatchKey = os.Getenv("FFBATCH_BATCH_KEY")
	}
	if cfg.StorageConnectionString == "" {
		cfg.StorageConnectionString = os.Getenv("FFBATCH_STORAGE_CONNECTION_STRING")
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	report, err := Run(ctx, cfg, os.Stdout, logger)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tutorial: %v\n", err)
		os.Exit(1)
	}
	if report.Failed() > 0 {
		os.Exit(2)
	}
}

func defaultConfig() Config {
	return Config{
		StateDir:         ".local/tutorial",
		Files:            5,
		ClipDuration:     3 * time.Second,
		PoolID:           "LinuxFfmpegPool",
		JobID:            "LinuxFfmpegJob",
		DedicatedNodes:   0,
		LowPriorityNodes: 5,
		Timeout:          30 * time.Minute,
	}
}
