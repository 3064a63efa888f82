package cli

import (
	"fmt"
	"strings"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// stderrLines is how many lines of a failure's stderr excerpt the views
// show: ffmpeg's error and what led to it (the whole excerpt is in the
// task's logs: `ffbatch get --logs`).
const stderrLines = 3

// reason is why a request failed or was refused, in full: the failure's
// category, Batch code, exit code and message, or the rejection's reason
// and message.
func reason(st *lifecycle.Entry) string {
	switch {
	case st.Failure != nil:
		r := string(st.Failure.Category)
		if st.Failure.Code != "" {
			r += " " + st.Failure.Code
		}
		if st.Failure.ExitCode != nil {
			r += fmt.Sprintf(" exit %d", *st.Failure.ExitCode)
		}
		if st.Failure.Message != "" {
			r += ": " + st.Failure.Message
		}
		return r
	case st.Rejection != nil:
		return st.Rejection.Reason + ": " + st.Rejection.Message
	}
	return ""
}

// details are the lines that explain a file's state in full: the reason,
// not cut, and the last lines of ffmpeg's stderr.
func details(f fileView) []string {
	var out []string
	if f.Reason != "" {
		out = append(out, f.Reason)
	}
	for _, l := range lastLines(f.Stderr, stderrLines) {
		out = append(out, "stderr: "+l)
	}
	return out
}

// lastLines returns the last n non-blank lines of s, trimmed.
func lastLines(s string, n int) []string {
	var out []string
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			out = append([]string{l}, out...)
		}
	}
	return out
}
