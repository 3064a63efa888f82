package batchemu

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// One task-run path: every process the emulator starts on a node (a task,
// a job preparation or release task, a start task) is described by a
// taskRun and turned into an executor.Spec by runSpec, and every attempt's
// end is recorded in an attemptOutcome.

// taskRun is one process to run on a node.
type taskRun struct {
	cmd         wire.TaskCommand
	outputFiles []wire.OutputFile
	dir         string         // the task directory; its "wd" is the working directory
	wall        *wire.Duration // maxWallClockTime; nil or infinite: no limit
	// Job tasks only (empty for a start task).
	jobID, taskID string
	prepDir       string            // the job preparation task's directory ("" without one)
	jobEnv        []wire.EnvSetting // the job's commonEnvironmentSettings
}

// jobTaskRun is the run of job j's task taskID (an ordinary, job manager,
// preparation or release task) on node n.
func jobTaskRun(j *store.Job, n *store.Node, taskID string, cmd wire.TaskCommand) taskRun {
	r := taskRun{cmd: cmd, jobID: j.Job.ID, taskID: taskID, jobEnv: j.Job.CommonEnvironmentSettings}
	r.dir, _ = taskDir(n, j.Job.ID, taskID)
	if prep := j.Job.JobPreparationTask; prep != nil {
		r.prepDir, _ = taskDir(n, j.Job.ID, prep.ID)
	}
	return r
}

// startTaskRun is the run of a pool's start task on node n.
func startTaskRun(n *store.Node, st *wire.StartTask) taskRun {
	return taskRun{cmd: st.TaskCommand, dir: filepath.Join(n.Dir, "startup")}
}

// taskDir is the directory of job task taskID on node n, as an absolute
// path and relative to the node's root (taskRootDirectory).
func taskDir(n *store.Node, jobID, taskID string) (dir, rel string) {
	rel = filepath.ToSlash(filepath.Join("workitems", jobID, "job-1", taskID))
	return filepath.Join(n.Dir, filepath.FromSlash(rel)), rel
}

// runSpec is the executor spec of r on node n of pool p. The environment is
// the node's, then the task's AZ_BATCH_* variables, then the job's common
// settings, then the task's own (a later setting of a name wins).
func (s *Server) runSpec(p *store.Pool, n *store.Node, r taskRun) executor.Spec {
	env := s.nodeEnv(p, n)
	if r.jobID != "" {
		env = append(env, "AZ_BATCH_JOB_ID="+r.jobID, "AZ_BATCH_TASK_ID="+r.taskID)
	}
	env = append(env, "AZ_BATCH_TASK_DIR="+r.dir, "AZ_BATCH_TASK_WORKING_DIR="+filepath.Join(r.dir, "wd"))
	if r.prepDir != "" {
		env = append(env, "AZ_BATCH_JOB_PREP_DIR="+r.prepDir, "AZ_BATCH_JOB_PREP_WORKING_DIR="+filepath.Join(r.prepDir, "wd"))
	}
	env = appendSettings(env, r.jobEnv)
	env = appendSettings(env, r.cmd.EnvironmentSettings)
	return executor.Spec{
		CommandLine: r.cmd.CommandLine, Env: env, TaskDir: r.dir,
		ResourceFiles: toExecResourceFiles(r.cmd.ResourceFiles), OutputFiles: toExecOutputFiles(r.outputFiles),
		MaxWallClockTime: wallClock(r.wall),
	}
}

// nodeEnv is the environment shared by every process on node n.
func (s *Server) nodeEnv(p *store.Pool, n *store.Node) []string {
	env := append([]string(nil), s.baseEnv...)
	return append(env,
		"AZ_BATCH_ACCOUNT_NAME="+s.opts.AccountName,
		"AZ_BATCH_ACCOUNT_URL="+s.accountURL,
		"AZ_BATCH_POOL_ID="+p.Pool.ID,
		"AZ_BATCH_NODE_ID="+n.Node.ID,
		fmt.Sprintf("AZ_BATCH_NODE_IS_DEDICATED=%t", n.Node.IsDedicated),
		"AZ_BATCH_NODE_ROOT_DIR="+n.Dir,
		"AZ_BATCH_NODE_SHARED_DIR="+filepath.Join(n.Dir, "shared"),
		"AZ_BATCH_NODE_STARTUP_DIR="+filepath.Join(n.Dir, "startup"),
		"AZ_BATCH_NODE_MOUNTS_DIR="+filepath.Join(n.Dir, "fsmounts"),
	)
}

// appendSettings appends name=value pairs; later entries override earlier
// ones when the process reads its environment (the last one wins).
func appendSettings(env []string, settings []wire.EnvSetting) []string {
	for _, e := range settings {
		env = append(env, e.Name+"="+e.Value)
	}
	return dedupeEnv(env)
}

// dedupeEnv keeps the last value of each variable, in first-seen order.
func dedupeEnv(env []string) []string {
	idx := map[string]int{}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[name]; ok {
			out[i] = kv
			continue
		}
		idx[name] = len(out)
		out = append(out, kv)
	}
	return out
}

// wallClock is the executor's limit for a maxWallClockTime (0: none).
func wallClock(d *wire.Duration) time.Duration {
	if d == nil || time.Duration(*d) == wire.InfiniteDuration {
		return 0
	}
	return time.Duration(*d)
}

// restartOutcome clears the outcome of the previous attempt (retry counts stay).
func restartOutcome(o *wire.AttemptOutcome) {
	o.EndTime, o.ExitCode, o.FailureInfo, o.Result = nil, nil, nil, ""
}

// retryOutcome reports whether a failed attempt is retried under the retry
// limit max (-1: unlimited), and counts the retry when it is. Only a
// nonzero exit code is retried.
func retryOutcome(o *wire.AttemptOutcome, res executor.Result, max int, now time.Time) bool {
	if !failedByExitCode(res) || max != -1 && o.RetryCount >= max {
		return false
	}
	o.RetryCount++
	o.LastRetryTime = wire.AtPtr(now)
	o.ExitCode = res.ExitCode
	return true
}

// finishOutcome records the final outcome of an attempt.
func finishOutcome(o *wire.AttemptOutcome, res executor.Result, now time.Time) {
	o.EndTime = wire.AtPtr(now)
	o.ExitCode, o.FailureInfo = res.ExitCode, fromExecFailure(res.Failure)
	o.Result = "failure"
	if succeeded(res) {
		o.Result = "success"
	}
}

// endOutcomeByUser records an attempt stopped by a terminate or job end.
func endOutcomeByUser(o *wire.AttemptOutcome, now time.Time) {
	o.EndTime = wire.AtPtr(now)
	o.Result = "failure"
	o.FailureInfo = &wire.FailureInfo{Category: executor.CategoryUserError, Code: executor.CodeTaskEnded, Message: "Task was ended by user request"}
}
