package results

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ffbatch/ffbatch/internal/request"
)

// SchemaVersion is the value of Event.Schema for this version of the
// result event. v2 answers requests (v1 answered file versions).
const SchemaVersion = "ffbatch.result/v2"

// Status is a request's outcome as reported by its event.
type Status string

const (
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusRejected  Status = "rejected"
	StatusIgnored   Status = "ignored"
)

// Event is one result event: exactly one per request, published to the
// results topic with MessageId = ID = request.ResultID(request id).
type Event struct {
	Schema  string      `json:"schema"`
	ID      string      `json:"id"`
	Status  Status      `json:"status"`
	Time    time.Time   `json:"time"`
	Request *RequestRef `json:"request,omitempty"` // absent only for a message that could not be parsed
	// File is the input; absent for rejections that could not name one.
	File   *request.Version `json:"file,omitempty"`
	Preset string           `json:"preset,omitempty"`
	TaskID string           `json:"taskId,omitempty"`

	Output    *Output    `json:"output,omitempty"`    // succeeded
	Audio     *Audio     `json:"audio,omitempty"`     // succeeded: the audio stream used, when known
	Reused    *Reuse     `json:"reused,omitempty"`    // succeeded without transcoding
	Logs      string     `json:"logs,omitempty"`      // URL prefix of stdout.txt / stderr.txt, no SAS
	Timings   *Timings   `json:"timings,omitempty"`   // succeeded and failed
	Attempts  *Attempts  `json:"attempts,omitempty"`  // succeeded and failed
	Failure   *Failure   `json:"failure,omitempty"`   // failed
	Rejection *Rejection `json:"rejection,omitempty"` // rejected and ignored
}

// RequestRef names the request an event answers.
type RequestRef struct {
	ID          string `json:"id"`
	Source      string `json:"source,omitempty"`
	Correlation string `json:"correlation,omitempty"`
	Force       bool   `json:"force,omitempty"`
}

// Reuse says that a request was answered with the MP3 another request
// made (the same content, preset and output), without transcoding again.
type Reuse struct {
	Request string `json:"request"`
	TaskID  string `json:"taskId,omitempty"`
}

// Output is where the MP3 is. URL carries no SAS: consumers use their own
// credentials.
type Output struct {
	URL       string `json:"url"`
	Container string `json:"container"`
	Blob      string `json:"blob"`
}

// Timings are the file's milestones and derived durations in milliseconds.
type Timings struct {
	SubmittedAt time.Time `json:"submittedAt,omitzero"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
	// QueueMillis is submitted → started; RunMillis started → finished;
	// TotalMillis submitted → finished.
	QueueMillis int64 `json:"queueMillis"`
	RunMillis   int64 `json:"runMillis"`
	TotalMillis int64 `json:"totalMillis"`
}

// NewTimings fills the durations from the milestones; a missing milestone
// leaves the durations that need it at 0.
func NewTimings(submitted, started, finished time.Time) *Timings {
	t := &Timings{SubmittedAt: submitted.UTC(), StartedAt: started.UTC(), FinishedAt: finished.UTC()}
	ms := func(a, b time.Time) int64 {
		if a.IsZero() || b.IsZero() || b.Before(a) {
			return 0
		}
		return b.Sub(a).Milliseconds()
	}
	t.QueueMillis = ms(submitted, started)
	t.RunMillis = ms(started, finished)
	t.TotalMillis = ms(submitted, finished)
	return t
}

// Attempts counts tries at each level.
type Attempts struct {
	Retries   int32 `json:"retries"`   // Batch retries after non-zero exits
	Requeues  int32 `json:"requeues"`  // Batch requeues (node recovery, preemption)
	Resubmits int   `json:"resubmits"` // SweepPools resubmissions
}

// Failure describes a failed file.
type Failure struct {
	Category      Category `json:"category"`
	Transient     bool     `json:"transient"` // true when resubmissions ran out
	Code          string   `json:"code,omitempty"`
	BatchCategory string   `json:"batchCategory,omitempty"`
	Message       string   `json:"message,omitempty"`
	ExitCode      *int32   `json:"exitCode,omitempty"`
	Stderr        string   `json:"stderr,omitempty"` // the end of stderr.txt
}

// Rejection says why a request was rejected (invalid or not allowed) or
// ignored (a drop that is not an MP4).
type Rejection struct {
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
	Problems  []Problem `json:"problems,omitempty"`
	MessageID string    `json:"messageId,omitempty"`
	// Body is the start of the rejected message, for diagnosis.
	Body string `json:"body,omitempty"`
}

// Problem is one validation problem of a rejected message.
type Problem struct {
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Marshal encodes the event; it checks the invariants of its status.
func (e *Event) Marshal() ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("marshal result event: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("marshal result event: %w", err)
	}
	return b, nil
}

func (e *Event) check() error {
	if e.Schema != SchemaVersion || e.ID == "" || e.Time.IsZero() {
		return fmt.Errorf("event needs schema %s, an id and a time", SchemaVersion)
	}
	switch e.Status {
	case StatusSucceeded:
		if e.Output == nil || e.File == nil {
			return fmt.Errorf("succeeded event needs file and output")
		}
		if strings.Contains(e.Output.URL, "?") {
			return fmt.Errorf("output URL must not carry a query (SAS)")
		}
	case StatusFailed:
		if e.Failure == nil || e.File == nil {
			return fmt.Errorf("failed event needs file and failure")
		}
	case StatusRejected, StatusIgnored:
		if e.Rejection == nil {
			return fmt.Errorf("%s event needs rejection", e.Status)
		}
	default:
		return fmt.Errorf("unknown status %q", e.Status)
	}
	return nil
}

// MaxStderrBytes bounds the stderr excerpt in a failure.
const MaxStderrBytes = 2048

// StderrExcerpt returns the end of stderr (the part that names the error),
// at most MaxStderrBytes, cut on a UTF-8 boundary.
func StderrExcerpt(stderr []byte) string {
	s := stderr
	if len(s) > MaxStderrBytes {
		s = s[len(s)-MaxStderrBytes:]
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
	}
	return strings.ToValidUTF8(strings.TrimSpace(string(s)), "\uFFFD")
}

// Excerpt cuts s to n bytes on a UTF-8 boundary.
func Excerpt(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	cut := s[:n]
	for len(cut) > 0 && !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	return cut + "…"
}
