package results

// State is where one request stands. A file's state is the state of its
// latest request.
type State string

const (
	StateQueued    State = "queued"    // arrival sent, not yet a task
	StateSubmitted State = "submitted" // its task was added to Batch, or it waits on another request's task
	StateRunning   State = "running"   // reported from the live task, never stored
	StateSucceeded State = "succeeded" // the MP3 exists (made for it, or reused)
	StateFailed    State = "failed"
	StateRejected  State = "rejected" // the request was invalid or not allowed
	StateIgnored   State = "ignored"  // a drop that is not for ffbatch (not an .mp4)
)

// Terminal reports whether s is final for a request: it has had its one
// result event.
func (s State) Terminal() bool {
	switch s {
	case StateSucceeded, StateFailed, StateRejected, StateIgnored:
		return true
	}
	return false
}

// InFlight reports whether s is a state in which a Batch task should exist
// for the request.
func (s State) InFlight() bool { return s == StateSubmitted || s == StateRunning }
