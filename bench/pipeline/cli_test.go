package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkSubmitToWatchExit measures what a user sees: one 10-second MP4,
// from the start of `ffbatch submit FILE` to `ffbatch watch NAME` returning
// (it exits once the named file is finished), 20 times after one warm-up,
// with the product's default settings and the CLI's defaults. The
// baseline is plain ffmpeg on the same file, 20 times.
func BenchmarkSubmitToWatchExit(b *testing.B) {
	dir, src, _ := tenSecondSample(b)
	cli := buildCLI(b)
	st, _ := startStack(b, map[string]string{"FFBATCH_DEFAULT_PRESET": preset}, 0)
	if err := st.WriteRecord(); err != nil { // stack.json, for the CLI
		b.Fatal(err)
	}
	state := st.Dir
	run := func(ctx context.Context, args ...string) error {
		cmd := cliCommand(ctx, cli, state, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("ffbatch %v: %w\n%s", args, err, out)
		}
		return nil
	}
	measureLatencies(b, src, dir, "cli", func(name string) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		blob := name + ".mp4"
		start := time.Now()
		if err := run(ctx, "submit", src, "--name", blob); err != nil {
			return 0, err
		}
		if err := run(ctx, "watch", blob); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	})
}
