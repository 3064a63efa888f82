package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// StorageConfig is the pool's auto-storage account (for example Azurite), used for
// resource files that name an autoStorageContainerName. AccountKey is a secret.
type StorageConfig struct{ BlobEndpoint, AccountName, AccountKey string }

// Options configures a Runner. A nil *Options, or a zero field, means the default.
type Options struct {
	// Storage is the auto-storage account; nil means autoStorageContainerName fails.
	Storage *StorageConfig
	// HTTPClient carries every storage request; nil means a client without timeouts
	// (transfers can be GBs; cancellation comes from the context).
	HTTPClient *http.Client
	// Logger receives progress and failures (never SAS tokens or keys); nil discards.
	Logger *slog.Logger
	// Now stamps Result.StartTime/EndTime and the upload logs; nil means time.Now.
	Now func() time.Time
}

// Runner runs task attempts. It is safe for concurrent use: each Run works only on
// its own Spec and task directory.
type Runner struct {
	storage *StorageConfig
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time
}

// NewRunner returns a Runner; opts may be nil.
func NewRunner(opts *Options) *Runner {
	var o Options
	if opts != nil {
		o = *opts
	}
	r := &Runner{storage: o.Storage, hc: o.HTTPClient, log: o.Logger, now: o.Now}
	if r.hc == nil {
		r.hc = &http.Client{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "executor")
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Header is one upload header of an output file destination.
type Header struct{ Name, Value string }

// NameValue is one failureInfo detail.
type NameValue struct{ Name, Value string }

// ResourceFile is a Batch ResourceFile: exactly one of HTTPURL, StorageContainerURL
// and AutoStorageContainerName is set. FileMode is an octal string, default "0770".
type ResourceFile struct {
	HTTPURL, StorageContainerURL, AutoStorageContainerName, BlobPrefix, FilePath, FileMode string
}

// OutputFile is a Batch OutputFile with its container destination flattened.
// UploadCondition is tasksuccess, taskfailure or taskcompletion (any case).
type OutputFile struct {
	FilePattern, ContainerURL, Path, UploadCondition string
	UploadHeaders                                    []Header
}

// Spec describes one attempt.
type Spec struct {
	CommandLine string
	// Env is the complete environment of the process, including AZ_BATCH_*; the
	// Runner's own environment is never inherited. PATH in Env resolves the program.
	Env []string
	// TaskDir is created by Run with stdout.txt, stderr.txt and wd/ (the working directory).
	TaskDir          string
	ResourceFiles    []ResourceFile
	OutputFiles      []OutputFile
	MaxWallClockTime time.Duration // 0 = unlimited
}

// FailureInfo mirrors a Batch TaskFailureInformation. Category is "usererror" or "servererror".
type FailureInfo struct {
	Category, Code, Message string
	Details                 []NameValue
}

// Result is the outcome of one attempt.
type Result struct {
	ExitCode           *int // nil when the process never ran
	Failure            *FailureInfo
	StartTime, EndTime time.Time
}

// Run performs one attempt: task directory, resource files, process, output files.
// It always returns a Result; problems are reported in Result.Failure, never as a
// Go error. Cancelling ctx kills the whole process group and reports TaskEnded.
func (r *Runner) Run(ctx context.Context, spec Spec) Result {
	res := Result{StartTime: r.now()}
	finish := func(exit *int, f *FailureInfo) Result {
		res.ExitCode, res.Failure, res.EndTime = exit, f, r.now()
		return res
	}
	log := r.log.With("taskDir", spec.TaskDir)

	if spec.TaskDir != "" {
		abs, err := filepath.Abs(spec.TaskDir)
		if err != nil {
			return finish(nil, serverError(CodeTaskDirectoryCreateFailed, fmt.Sprintf("The task directory is invalid: %v", err)))
		}
		spec.TaskDir = abs
	}
	wd, f := prepareTaskDir(spec.TaskDir)
	if f != nil {
		return finish(nil, f)
	}
	argv, err := SplitCommandLine(spec.CommandLine)
	if err == nil && len(argv) == 0 {
		err = errors.New("command line is empty")
	}
	if err != nil {
		return finish(nil, userError(CodeInvalidCommandLine, fmt.Sprintf("The command line could not be parsed: %v", err)))
	}
	// maxWallClockTime runs from the start of the attempt: the task is "running"
	// while its resource files download, so they count too. Uploads do not.
	runCtx := ctx
	if spec.MaxWallClockTime > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(ctx, spec.MaxWallClockTime, errWallClock)
		defer stop()
	}
	for i := range spec.ResourceFiles {
		if f := r.downloadResourceFile(runCtx, wd, spec.ResourceFiles[i]); f != nil {
			if runCtx.Err() != nil {
				f = endedFailure(ctx, runCtx, spec.MaxWallClockTime)
			}
			log.Warn("resource file failed", "failure", f.String())
			return finish(nil, f)
		}
	}
	if runCtx.Err() != nil {
		return finish(nil, endedFailure(ctx, runCtx, spec.MaxWallClockTime))
	}

	pr := runProcess(ctx, runCtx, processSpec{
		argv: argv, env: spec.Env, dir: wd,
		stdout:  filepath.Join(spec.TaskDir, "stdout.txt"),
		stderr:  filepath.Join(spec.TaskDir, "stderr.txt"),
		maxWall: spec.MaxWallClockTime,
	})
	if pr.failure != nil && pr.exitCode == nil {
		log.Warn("process did not start", "failure", pr.failure.String())
		return finish(nil, pr.failure)
	}
	log.Info("process exited", "exitCode", *pr.exitCode, "killed", pr.failure != nil)

	failure := pr.failure
	if failure == nil && *pr.exitCode != 0 {
		failure = userError(CodeFailureExitCode, msgFailureExitCode)
	}
	if ctx.Err() != nil {
		// Terminated by the caller: no uploads, the context forbids further I/O.
		return finish(pr.exitCode, failure)
	}
	uf := r.uploadOutputFiles(ctx, spec, wd, failure == nil)
	switch {
	case ctx.Err() != nil:
		// Terminated while uploading: the upload error is a consequence.
		failure = userError(CodeTaskEnded, msgTaskEndedByUser)
	case uf != nil && failure == nil:
		failure = uf
	}
	return finish(pr.exitCode, failure)
}

// prepareTaskDir creates taskDir/wd and empty stdout.txt and stderr.txt.
func prepareTaskDir(taskDir string) (string, *FailureInfo) {
	if taskDir == "" {
		return "", serverError(CodeTaskDirectoryCreateFailed, "The task directory is not set")
	}
	wd := filepath.Join(taskDir, "wd")
	if err := os.MkdirAll(wd, 0o770); err != nil {
		return "", serverError(CodeTaskDirectoryCreateFailed, fmt.Sprintf("The task directory could not be created: %v", err))
	}
	for _, name := range []string{"stdout.txt", "stderr.txt"} {
		fh, err := os.OpenFile(filepath.Join(taskDir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o660)
		if err != nil {
			return "", serverError(CodeTaskDirectoryCreateFailed, fmt.Sprintf("The file %s could not be created: %v", name, err))
		}
		fh.Close()
	}
	return wd, nil
}
