package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ffbatch/ffbatch/internal/results"
)

// barWidth is the width of the overall progress bar in cells.
const barWidth = 30

// bar draws done/total as a fixed-width bar. (A hand-written bar rather
// than a progress-bar library: the view is a multi-line block redrawn in
// place, which single-line bar libraries do not handle; see
// docs/decisions/0061-cli-progress-view.md.)
func bar(done, total int) string {
	if total <= 0 {
		return "[" + strings.Repeat("-", barWidth) + "]"
	}
	fill := done * barWidth / total
	return "[" + strings.Repeat("#", fill) + strings.Repeat("-", barWidth-fill) + "]"
}

// counts tallies the files by state.
func counts(files []fileView) (done int, by map[results.State]int) {
	by = map[results.State]int{}
	for _, f := range files {
		by[f.State]++
		if f.terminal() {
			done++
		}
	}
	return done, by
}

// render writes the progress view of s.
func render(w io.Writer, s snapshot, elapsed time.Duration, poolID string) int {
	var b strings.Builder
	done, by := counts(s.Files)
	fmt.Fprintf(&b, "%s %d/%d done", bar(done, len(s.Files)), done, len(s.Files))
	var parts []string
	for _, st := range []results.State{results.StateSucceeded, results.StateFailed, results.StateRejected, results.StateIgnored, results.StateRunning, results.StateSubmitted, results.StateQueued, stateUploaded} {
		if by[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", by[st], st))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if elapsed > 0 {
		fmt.Fprintf(&b, "  elapsed %s", elapsed.Round(100*time.Millisecond))
	}
	b.WriteString("\n")
	queue := "?"
	if s.Queue >= 0 {
		queue = fmt.Sprint(s.Queue)
	}
	pool := "no pool"
	if s.Nodes >= 0 {
		pool = fmt.Sprintf("%d node(s), %s", s.Nodes, s.PoolState)
	}
	tasks := "no job"
	if s.Tasks != nil {
		tasks = fmt.Sprintf("%d running, %d active, %d completed", s.Tasks.Running, s.Tasks.Active, s.Tasks.Completed)
	}
	fmt.Fprintf(&b, "queue: %s   pool %s: %s   tasks: %s\n", queue, poolID, pool, tasks)
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "! %s\n", oneLine(p, 110))
	}
	if len(s.Files) > 0 {
		fmt.Fprintf(&b, "  %-10s %-40s %10s  %s\n", "STATE", "FILE", "INPUT", "OUTPUT / REASON")
	}
	for _, f := range s.Files {
		fmt.Fprintf(&b, "  %-10s %-40s %10s  %s\n", f.State, oneLine(f.Blob, 40), humanBytes(f.InputSize), outcome(f))
	}
	out := b.String()
	io.WriteString(w, out)
	return strings.Count(out, "\n")
}

func outcome(f fileView) string {
	switch {
	case f.OutputBlob != "" && f.OutputSize >= 0:
		return fmt.Sprintf("%s (%s)", f.OutputBlob, humanBytes(f.OutputSize))
	case f.Reason != "":
		return oneLine(f.Reason, 80)
	}
	return ""
}

// oneLine keeps s on one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// liveView prints successive snapshots: redrawn in place on a terminal,
// otherwise one line per file state change.
type liveView struct {
	w      io.Writer
	tty    bool
	poolID string
	lines  int                      // lines drawn last time (tty)
	last   map[string]results.State // last printed state per file (not tty)
	done   int
}

func (v *liveView) show(s snapshot, elapsed time.Duration) {
	if v.tty {
		if v.lines > 0 {
			fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.lines)
		}
		v.lines = render(v.w, s, elapsed, v.poolID)
		return
	}
	if v.last == nil {
		v.last = map[string]results.State{}
	}
	for _, f := range s.Files {
		if prev, ok := v.last[f.Blob]; ok && prev == f.State {
			continue
		}
		v.last[f.Blob] = f.State
		line := fmt.Sprintf("%7s  %-10s %s", elapsed.Round(100*time.Millisecond), f.State, f.Blob)
		if o := outcome(f); o != "" && f.terminal() {
			line += "  " + o
		}
		fmt.Fprintln(v.w, line)
	}
	if done, _ := counts(s.Files); done != v.done {
		v.done = done
		fmt.Fprintf(v.w, "%7s  %s %d/%d done\n", elapsed.Round(100*time.Millisecond), bar(done, len(s.Files)), done, len(s.Files))
	}
}
