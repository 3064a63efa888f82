package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

// Row is a file as one line of a listing: the summary of its record's
// current request. The record's blob metadata carries it (metadata.go), so
// a page of rows is one List Blobs request and no reads.
type Row struct {
	Container string `json:"container"`
	Blob      string `json:"blob"`
	// BlobCut is set when Blob is only the start of the name: a name too
	// long for both the record name and the metadata budget.
	BlobCut bool          `json:"blobCut,omitempty"`
	State   results.State `json:"state"`
	// Request is the current request's id; Requests how many the record
	// keeps.
	Request  string `json:"request,omitempty"`
	Requests int    `json:"requests,omitempty"`
	Preset   string `json:"preset,omitempty"`
	TaskID   string `json:"taskId,omitempty"`
	// Size is the input's length in bytes.
	Size int64 `json:"size,omitempty"`
	// Output is the MP3 blob (made, or to be made); OutputCut as BlobCut.
	Output    string `json:"output,omitempty"`
	OutputCut bool   `json:"outputCut,omitempty"`
	// OutputSize is the MP3's length in bytes, when known.
	OutputSize int64 `json:"outputSize,omitempty"`
	// Reused is set when the answer is the MP3 of identical work done before.
	Reused   bool  `json:"reused,omitempty"`
	Attempt  int   `json:"attempt,omitempty"`
	Retries  int32 `json:"retries,omitempty"`
	Requeues int32 `json:"requeues,omitempty"`
	// AudioMillis is the MP3's duration, when ffmpeg's log told it.
	AudioMillis int64 `json:"audioMillis,omitempty"`
	// Reason says why a request failed, was rejected or ignored, in one
	// line; Stderr is the end of ffmpeg's stderr of a failure.
	Reason string `json:"reason,omitempty"`
	Stderr string `json:"stderr,omitempty"`

	QueuedAt    time.Time `json:"queuedAt,omitzero"`
	SubmittedAt time.Time `json:"submittedAt,omitzero"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
	AnsweredAt  time.Time `json:"answeredAt,omitzero"`
	// UpdatedAt is when the record was last written (the blob's
	// Last-Modified).
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// Bounds of the free text a row carries, before escaping.
const (
	maxReasonBytes = 240
	maxStderrBytes = 480
)

// RowOf is the row of a record: its current request; ok is false for a
// record without requests.
func RowOf(r *Record) (Row, bool) {
	e := r.Current()
	if e == nil {
		return Row{}, false
	}
	row := Row{
		Container: r.Container, Blob: r.Blob, State: e.State, Request: e.ID, Requests: len(r.Requests),
		Preset: e.Preset, TaskID: e.TaskID, Size: e.Size, Output: e.Output, OutputSize: e.MP3Size,
		Reused: e.Reused != nil, Attempt: e.Attempt, Retries: e.Retries, Requeues: e.Requeues,
		AudioMillis: e.AudioMillis, Reason: results.Excerpt(ShortReason(e), maxReasonBytes),
		QueuedAt: e.QueuedAt, SubmittedAt: e.SubmittedAt, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt,
		AnsweredAt: e.AnsweredAt, UpdatedAt: r.UpdatedAt,
	}
	if e.MP3 != nil {
		row.Output = e.MP3.Blob
	}
	if e.Failure != nil && e.Failure.Stderr != "" {
		row.Stderr = tail(e.Failure.Stderr, maxStderrBytes)
	}
	return row, true
}

// ShortReason says in one line why a request failed, was rejected or was
// ignored: "" otherwise.
func ShortReason(e *Entry) string {
	switch {
	case e.Failure != nil:
		f := e.Failure
		r := string(f.Category)
		if f.Code != "" {
			r += " " + f.Code
		}
		if f.ExitCode != nil {
			r += fmt.Sprintf(" exit %d", *f.ExitCode)
		}
		if f.Message != "" {
			r += ": " + f.Message
		}
		return oneLine(r)
	case e.Rejection != nil:
		return oneLine(e.Rejection.Reason + ": " + e.Rejection.Message)
	}
	return ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// tail keeps the last n bytes of s, from a line start when one is near.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[len(s)-n:]
	if i := strings.IndexByte(cut, '\n'); i >= 0 && i < n/2 {
		cut = cut[i+1:]
	}
	return strings.ToValidUTF8(cut, "")
}
