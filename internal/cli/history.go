package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// renderHistory prints every request the status record of each file keeps
// that was queued at or after cutoff (zero: all), oldest first: what
// happened to each request, not only the last one.
func renderHistory(w io.Writer, files []fileView, cutoff time.Time) {
	for _, f := range files {
		if f.Record == nil {
			continue
		}
		var reqs []*lifecycle.Entry
		for i := range f.Record.Requests {
			if e := &f.Record.Requests[i]; !e.QueuedAt.Before(cutoff) {
				reqs = append(reqs, e)
			}
		}
		if len(reqs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %d request(s)\n", f.Blob, len(reqs))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  WHEN\tREQUEST\tSOURCE\tPRESET\tSTATE\tDETAIL")
		for _, e := range reqs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", e.QueuedAt.Local().Format("2006-01-02 15:04:05"),
				shortID(e.ID), e.Source, e.Preset, e.State, requestDetail(e))
		}
		tw.Flush()
	}
}

// requestDetail is what a request produced or why it did not.
func requestDetail(e *lifecycle.Entry) string {
	var parts []string
	switch {
	case e.MP3 != nil && e.Reused != nil:
		parts = append(parts, e.MP3.Blob+" (reused from "+shortID(e.Reused.Request)+")")
	case e.MP3 != nil:
		parts = append(parts, e.MP3.Blob)
	case e.SharedWith != "":
		parts = append(parts, "shares the task of "+shortID(e.SharedWith))
	}
	if r := reason(e); r != "" {
		parts = append(parts, flat(r))
	}
	if e.Attempt > 0 {
		parts = append(parts, fmt.Sprintf("attempt %d", e.Attempt+1))
	}
	if e.Correlation != "" {
		parts = append(parts, "correlation "+e.Correlation)
	}
	return strings.Join(parts, "; ")
}

// shortID cuts a long request id for a table.
func shortID(id string) string {
	if len(id) > 24 {
		return id[:21] + "…"
	}
	return id
}
