package plan

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ffbatch/ffbatch/internal/batch"
)

func marshalFile(f File) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("plan task: marshal file: %w", err)
	}
	return string(b), nil
}

// ErrNoFile means a task carries no FFBATCH_FILE setting (it was not
// created by SubmitTasks).
var ErrNoFile = errors.New("task has no " + EnvFile + " environment setting")

// FileOf recovers the File a task was planned for.
func FileOf(t *batch.Task) (File, error) {
	for _, e := range t.EnvironmentSettings {
		if e.Name == EnvFile {
			var f File
			if err := json.Unmarshal([]byte(e.Value), &f); err != nil {
				return File{}, fmt.Errorf("task %s: decode %s: %w", t.ID, EnvFile, err)
			}
			return f, nil
		}
	}
	return File{}, fmt.Errorf("task %s: %w", t.ID, ErrNoFile)
}
