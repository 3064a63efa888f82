package results

import (
	"github.com/ffbatch/ffbatch/internal/batch"
)

// Outcome is how a completed task ended for the pipeline.
type Outcome string

const (
	// OutcomeSuccess: ffmpeg exited 0 and the MP3 was uploaded.
	OutcomeSuccess Outcome = "success"
	// OutcomePermanent: trying again would fail the same way (ffmpeg
	// rejected the input after Batch's retries, the input is gone).
	OutcomePermanent Outcome = "permanent"
	// OutcomeTransient: the file may well succeed if resubmitted
	// (preemption, node or service problems, upload or download errors,
	// an expired SAS).
	OutcomeTransient Outcome = "transient"
)

// Category is the pipeline's failure category, coarser than Batch codes.
type Category string

const (
	CategoryFFmpeg   Category = "ffmpeg"   // non-zero exit after retries
	CategoryInput    Category = "input"    // input blob missing
	CategoryDownload Category = "download" // input download failed or was denied
	CategoryUpload   Category = "upload"   // output or log upload failed
	CategoryNode     Category = "node"     // node trouble: preemption, disk, ffmpeg missing, launch
	CategoryTimeout  Category = "timeout"  // task ended (wall clock or terminated)
	CategoryService  Category = "service"  // Batch servererror
	CategoryTask     Category = "task"     // task definition refused (a planning bug)
	CategoryRejected Category = "rejected" // invalid arrival message
	CategoryLost     Category = "lost"     // task vanished from Batch without a completion
	// CategoryDeadLetter: the request's arrival went to the dead-letter
	// queue more often than SweepPools retries it.
	CategoryDeadLetter Category = "deadletter"
)

// Codes of the failures that settling decides after a task succeeded in
// Batch (Failure.Code; Batch's own codes are PascalCase).
const (
	// CodeInputChanged (category input, permanent): the input blob was
	// written after the request was accepted and the task's report does
	// not prove it read the requested version (or a newer version's MP3
	// is already at the output).
	CodeInputChanged = "input_changed"
	// CodeVersionNotFound (category input, permanent): the requested
	// version is not the blob's (it never existed, was replaced before the
	// request was accepted, or the blob is gone).
	CodeVersionNotFound = "version_not_found"
	// CodeOutputMissing (category upload, transient): the task's MP3 is
	// not in storage (the write was lost).
	CodeOutputMissing = "output_missing"
	// CodeOutputIncomplete (category upload, transient): the stored MP3 is
	// empty or not the length the task reported.
	CodeOutputIncomplete = "output_incomplete"
)

// Classification is the result of Classify.
type Classification struct {
	Outcome  Outcome
	Category Category // empty on success
	// BatchCategory, Code and Message are Batch's failureInfo.
	BatchCategory string
	Code          string
	Message       string
	// ExitCode is the process exit code, nil if the process never ran.
	ExitCode *int32
}

// codeClass is what a Batch failureInfo code means for the pipeline.
type codeClass struct {
	cat     Category
	outcome Outcome
}

// codeGroups lists Batch failureInfo codes (as listed by the Batch SDKs'
// TaskFailureInformationCodes and seen from the emulator) by category and
// outcome. Codes not listed follow the Batch category: servererror is
// transient, usererror permanent.
var codeGroups = []struct {
	codeClass
	codes []string
}{
	{codeClass{CategoryFFmpeg, OutcomePermanent}, []string{"FailureExitCode"}},
	{codeClass{CategoryInput, OutcomePermanent}, []string{"BlobNotFound"}},
	// BlobAccessDenied is typically an expired SAS: a resubmission signs a new one.
	{codeClass{CategoryDownload, OutcomeTransient}, []string{"BlobAccessDenied", "BlobDownloadMiscError", "BlobDownloadTimedOut"}},
	// CommandProgramNotFound: ffmpeg missing on that node.
	{codeClass{CategoryNode, OutcomeTransient}, []string{"ResourceDirectoryCreateFailed", "ResourceFileCreateFailed",
		"ResourceFileWriteFailed", "TaskDirectoryCreateFailed", "DiskFull", "CommandProgramNotFound", "CommandLaunchFailed",
		"NodePreempted", "TaskPreempted", "NodeUnusable"}},
	// Batch does not retry uploads.
	{codeClass{CategoryUpload, OutcomeTransient}, []string{"FileUploadMiscError", "FileUploadContainerNotFound", "FileUploadAuthenticationError"}},
	{codeClass{CategoryTimeout, OutcomeTransient}, []string{"TaskEnded"}},
	{codeClass{CategoryTask, OutcomePermanent}, []string{"InvalidResourceFile", "InvalidOutputFile", "InvalidCommandLine"}},
}

// codeTable is codeGroups by code.
var codeTable = func() map[string]codeClass {
	m := map[string]codeClass{}
	for _, g := range codeGroups {
		for _, c := range g.codes {
			m[c] = g.codeClass
		}
	}
	return m
}()

// Classify decides what a completed task means. A task that is not
// completed yet is reported as transient with an empty code; callers
// should only pass completed tasks.
func Classify(t *batch.Task) Classification {
	ei := t.ExecutionInfo
	if t.State != batch.TaskStateCompleted || ei == nil {
		return Classification{Outcome: OutcomeTransient, Category: CategoryService, Message: "task is not completed"}
	}
	c := Classification{ExitCode: ei.ExitCode}
	fi := ei.FailureInfo
	if fi == nil {
		if ei.Result == batch.TaskExecutionResultSuccess || (ei.Result == "" && ei.ExitCode != nil && *ei.ExitCode == 0) {
			c.Outcome = OutcomeSuccess
			return c
		}
		// A failure without failureInfo: judge by the exit code.
		c.Outcome, c.Category = OutcomePermanent, CategoryFFmpeg
		c.Message = "task failed without failure information"
		return c
	}
	c.BatchCategory, c.Code, c.Message = string(fi.Category), fi.Code, fi.Message
	if e, ok := codeTable[fi.Code]; ok {
		c.Category, c.Outcome = e.cat, e.outcome
		return c
	}
	if fi.Category == batch.ErrorCategoryServerError {
		c.Category, c.Outcome = CategoryService, OutcomeTransient
		return c
	}
	c.Category, c.Outcome = CategoryTask, OutcomePermanent
	if ei.ExitCode != nil && *ei.ExitCode != 0 {
		c.Category = CategoryFFmpeg
	}
	return c
}
