package taskrun

import (
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// ResourceFile converts a resource file to the executor's.
func ResourceFile(rf wire.ResourceFile) executor.ResourceFile {
	return executor.ResourceFile{
		HTTPURL: rf.HTTPURL, StorageContainerURL: rf.StorageContainerURL, AutoStorageContainerName: rf.AutoStorageContainerName,
		BlobPrefix: rf.BlobPrefix, FilePath: rf.FilePath, FileMode: rf.FileMode,
	}
}

// OutputFiles converts output files to the executor's.
func OutputFiles(files []wire.OutputFile) []executor.OutputFile {
	out := make([]executor.OutputFile, 0, len(files))
	for _, f := range files {
		of := executor.OutputFile{FilePattern: f.FilePattern, UploadCondition: f.UploadOptions.UploadCondition}
		if c := f.Destination.Container; c != nil {
			of.ContainerURL, of.Path = c.ContainerURL, c.Path
			for _, h := range c.UploadHeaders {
				of.UploadHeaders = append(of.UploadHeaders, executor.Header{Name: h.Name, Value: h.Value})
			}
		}
		out = append(out, of)
	}
	return out
}

// ResourceFiles converts resource files to the executor's.
func ResourceFiles(rfs []wire.ResourceFile) []executor.ResourceFile {
	out := make([]executor.ResourceFile, 0, len(rfs))
	for _, rf := range rfs {
		out = append(out, ResourceFile(rf))
	}
	return out
}

// failureInfo converts the executor's failure to the wire's.
func failureInfo(f *executor.FailureInfo) *wire.FailureInfo {
	if f == nil {
		return nil
	}
	out := &wire.FailureInfo{Category: f.Category, Code: f.Code, Message: f.Message}
	for _, d := range f.Details {
		out.Details = append(out.Details, wire.NameValue{Name: d.Name, Value: d.Value})
	}
	return out
}

// EndedAt is when an attempt's process ended: the executor's end time, or
// now when it reported none.
func EndedAt(res executor.Result, now time.Time) time.Time {
	if res.EndTime.IsZero() {
		return now
	}
	return res.EndTime
}

// Succeeded reports whether an attempt's process ran and exited with code 0.
func Succeeded(res executor.Result) bool {
	return res.Failure == nil && res.ExitCode != nil && *res.ExitCode == 0
}

// FailedByExitCode reports whether an attempt failed only through a nonzero
// exit code: the one failure that task retries are for.
func FailedByExitCode(res executor.Result) bool {
	return res.Failure != nil && res.Failure.Code == executor.CodeFailureExitCode
}
