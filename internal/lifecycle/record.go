package lifecycle

import (
	"slices"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// MaxHistory bounds the requests a record keeps: beyond it the oldest
// answered requests are dropped (requests still in flight never are).
const MaxHistory = 50

// Record is the status record of one input blob (one JSON blob in the
// status container): every request made for it, oldest first.
type Record struct {
	Container string    `json:"container"`
	Blob      string    `json:"blob"`
	Requests  []Entry   `json:"requests"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Entry is one request and how far it got.
type Entry struct {
	request.Request
	State results.State `json:"state"`
	// TaskID is the Batch task doing this request's work: its own, or the
	// task of the request named by SharedWith.
	TaskID string `json:"taskId,omitempty"`
	// SharedWith is the id of the request whose task does this request's
	// work; empty when the request owns its task.
	SharedWith string         `json:"sharedWith,omitempty"`
	Reused     *results.Reuse `json:"reused,omitempty"`
	// MP3 is where the MP3 is, once succeeded; MP3Size its length in
	// bytes and AudioMillis its duration, when known.
	MP3         *results.Output `json:"mp3,omitempty"`
	MP3Size     int64           `json:"mp3Size,omitempty"`
	AudioMillis int64           `json:"audioMillis,omitempty"`
	// Audio says which of the input's audio streams the MP3 holds, when
	// ffmpeg's log tells.
	Audio     *results.Audio     `json:"audio,omitempty"`
	Logs      string             `json:"logs,omitempty"`
	Failure   *results.Failure   `json:"failure,omitempty"`
	Rejection *results.Rejection `json:"rejection,omitempty"`
	Retries   int32              `json:"retries,omitempty"`
	Requeues  int32              `json:"requeues,omitempty"`
	// Resends counts the times SweepPools sent the request's arrival
	// again (recovery.go); each resend's message id carries the count.
	Resends int `json:"resends,omitempty"`
	// DeadLetters counts the request's arrivals that went to the
	// dead-letter queue.
	DeadLetters int `json:"deadLetters,omitempty"`

	QueuedAt    time.Time `json:"queuedAt,omitzero"`
	SubmittedAt time.Time `json:"submittedAt,omitzero"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
	// AnsweredAt is when the request got its terminal state: the time of
	// its result event.
	AnsweredAt time.Time `json:"answeredAt,omitzero"`
}

// owner reports whether e owns the task it waits on (it does not share
// another request's).
func (e *Entry) owner() bool { return e.SharedWith == "" }

// Current is the latest request, whose state is the file's; nil for a
// record without requests.
func (r *Record) Current() *Entry {
	if len(r.Requests) == 0 {
		return nil
	}
	return &r.Requests[len(r.Requests)-1]
}

// Find returns the entry of request id, or nil.
func (r *Record) Find(id string) *Entry {
	for i := range r.Requests {
		if r.Requests[i].ID == id {
			return &r.Requests[i]
		}
	}
	return nil
}

// add appends e and returns a pointer to the stored entry.
func (r *Record) add(e Entry) *Entry {
	r.Requests = append(r.Requests, e)
	return &r.Requests[len(r.Requests)-1]
}

// onTask returns the entries whose work task id does.
func (r *Record) onTask(taskID string) []*Entry {
	var out []*Entry
	for i := range r.Requests {
		if r.Requests[i].TaskID == taskID {
			out = append(out, &r.Requests[i])
		}
	}
	return out
}

// sharers returns the entries that share owner's task.
func (r *Record) sharers(ownerID string) []*Entry {
	var out []*Entry
	for i := range r.Requests {
		if r.Requests[i].SharedWith == ownerID && !r.Requests[i].State.Terminal() {
			out = append(out, &r.Requests[i])
		}
	}
	return out
}

// InFlightTasks returns the distinct task ids that requests own and wait
// on: the tasks that should exist in Batch.
func (r *Record) InFlightTasks() []string {
	var out []string
	for _, e := range r.Requests {
		if e.State.InFlight() && e.owner() && e.TaskID != "" && !slices.Contains(out, e.TaskID) {
			out = append(out, e.TaskID)
		}
	}
	return out
}

// trim drops the oldest answered requests beyond MaxHistory.
func (r *Record) trim() {
	for i := 0; len(r.Requests) > MaxHistory && i < len(r.Requests); {
		if r.Requests[i].State.Terminal() {
			r.Requests = slices.Delete(r.Requests, i, i+1)
			continue
		}
		i++
	}
}
