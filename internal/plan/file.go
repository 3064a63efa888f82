package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/request"
)

// TaskFile is the value of a task's FFBATCH_FILE variable: the request
// whose work the task does, and when SubmitTasks planned it.
type TaskFile struct {
	request.Request
	SubmittedAt time.Time `json:"submittedAt"`
}

func marshalFile(f TaskFile) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("plan task: marshal file: %w", err)
	}
	return string(b), nil
}

// ErrNoFile means a task carries no FFBATCH_FILE setting (it was not
// created by SubmitTasks).
var ErrNoFile = errors.New("task has no " + EnvFile + " environment setting")

// FileOf recovers the TaskFile a task was planned for. Tasks planned
// before requests had ids get the id their arrival would have had.
func FileOf(t *batch.Task) (TaskFile, error) {
	for _, e := range t.EnvironmentSettings {
		if e.Name == EnvFile {
			var f TaskFile
			if err := json.Unmarshal([]byte(e.Value), &f); err != nil {
				return TaskFile{}, fmt.Errorf("task %s: decode %s: %w", t.ID, EnvFile, err)
			}
			if f.ID == "" {
				f.ID = request.DefaultID(f.Version, "", "", f.Correlation, false, false)
			}
			return f, nil
		}
	}
	return TaskFile{}, fmt.Errorf("task %s: %w", t.ID, ErrNoFile)
}
