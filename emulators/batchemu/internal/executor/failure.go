package executor

import "fmt"

// Failure categories, as they appear on the wire in failureInfo.category.
const (
	CategoryUserError   = "usererror"
	CategoryServerError = "servererror"
)

// Failure codes set in Result.Failure.Code. The names are the Batch service's
// (TaskFailureInformationCodes in the Batch SDKs and the azure-docs output-file
// article) except where marked as emulator-only.
const (
	CodeFailureExitCode        = "FailureExitCode"
	CodeTaskEnded              = "TaskEnded"
	CodeCommandProgramNotFound = "CommandProgramNotFound"
	CodeCommandLaunchFailed    = "CommandLaunchFailed"

	CodeBlobNotFound                  = "BlobNotFound"
	CodeBlobAccessDenied              = "BlobAccessDenied"
	CodeBlobDownloadMiscError         = "BlobDownloadMiscError"
	CodeBlobDownloadTimedOut          = "BlobDownloadTimedOut"
	CodeResourceDirectoryCreateFailed = "ResourceDirectoryCreateFailed"
	CodeResourceFileCreateFailed      = "ResourceFileCreateFailed"
	CodeResourceFileWriteFailed       = "ResourceFileWriteFailed"
	CodeDiskFull                      = "DiskFull"

	CodeFileUploadContainerNotFound = "FileUploadContainerNotFound"
	CodeFileUploadMiscError         = "FileUploadMiscError"

	// CodeInvalidResourceFile is emulator-only: the real service rejects such a
	// resource file when the task is added (HTTP 400), so the node never sees it.
	CodeInvalidResourceFile = "InvalidResourceFile"
	// CodeInvalidOutputFile is emulator-only, for the same reason.
	CodeInvalidOutputFile = "InvalidOutputFile"
	// CodeInvalidCommandLine is emulator-only: the Linux agent's own wording for an
	// unparseable command line is not known.
	CodeInvalidCommandLine = "InvalidCommandLine"
	// CodeTaskDirectoryCreateFailed is emulator-only: the node could not create the
	// task directory, stdout.txt or stderr.txt.
	CodeTaskDirectoryCreateFailed = "TaskDirectoryCreateFailed"
)

// Messages whose text is taken from public material. All are UNVERIFIED against a
// live service; see docs/fidelity/batch-executor.md for the sources.
const (
	msgFailureExitCode        = "The task process exited with an unexpected exit code"
	msgTaskEndedByUser        = "Task was ended by user request"
	msgTaskEndedByWallClock   = "The task exceeded its maximum wall clock time and was terminated"
	msgUploadContainerMissing = "One of the specified Azure container(s) was not found while attempting to upload an output file"
)

func userError(code, msg string, details ...NameValue) *FailureInfo {
	return &FailureInfo{Category: CategoryUserError, Code: code, Message: msg, Details: details}
}

func serverError(code, msg string, details ...NameValue) *FailureInfo {
	return &FailureInfo{Category: CategoryServerError, Code: code, Message: msg, Details: details}
}

func nv(name, value string) NameValue { return NameValue{Name: name, Value: value} }

// String renders the failure for logs; it never contains secrets because failures
// are built from redacted URLs only.
func (f *FailureInfo) String() string {
	if f == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s/%s: %s", f.Category, f.Code, f.Message)
}
