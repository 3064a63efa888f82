package results

import (
	"testing"

	"github.com/ffbatch/ffbatch/internal/batch"
)

func completed(result batch.TaskExecutionResult, exit *int32, fi *batch.FailureInfo) *batch.Task {
	return &batch.Task{ID: "t", State: batch.TaskStateCompleted, ExecutionInfo: &batch.TaskExecutionInfo{Result: result, ExitCode: exit, FailureInfo: fi}}
}

func i32(v int32) *int32 { return &v }

func TestClassify(t *testing.T) {
	user := func(code string) *batch.FailureInfo {
		return &batch.FailureInfo{Category: batch.ErrorCategoryUserError, Code: code, Message: "m"}
	}
	server := func(code string) *batch.FailureInfo {
		return &batch.FailureInfo{Category: batch.ErrorCategoryServerError, Code: code, Message: "m"}
	}
	tests := []struct {
		name    string
		task    *batch.Task
		outcome Outcome
		cat     Category
	}{
		{"success", completed(batch.TaskExecutionResultSuccess, i32(0), nil), OutcomeSuccess, ""},
		{"success without result field", completed("", i32(0), nil), OutcomeSuccess, ""},
		{"ffmpeg failed after retries", completed(batch.TaskExecutionResultFailure, i32(1), user("FailureExitCode")), OutcomePermanent, CategoryFFmpeg},
		{"input deleted", completed(batch.TaskExecutionResultFailure, nil, user("BlobNotFound")), OutcomePermanent, CategoryInput},
		{"expired SAS on download", completed(batch.TaskExecutionResultFailure, nil, user("BlobAccessDenied")), OutcomeTransient, CategoryDownload},
		{"download error", completed(batch.TaskExecutionResultFailure, nil, user("BlobDownloadMiscError")), OutcomeTransient, CategoryDownload},
		{"upload error", completed(batch.TaskExecutionResultFailure, i32(0), user("FileUploadMiscError")), OutcomeTransient, CategoryUpload},
		{"upload container missing", completed(batch.TaskExecutionResultFailure, i32(0), user("FileUploadContainerNotFound")), OutcomeTransient, CategoryUpload},
		{"preempted", completed(batch.TaskExecutionResultFailure, nil, server("NodePreempted")), OutcomeTransient, CategoryNode},
		{"ffmpeg missing on node", completed(batch.TaskExecutionResultFailure, nil, user("CommandProgramNotFound")), OutcomeTransient, CategoryNode},
		{"disk full", completed(batch.TaskExecutionResultFailure, nil, user("DiskFull")), OutcomeTransient, CategoryNode},
		{"wall clock or terminated", completed(batch.TaskExecutionResultFailure, i32(137), user("TaskEnded")), OutcomeTransient, CategoryTimeout},
		{"unknown server error", completed(batch.TaskExecutionResultFailure, nil, server("SomethingNew")), OutcomeTransient, CategoryService},
		{"unknown user error with exit code", completed(batch.TaskExecutionResultFailure, i32(2), user("SomethingNew")), OutcomePermanent, CategoryFFmpeg},
		{"unknown user error", completed(batch.TaskExecutionResultFailure, nil, user("SomethingNew")), OutcomePermanent, CategoryTask},
		{"emulator-only invalid command line", completed(batch.TaskExecutionResultFailure, nil, user("InvalidCommandLine")), OutcomePermanent, CategoryTask},
		{"failure without failure info", completed(batch.TaskExecutionResultFailure, i32(1), nil), OutcomePermanent, CategoryFFmpeg},
		{"not completed", &batch.Task{State: batch.TaskStateRunning}, OutcomeTransient, CategoryService},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify(tc.task)
			if c.Outcome != tc.outcome || c.Category != tc.cat {
				t.Errorf("Classify = %s/%s, want %s/%s", c.Outcome, c.Category, tc.outcome, tc.cat)
			}
			if fi := tc.task.ExecutionInfo; fi != nil && fi.FailureInfo != nil && c.Code != fi.FailureInfo.Code {
				t.Errorf("Code = %q, want %q", c.Code, fi.FailureInfo.Code)
			}
		})
	}
}
