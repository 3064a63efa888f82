package cli

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// watchUntil shows snapshots every interval until every file in want (or,
// with want empty, every file seen, once there is one) is finished, or
// ctx ends. It returns the last snapshot, restricted to want.
func watchUntil(ctx context.Context, c *clients, v *liveView, want []string, interval time.Duration, start time.Time, exitWhenDone bool) (snapshot, error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s := c.take(ctx)
		if len(want) > 0 {
			s.Files = only(s.Files, want)
		}
		v.show(s, time.Since(start))
		if exitWhenDone && allDone(s, want) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-tick.C:
		}
	}
}

// only keeps the files named in want, adding a placeholder for each that
// has not shown up yet.
func only(files []fileView, want []string) []fileView {
	var out []fileView
	for _, f := range files {
		if slices.Contains(want, f.Blob) {
			out = append(out, f)
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(out, func(f fileView) bool { return f.Blob == w }) {
			out = append(out, fileView{Blob: w, State: "pending", OutputSize: -1})
		}
	}
	return out
}

func allDone(s snapshot, want []string) bool {
	if len(s.Files) == 0 || (len(want) > 0 && len(s.Files) < len(want)) {
		return false
	}
	for _, f := range s.Files {
		if !f.terminal() {
			return false
		}
	}
	return true
}

func cmdWatch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "watch", "[flags] [BLOBS...]")
	interval := fs.Duration("interval", 500*time.Millisecond, "refresh interval")
	exit := fs.Bool("exit", true, "exit once every file is finished (false: until Ctrl-C)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *interval < 50*time.Millisecond {
		return fmt.Errorf("%w: --interval must be at least 50ms", errUsage)
	}
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	v := &liveView{w: e.stdout, tty: e.tty, poolID: c.ep.PoolID}
	_, err = watchUntil(ctx, c, v, fs.Args(), *interval, time.Now(), *exit)
	if ctx.Err() != nil {
		return nil // Ctrl-C ends watching
	}
	return err
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "[flags] [BLOBS...]")
	asJSON := fs.Bool("json", false, "print the Status API's JSON page (docs/status-api.md), with only the named blobs' rows if any")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	if *asJSON {
		return printStatusJSON(ctx, e.stdout, c, fs.Args())
	}
	s := c.take(ctx)
	if fs.NArg() > 0 {
		s.Files = only(s.Files, fs.Args())
	}
	render(e.stdout, s, 0, c.ep.PoolID)
	if fs.NArg() > 0 {
		renderHistory(e.stdout, s.Files)
	}
	return nil
}
