package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// defaultLimit is how many files status and watch list without --limit
// or --all.
const defaultLimit = 50

// seeMore says how to see the files a bounded view leaves out.
const seeMore = "--all lists every file, --state STATE or --since DURATION narrows the list"

// shownFiles returns the files that get a line when at most limit may
// (limit <= 0: all of them, in name order): the files in flight in name
// order, then the finished ones, newest request first.
func shownFiles(files []fileView, limit int) []fileView {
	if limit <= 0 || len(files) <= limit {
		return files
	}
	var flight, done []fileView
	for _, f := range files {
		if f.terminal() {
			done = append(done, f)
		} else {
			flight = append(flight, f)
		}
	}
	slices.SortStableFunc(done, func(a, b fileView) int { return b.Since.Compare(a.Since) })
	return append(flight, done...)[:limit]
}

// renderPage writes the bounded status view: the Status API's page (what
// the dashboard shows), read at a cost that does not grow with the files.
// It counts the answers of the last hour (the activity summary), the
// arrivals queue and the Batch job's tasks, not every file; it lists the
// page's rows (the first files by name, with their live state) and the
// most recent answers, at most limit of each, and says what it left out.
func renderPage(w io.Writer, p statusapi.Page, poolID string, limit int) {
	var b strings.Builder
	t := p.Activity.Totals
	answered := t.Succeeded + t.Failed + t.Reused + t.Refused
	fmt.Fprintf(&b, "last %d min: %d answered (%d succeeded, %d reused, %d failed, %d rejected or ignored)\n",
		p.Activity.WindowMinutes, answered, t.Succeeded, t.Reused, t.Failed, t.Refused)
	fmt.Fprintf(&b, "queue: %s   pool %s: %s   tasks: %s\n", pageQueueText(p.Queue), poolID, pagePoolText(p.Pool), tasksText(snapshot{Tasks: p.Tasks}))
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "! %s\n", oneLine(pr, 110))
	}
	rows := p.Rows
	if len(rows) > limit {
		rows = rows[:limit]
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "\nFiles, first %d by name:\n", len(rows))
		fmt.Fprintf(&b, "  %-10s %-*s %10s  %s\n", "STATE", nameWidth, "FILE", "INPUT", "OUTPUT / REASON")
	}
	for _, r := range rows {
		v := rowView(r.Row, r.Size)
		if v.OutputBlob != "" && v.OutputSize < 0 {
			v.Reason = v.OutputBlob // the row does not record the MP3's size: its name alone
		}
		renderFile(&b, v, false)
	}
	recent := p.Activity.Recent
	if len(recent) > limit {
		recent = recent[:limit]
	}
	if len(recent) > 0 {
		fmt.Fprintf(&b, "\nMost recent answers, newest first:\n")
		fmt.Fprintf(&b, "  %-8s %-10s %-*s %s\n", "TIME", "STATE", nameWidth, "FILE", "OUTPUT / REASON")
	}
	for _, a := range recent {
		detail := a.Output
		if a.Reused {
			detail += " (reused)"
		}
		if a.Reason != "" {
			detail = a.Reason
		}
		fmt.Fprintf(&b, "  %-8s %-10s %-*s %s\n", a.Time.Local().Format(time.TimeOnly), a.State, nameWidth, oneLine(a.Blob, nameWidth), oneLine(detail, reasonWidth))
	}
	var left []string
	if p.Next != "" || len(p.Rows) > len(rows) {
		left = append(left, fmt.Sprintf("the files after the first %d by name", len(rows)))
	}
	if n := answered - len(recent); n > 0 {
		left = append(left, fmt.Sprintf("%d older answer(s) of the last %d min", n, p.Activity.WindowMinutes))
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "\nNot shown: %s. %s (listing every file reads every file's row: slower with many files).\n",
			strings.Join(left, " and "), seeMore)
	}
	io.WriteString(w, b.String())
}

func pageQueueText(q statusapi.Queue) string {
	if !q.Known {
		return "?"
	}
	return fmt.Sprint(q.Active + q.Scheduled)
}

func pagePoolText(p *statusapi.Pool) string {
	if p == nil {
		return "no pool"
	}
	return fmt.Sprintf("%d node(s), %s", p.CurrentDedicated+p.CurrentSpot, p.State)
}
