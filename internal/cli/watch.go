package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// refreshLoad bounds the share of time watch spends refreshing (see
// watchUntil).
const refreshLoad = 3

// watchUntil shows snapshots every interval until ctx ends or, with
// exitWhenDone, every watched file is finished (see allDone): the files
// sel names, else every file once there is one. It returns the last
// snapshot of the watched files.
//
// A refresh reads every file's row, so it grows with the files: the next
// one starts refreshLoad times as long after the last one began as it
// took, when that is longer than interval, so that watching does not load
// the storage service the pipeline uses.
func watchUntil(ctx context.Context, c *clients, v *liveView, sel selection, interval time.Duration, start time.Time, exitWhenDone bool) (snapshot, error) {
	tick := time.NewTimer(0)
	defer tick.Stop()
	<-tick.C
	for {
		began := time.Now()
		s := c.take(ctx)
		tick.Reset(max(interval, refreshLoad*time.Since(began)) - time.Since(began))
		s.Files = c.scope(ctx, sel, s.Files, time.Now())
		shown := s
		shown.Files = sel.show(s.Files)
		v.show(shown, time.Since(start))
		if exitWhenDone && allDone(s, sel.names) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-tick.C:
		}
	}
}

// allDone reports whether every watched file is finished: with names, one
// view per name (selectNames gives one even to an unknown name); without,
// at least one file.
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
	interval := fs.Duration("interval", 200*time.Millisecond, "refresh interval (the next refresh waits at least twice as long as the last one took)")
	exit := fs.Bool("exit", true, "with BLOBS: exit once they are all finished (false: until Ctrl-C); "+
		"without BLOBS watching goes on until Ctrl-C unless --exit is given, which exits once every file is finished")
	limit := fs.Int("limit", defaultLimit, "on a terminal, without BLOBS: files with a line in the view, files in flight first, then the most recent (0: all); the counts cover every file")
	var sel selection
	sel.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit must not be negative, got %d", errUsage, *limit)
	}
	if *interval < 50*time.Millisecond {
		return fmt.Errorf("%w: --interval must be at least 50ms", errUsage)
	}
	if err := sel.check(); err != nil {
		return err
	}
	sel.names = fs.Args()
	exitWhenDone := *exit && (len(sel.names) > 0 || flagGiven(fs, "exit"))
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	fmt.Fprintln(e.stdout, watchBanner(sel, c.ep.InputContainer, exitWhenDone))
	v := &liveView{w: e.stdout, tty: e.tty, poolID: c.ep.PoolID}
	if len(sel.names) == 0 {
		v.limit = *limit
	}
	last, err := watchUntil(ctx, c, v, sel, *interval, time.Now(), exitWhenDone)
	if ctx.Err() != nil {
		return nil // Ctrl-C ends watching
	}
	if err != nil {
		return err
	}
	return unknownError(last.Files)
}

// watchBanner says what watch waits for.
func watchBanner(sel selection, inputContainer string, exitWhenDone bool) string {
	what := "every file in the " + inputContainer + " container"
	if len(sel.names) > 0 {
		what = strings.Join(sel.names, ", ")
	}
	if sel.since > 0 {
		what += fmt.Sprintf(" with requests from the last %s", sel.since)
	}
	if exitWhenDone {
		return "Watching " + what + " until finished (Ctrl-C to stop)."
	}
	return "Watching " + what + "; new uploads and requests show up as they arrive. Ctrl-C to stop."
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "[flags] [BLOBS...]")
	var opts statusOptions
	opts.sel.register(fs)
	fs.BoolVar(&opts.asJSON, "json", false, "print the Status API's JSON page (docs/status-api.md) of --limit rows (--all: every row), with only the named blobs' rows if any")
	fs.IntVar(&opts.limit, "limit", defaultLimit, "without BLOBS: list at most this many files (1 to 1000); the view says what it left out")
	fs.BoolVar(&opts.all, "all", false, "without BLOBS: list every file, with the totals of every file (reads every file's row: slower with many files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := opts.sel.check(); err != nil {
		return err
	}
	if opts.limit < 1 || opts.limit > lifecycle.MaxRowLimit {
		return fmt.Errorf("%w: --limit must be 1 to %d, got %d", errUsage, lifecycle.MaxRowLimit, opts.limit)
	}
	opts.sel.names = fs.Args()
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	return runStatus(ctx, e, c, opts)
}

// statusOptions are status's flags.
type statusOptions struct {
	sel    selection
	asJSON bool
	limit  int
	all    bool
}

// runStatus prints status's view. Without names, --all, --state or
// --since it is bounded: the Status API's page of limit rows (renderPage),
// whose cost does not grow with the files. With --state or --since it
// reads every file's row to select them and lists at most limit; with
// --all every file; with names those files and every request of each.
func runStatus(ctx context.Context, e *env, c *clients, opts statusOptions) error {
	sel := opts.sel
	if opts.asJSON {
		return printStatusJSON(ctx, e.stdout, c, sel.names, opts.limit, opts.all)
	}
	if len(sel.names) == 0 && !opts.all && len(sel.states) == 0 && sel.since <= 0 {
		page, err := c.statusPage(ctx, opts.limit, false)
		if err != nil {
			return err
		}
		renderPage(e.stdout, page, c.ep.PoolID, opts.limit)
		return nil
	}
	s := c.take(ctx)
	now := time.Now()
	s.Files = sel.show(c.scope(ctx, sel, s.Files, now))
	limit := opts.limit
	if opts.all || len(sel.names) > 0 {
		limit = 0
	}
	render(e.stdout, s, 0, c.ep.PoolID, true, limit)
	if len(sel.names) > 0 {
		c.withRecords(ctx, s.Files)
		renderHistory(e.stdout, s.Files, sel.cutoff(now))
	}
	return unknownError(s.Files)
}

// unknownError names the unknown files among files, if any (exit 1).
func unknownError(files []fileView) error {
	if u := unknownNames(files); len(u) > 0 {
		return fmt.Errorf("unknown file(s): %s", strings.Join(u, ", "))
	}
	return nil
}
