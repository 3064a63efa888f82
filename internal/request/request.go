package request

import (
	"fmt"
	"strconv"
)

// Source is where a request came from.
type Source string

const (
	// SourceDrop is a blob committed to the watched input container
	// (BlobCreated).
	SourceDrop Source = "drop"
	// SourceMessage is an arrival message sent by an upstream system or
	// the ffbatch CLI.
	SourceMessage Source = "message"
)

// MaxIDLen bounds a request id: a Service Bus MessageId is at most 128
// characters.
const MaxIDLen = 128

// Request is one request to transcode a Version, with its preset and
// output resolved. The JSON form is the FFBATCH_FILE task variable and the
// request part of a status record.
type Request struct {
	// ID is unique per request: the arrival's "request" field, else its
	// Service Bus MessageId, else DefaultID. Every request gets exactly
	// one result event, whose id is ResultID(ID).
	ID string `json:"request,omitempty"`
	Version
	Preset string `json:"preset"`
	Output string `json:"output"`
	// Correlation is the producer's opaque id, echoed in the result.
	Correlation string `json:"correlation,omitempty"`
	Source      Source `json:"source,omitempty"`
	// Force transcodes again even when the same work already succeeded.
	Force bool `json:"force,omitempty"`
	// Overwrite lets the request write an output that another input or
	// preset owns.
	Overwrite bool `json:"overwrite,omitempty"`
	// Attempt counts SweepPools' resubmissions of this request.
	Attempt int `json:"resubmit,omitempty"`
}

// SameWork reports whether r and o ask for the same MP3: the same content,
// preset and output name.
func (r Request) SameWork(o Request) bool {
	return r.Version.SameContent(o.Version) && r.Preset == o.Preset && r.Output == o.Output
}

// DefaultID is the id of a request that names none, derived from
// everything it asks for, so that a resend of the same request is the same
// request and a request that differs in anything (preset, output,
// correlation, force, overwrite) is another one. Empty preset and output
// mean the defaults. docs/messages.md gives a test vector.
func DefaultID(v Version, preset, output, correlation string, force, overwrite bool) string {
	return "arrival-" + Hash(v.Container, v.Blob, v.ETag, preset, output, correlation, flag(force), flag(overwrite))[:64]
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// ResultID is the id (and Service Bus MessageId) of the one result event
// of request id: duplicate detection on the results topic keys on the
// request.
func ResultID(id string) string { return "result-" + Hash(id)[:64] }

// AttemptMessageID is the MessageId of resubmission n (n ≥ 1) of request
// id: distinct from the request's own id and from every other attempt, and
// at most MaxIDLen characters.
func AttemptMessageID(id string, n int) string {
	suffix := "-r" + strconv.Itoa(n)
	if len(id)+len(suffix) > MaxIDLen {
		id = "request-" + Hash(id)[:64]
	}
	return id + suffix
}

// ResendMessageID is the MessageId of resend n (n ≥ 1) of attempt attempt
// of request id: SweepPools sending a waiting request's arrival again
// (internal/lifecycle, recovery.go). n is recorded before the send, so no
// two sends share an id and duplicate detection never drops a resend as a
// repeat of an earlier send that was lost. At most MaxIDLen characters.
func ResendMessageID(id string, attempt, n int) string {
	suffix := "-r" + strconv.Itoa(attempt) + "-s" + strconv.Itoa(n)
	if len(id)+len(suffix) > MaxIDLen {
		id = "request-" + Hash(id)[:64]
	}
	return id + suffix
}

// TaskID is the Batch task id of attempt n of r: "t-" and 62 lowercase
// hex digits of a SHA-256, so it is at most 64 characters of [a-z0-9-]
// and case-insensitive uniqueness cannot merge two different works.
//
// The first attempt's id derives from the work, not the request: the
// file, its content (ContentKey), the preset and the output, and for a
// forced request its id (force asks for a transcode of its own). Identical
// requests racing in different SubmitTasks invocations get the same id,
// so Batch (AddTasks treats TaskExists as success) keeps one task for
// them, and a redelivered request gets the same id again. A resubmission
// (n ≥ 1) is the request's own: its id derives from the request and n.
func TaskID(r Request, n int) string {
	if n == 0 {
		nonce := ""
		if r.Force {
			nonce = r.ID
		}
		return "t-" + Hash("work", r.Container, r.Blob, r.ContentKey(), r.Preset, r.Output, nonce)[:62]
	}
	return "t-" + Hash(r.ID, r.Container, r.Blob, r.ETag, r.Preset, r.Output, fmt.Sprint(n))[:62]
}
