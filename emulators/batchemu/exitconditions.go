package batchemu

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// Exit conditions: what a completed task means for its job (jobAction, when
// the job's onTaskFailure is performexitoptionsjobaction) and for the tasks
// that depend on it (dependencyAction).

func validateExitConditions(ec *wire.ExitConditions, j *store.Job) *wireerr.Error {
	if ec == nil {
		return nil
	}
	check := func(prop string, o *wire.ExitOptions) *wireerr.Error {
		if o == nil {
			return nil
		}
		ja, e := normEnum(prop+".jobAction", o.JobAction, "none", "disable", "terminate")
		if e != nil {
			return e
		}
		da, e := normEnum(prop+".dependencyAction", o.DependencyAction, "satisfy", "block")
		if e != nil {
			return e
		}
		if ja != "" && ja != "none" && j.Job.OnTaskFailure != "performexitoptionsjobaction" {
			return wireerr.InvalidProperty(prop+".jobAction", o.JobAction,
				"a job action needs the job's onTaskFailure to be performexitoptionsjobaction")
		}
		o.JobAction, o.DependencyAction = ja, da
		return nil
	}
	for i := range ec.ExitCodes {
		if e := check(fmt.Sprintf("exitConditions.exitCodes[%d].exitOptions", i), &ec.ExitCodes[i].ExitOptions); e != nil {
			return e
		}
	}
	for i := range ec.ExitCodeRanges {
		r := &ec.ExitCodeRanges[i]
		prop := fmt.Sprintf("exitConditions.exitCodeRanges[%d]", i)
		if r.End < r.Start {
			return wireerr.InvalidProperty(prop, strconv.Itoa(r.Start)+"-"+strconv.Itoa(r.End), "start must not be greater than end")
		}
		if e := check(prop+".exitOptions", &r.ExitOptions); e != nil {
			return e
		}
	}
	for prop, o := range map[string]*wire.ExitOptions{
		"exitConditions.preProcessingError": ec.PreProcessingError, "exitConditions.fileUploadError": ec.FileUploadError,
		"exitConditions.default": ec.Default,
	} {
		if e := check(prop, o); e != nil {
			return e
		}
	}
	return nil
}

// preProcessingCodes are the failure codes of a task that never ran its
// command (resource files, task directory, command line).
var preProcessingCodes = map[string]bool{
	executor.CodeBlobNotFound: true, executor.CodeBlobAccessDenied: true, executor.CodeBlobDownloadMiscError: true,
	executor.CodeBlobDownloadTimedOut: true, executor.CodeResourceDirectoryCreateFailed: true,
	executor.CodeResourceFileCreateFailed: true, executor.CodeResourceFileWriteFailed: true, executor.CodeDiskFull: true,
	executor.CodeCommandProgramNotFound: true, executor.CodeCommandLaunchFailed: true,
}

// exitOptionsOf returns the effective exit options of a completed task,
// with the service's defaults: none/satisfy for success, terminate/block
// for everything else. mu held.
func exitOptionsOf(j *store.Job, t *store.Task) wire.ExitOptions {
	ei := t.Task.ExecutionInfo
	success := ei.Result == "success"
	out := wire.ExitOptions{JobAction: "terminate", DependencyAction: "block"}
	if success {
		out = wire.ExitOptions{JobAction: "none", DependencyAction: "satisfy"}
	}
	merge := func(o *wire.ExitOptions) wire.ExitOptions {
		r := out
		if o != nil {
			if o.JobAction != "" {
				r.JobAction = o.JobAction
			}
			if o.DependencyAction != "" {
				r.DependencyAction = o.DependencyAction
			}
		}
		return r
	}
	ec := t.Task.ExitConditions
	if ec == nil {
		return out
	}
	code := ""
	if ei.FailureInfo != nil {
		code = ei.FailureInfo.Code
	}
	switch {
	case preProcessingCodes[code] && ec.PreProcessingError != nil:
		return merge(ec.PreProcessingError)
	case (code == executor.CodeFileUploadContainerNotFound || code == executor.CodeFileUploadMiscError) && ec.FileUploadError != nil:
		return merge(ec.FileUploadError)
	}
	if ei.ExitCode != nil {
		for _, m := range ec.ExitCodes {
			if m.Code == *ei.ExitCode {
				return merge(&m.ExitOptions)
			}
		}
		for _, m := range ec.ExitCodeRanges {
			if *ei.ExitCode >= m.Start && *ei.ExitCode <= m.End {
				return merge(&m.ExitOptions)
			}
		}
	}
	return merge(ec.Default)
}

// applyJobAction runs the job action of a task that just completed on its
// own (not terminated by the user); mu held.
func (s *Server) applyJobAction(j *store.Job, t *store.Task, now time.Time) {
	if j.Job.OnTaskFailure != "performexitoptionsjobaction" || wire.JobState(j.Job.State) != wire.JobActive {
		return
	}
	switch exitOptionsOf(j, t).JobAction {
	case "terminate":
		s.terminateJobLocked(j, "TaskFailed", now)
	case "disable":
		s.setJobState(j, wire.JobDisabling, now)
		for _, other := range j.Tasks {
			if other.Task.State == wire.TaskRunning {
				s.requeueTask(j, other, now)
			}
		}
	}
}
