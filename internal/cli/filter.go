package cli

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

// viewStates are the states a file can be shown in, in the order the
// view counts them.
var viewStates = []results.State{
	results.StateSucceeded, results.StateFailed, results.StateRejected, results.StateIgnored,
	results.StateRunning, results.StateSubmitted, results.StateQueued, stateUploaded, stateUnknown,
}

// selection is which files status and watch show: the names asked for
// (or every file), of which the ones whose current request is recent
// enough (--since) are watched, and of those the ones in the given states
// (--state) are shown. A name that is unknown is always shown.
type selection struct {
	names  []string
	states stateList
	since  time.Duration
}

// register adds --state and --since to fs.
func (sel *selection) register(fs *flag.FlagSet) {
	fs.Var(&sel.states, "state", "show only files in these states, comma-separated: "+joinStates(viewStates))
	fs.DurationVar(&sel.since, "since", 0, "only files whose current request is newer than this (e.g. 10m, 2h; default: any age)")
}

// check validates the flags once parsed.
func (sel *selection) check() error {
	if sel.since < 0 {
		return fmt.Errorf("%w: --since must not be negative, got %s", errUsage, sel.since)
	}
	return nil
}

// scope returns the files watched: the names asked for (see selectNames),
// or every file, newer than --since.
func (sel selection) scope(files []fileView, inputContainer string, now time.Time) []fileView {
	if len(sel.names) > 0 {
		files = selectNames(files, sel.names, inputContainer)
	}
	if sel.since <= 0 {
		return files
	}
	var out []fileView
	for _, f := range files {
		if f.State == stateUnknown || (!f.Since.IsZero() && now.Sub(f.Since) <= sel.since) {
			out = append(out, f)
		}
	}
	return out
}

// show returns the files in the --state states.
func (sel selection) show(files []fileView) []fileView {
	if len(sel.states) == 0 {
		return files
	}
	var out []fileView
	for _, f := range files {
		if f.State == stateUnknown || slices.Contains(sel.states, f.State) {
			out = append(out, f)
		}
	}
	return out
}

// cutoff is the time before which requests are not shown (zero: none
// hidden).
func (sel selection) cutoff(now time.Time) time.Time {
	if sel.since <= 0 {
		return time.Time{}
	}
	return now.Add(-sel.since)
}

// stateList is the value of --state: a comma-separated list of viewStates,
// repeatable.
type stateList []results.State

func (l *stateList) String() string {
	if l == nil {
		return ""
	}
	return joinStates(*l)
}

func (l *stateList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		st := results.State(strings.ToLower(strings.TrimSpace(part)))
		if !slices.Contains(viewStates, st) {
			return fmt.Errorf("unknown state %q (states: %s)", part, joinStates(viewStates))
		}
		if !slices.Contains(*l, st) {
			*l = append(*l, st)
		}
	}
	return nil
}

func joinStates(states []results.State) string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = string(st)
	}
	return strings.Join(s, ",")
}
