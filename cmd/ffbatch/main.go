// Command ffbatch is the developer CLI of the local pipeline: `ffbatch up`
// runs the local stack until Ctrl-C (or `ffbatch down` from another
// terminal), `submit`, `watch`, `status`, `get`, `retry`, `results`, `env`
// and `logs` work with a running stack, `presets` lists the presets, and
// `run` does the whole job on sample files (what `make run` calls). See
// internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ffbatch/ffbatch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	tty := false
	if st, err := os.Stdout.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb" {
		tty = true
	}
	code := cli.Main(ctx, os.Args[1:], cli.Options{Stdout: os.Stdout, Stderr: os.Stderr, TTY: tty})
	stop()
	os.Exit(code)
}
