package results

import "github.com/ffbatch/ffbatch/internal/batch"

// StateForTask maps the live state of a submitted file's Batch task to the
// state reported for the file. A task that is preparing or running reports
// StateRunning, and so does a completed task, because its outcome is recorded
// only by the next sweep. ok is false when the task state says nothing beyond
// StateSubmitted (active, or a state this package does not know).
func StateForTask(s batch.TaskState) (State, bool) {
	switch s {
	case batch.TaskStatePreparing, batch.TaskStateRunning, batch.TaskStateCompleted:
		return StateRunning, true
	}
	return "", false
}
