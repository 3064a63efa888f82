package batchemu

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// attemptRunner runs one attempt of a task or start task. The real one is
// *executor.Runner; tests may swap in a fake through Options.runner.
type attemptRunner interface {
	Run(ctx context.Context, spec executor.Spec) executor.Result
}

var _ attemptRunner = (*executor.Runner)(nil)

func newExecutorRunner(o *Options, log *slog.Logger) attemptRunner {
	eo := &executor.Options{Logger: log, Now: o.Now, HTTPClient: &http.Client{}}
	if o.Storage != nil {
		eo.Storage = &executor.StorageConfig{BlobEndpoint: o.Storage.BlobEndpoint, AccountName: o.Storage.AccountName, AccountKey: o.Storage.AccountKey}
	}
	return executor.NewRunner(eo)
}

func toExecOutputFiles(files []wire.OutputFile) []executor.OutputFile {
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

func toExecResourceFiles(rfs []wire.ResourceFile) []executor.ResourceFile {
	out := make([]executor.ResourceFile, 0, len(rfs))
	for _, rf := range rfs {
		out = append(out, toExecResourceFile(rf))
	}
	return out
}

func fromExecFailure(f *executor.FailureInfo) *wire.FailureInfo {
	if f == nil {
		return nil
	}
	out := &wire.FailureInfo{Category: f.Category, Code: f.Code, Message: f.Message}
	for _, d := range f.Details {
		out.Details = append(out.Details, wire.NameValue{Name: d.Name, Value: d.Value})
	}
	return out
}

// endedAt is when an attempt's process ended: the executor's end time, or
// now when it reported none.
func endedAt(res executor.Result, now time.Time) time.Time {
	if res.EndTime.IsZero() {
		return now
	}
	return res.EndTime
}

// succeeded reports whether an attempt's process ran and exited with code 0.
func succeeded(res executor.Result) bool {
	return res.Failure == nil && res.ExitCode != nil && *res.ExitCode == 0
}

// failedByExitCode reports whether an attempt failed only through a nonzero
// exit code: the one failure that task retries are for.
func failedByExitCode(res executor.Result) bool {
	return res.Failure != nil && res.Failure.Code == executor.CodeFailureExitCode
}
