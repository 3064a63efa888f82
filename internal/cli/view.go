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

// Widths of the progress view's table; reasonWidth applies where lines
// must not wrap (the block redrawn in place on a terminal).
const (
	nameWidth   = 40
	reasonWidth = 80
	// detailIndent puts continuation lines under the OUTPUT / REASON column.
	detailIndent = 2 + 10 + 1 + nameWidth + 1 + 10 + 2
)

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

// render writes the progress view of s and returns the number of lines
// written. With full, reasons are not cut and each failure is followed by
// the end of ffmpeg's stderr; otherwise every file is one line. The
// counts cover every file of s; with limit > 0 at most limit files get a
// line (see shownFiles), and a last line says how many did not.
func render(w io.Writer, s snapshot, elapsed time.Duration, poolID string, full bool, limit int) int {
	var b strings.Builder
	done, by := counts(s.Files)
	fmt.Fprintf(&b, "%s %d/%d done", bar(done, len(s.Files)), done, len(s.Files))
	var parts []string
	for _, st := range viewStates {
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
	fmt.Fprintf(&b, "queue: %s   pool %s: %s   tasks: %s\n", queueText(s), poolID, poolText(s), tasksText(s))
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "! %s\n", oneLine(p, 110))
	}
	if len(s.Files) > 0 {
		fmt.Fprintf(&b, "  %-10s %-*s %10s  %s\n", "STATE", nameWidth, "FILE", "INPUT", "OUTPUT / REASON")
	}
	shown := shownFiles(s.Files, limit)
	for _, f := range shown {
		renderFile(&b, f, full)
	}
	if left := len(s.Files) - len(shown); left > 0 {
		fmt.Fprintf(&b, "… %d more file(s) not shown (--limit %d: files in flight first, then the most recent); %s\n", left, limit, seeMore)
	}
	out := b.String()
	io.WriteString(w, out)
	return strings.Count(out, "\n")
}

func renderFile(b *strings.Builder, f fileView, full bool) {
	size := humanBytes(f.InputSize)
	if f.State == stateUnknown {
		size = "-"
	}
	width := reasonWidth
	if full {
		width = 0
	}
	fmt.Fprintf(b, "  %-10s %-*s %10s  %s\n", f.State, nameWidth, oneLine(f.Blob, nameWidth), size, outcome(f, width))
	if !full || f.OutputBlob != "" {
		return
	}
	for _, l := range lastLines(f.Stderr, stderrLines) {
		fmt.Fprintf(b, "%*sstderr: %s\n", detailIndent, "", l)
	}
}

func queueText(s snapshot) string {
	if s.Queue < 0 {
		return "?"
	}
	return fmt.Sprint(s.Queue)
}

func poolText(s snapshot) string {
	if s.Nodes < 0 {
		return "no pool"
	}
	return fmt.Sprintf("%d node(s), %s", s.Nodes, s.PoolState)
}

func tasksText(s snapshot) string {
	if s.Tasks == nil {
		return "no job"
	}
	return fmt.Sprintf("%d running, %d active, %d completed", s.Tasks.Running, s.Tasks.Active, s.Tasks.Completed)
}

// outcome is the output of a file, or why it has none; the reason is cut
// to width runes (0: not cut).
func outcome(f fileView, width int) string {
	switch {
	case f.OutputBlob != "" && f.OutputSize >= 0:
		return fmt.Sprintf("%s (%s)", f.OutputBlob, humanBytes(f.OutputSize))
	case width > 0:
		return oneLine(f.Reason, width)
	}
	return flat(f.Reason)
}

// flat puts s on one line, whitespace runs made single spaces.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// oneLine keeps s on one line of at most n runes.
func oneLine(s string, n int) string {
	s = flat(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// unanswered reports whether a file is finished without an MP3: the
// files whose reasons the live view prints in full.
func (v fileView) unanswered() bool {
	return v.terminal() && v.State != results.StateSucceeded
}

// liveView prints successive snapshots: redrawn in place on a terminal,
// otherwise one line per file state change. Either way, a file that ends
// without an MP3 gets its full reason printed once, in lines that stay.
type liveView struct {
	w      io.Writer
	tty    bool
	poolID string
	limit  int                      // files with a line in the block (tty; 0: all)
	lines  int                      // lines of the block drawn last time (tty)
	last   map[string]results.State // last shown state per file
	done   int
}

func (v *liveView) show(s snapshot, elapsed time.Duration) {
	changed := v.changed(s.Files)
	if v.tty {
		v.redraw(s, elapsed, changed)
		return
	}
	v.printChanges(s, elapsed, changed)
}

// changed returns the files whose state differs from the one shown last
// time, and remembers the new states.
func (v *liveView) changed(files []fileView) []fileView {
	if v.last == nil {
		v.last = map[string]results.State{}
	}
	var out []fileView
	for _, f := range files {
		if prev, ok := v.last[f.Blob]; ok && prev == f.State {
			continue
		}
		v.last[f.Blob] = f.State
		out = append(out, f)
	}
	return out
}

// redraw replaces the block drawn last time; the full reasons of files
// that just ended without an MP3 go above it, where they stay.
func (v *liveView) redraw(s snapshot, elapsed time.Duration, changed []fileView) {
	if v.lines > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.lines)
	}
	for _, f := range changed {
		if f.unanswered() {
			fmt.Fprintf(v.w, "%s %s\n", f.State, f.Blob)
			for _, l := range details(f) {
				fmt.Fprintf(v.w, "  %s\n", l)
			}
		}
	}
	v.lines = render(v.w, s, elapsed, v.poolID, false, v.limit)
}

// printChanges prints one line per changed file, the output of a success
// or the full reason of a file without an MP3, and the done count when it
// moved.
func (v *liveView) printChanges(s snapshot, elapsed time.Duration, changed []fileView) {
	at := elapsed.Round(100 * time.Millisecond)
	for _, f := range changed {
		line := fmt.Sprintf("%7s  %-10s %s", at, f.State, f.Blob)
		if f.State == results.StateSucceeded && f.terminal() {
			line += "  " + outcome(f, 0)
		}
		fmt.Fprintln(v.w, line)
		if f.unanswered() {
			for _, l := range details(f) {
				fmt.Fprintf(v.w, "%9s%s\n", "", l)
			}
		}
	}
	if done, _ := counts(s.Files); done != v.done {
		v.done = done
		fmt.Fprintf(v.w, "%7s  %s %d/%d done\n", at, bar(done, len(s.Files)), done, len(s.Files))
	}
}
