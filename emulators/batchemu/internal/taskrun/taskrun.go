package taskrun

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// Run is one process to run on a node.
type Run struct {
	Cmd         wire.TaskCommand
	OutputFiles []wire.OutputFile
	Wall        *wire.Duration // maxWallClockTime; nil or infinite: no limit
	dir         string         // the task directory; its "wd" is the working directory
	// Job tasks only (empty for a start task).
	jobID, taskID string
	prepDir       string            // the job preparation task's directory ("" without one)
	jobEnv        []wire.EnvSetting // the job's commonEnvironmentSettings
}

// ForJobTask is the run of job j's task taskID (an ordinary, job manager,
// preparation or release task) on node n.
func ForJobTask(j *store.Job, n *store.Node, taskID string, cmd wire.TaskCommand) Run {
	r := Run{Cmd: cmd, jobID: j.Job.ID, taskID: taskID, jobEnv: j.Job.CommonEnvironmentSettings}
	r.dir, _ = TaskDir(n, j.Job.ID, taskID)
	if prep := j.Job.JobPreparationTask; prep != nil {
		r.prepDir, _ = TaskDir(n, j.Job.ID, prep.ID)
	}
	return r
}

// ForStartTask is the run of a pool's start task on node n.
func ForStartTask(n *store.Node, st *wire.StartTask) Run {
	return Run{Cmd: st.TaskCommand, dir: filepath.Join(n.Dir, "startup")}
}

// TaskDir is the directory of job task taskID on node n, as an absolute
// path and relative to the node's root (taskRootDirectory).
func TaskDir(n *store.Node, jobID, taskID string) (dir, rel string) {
	rel = filepath.ToSlash(filepath.Join("workitems", jobID, "job-1", taskID))
	return filepath.Join(n.Dir, filepath.FromSlash(rel)), rel
}

// Account is what every process learns of the account and the emulator:
// the account name and URL, and the inherited environment (PATH, HOME).
type Account struct {
	Name, URL string
	BaseEnv   []string
}

// Spec is the executor spec of r on node n of pool p. The environment is
// the node's, then the task's AZ_BATCH_* variables, then the job's common
// settings, then the task's own (a later setting of a name wins).
func (r Run) Spec(acct Account, p *store.Pool, n *store.Node) executor.Spec {
	env := nodeEnv(acct, p, n)
	if r.jobID != "" {
		env = append(env, "AZ_BATCH_JOB_ID="+r.jobID, "AZ_BATCH_TASK_ID="+r.taskID)
	}
	env = append(env, "AZ_BATCH_TASK_DIR="+r.dir, "AZ_BATCH_TASK_WORKING_DIR="+filepath.Join(r.dir, "wd"))
	if r.prepDir != "" {
		env = append(env, "AZ_BATCH_JOB_PREP_DIR="+r.prepDir, "AZ_BATCH_JOB_PREP_WORKING_DIR="+filepath.Join(r.prepDir, "wd"))
	}
	env = appendSettings(env, r.jobEnv)
	env = appendSettings(env, r.Cmd.EnvironmentSettings)
	return executor.Spec{
		CommandLine: r.Cmd.CommandLine, Env: env, TaskDir: r.dir,
		ResourceFiles: ResourceFiles(r.Cmd.ResourceFiles), OutputFiles: OutputFiles(r.OutputFiles),
		MaxWallClockTime: wallClock(r.Wall),
	}
}

// nodeEnv is the environment shared by every process on node n.
func nodeEnv(acct Account, p *store.Pool, n *store.Node) []string {
	env := append([]string(nil), acct.BaseEnv...)
	return append(env,
		"AZ_BATCH_ACCOUNT_NAME="+acct.Name,
		"AZ_BATCH_ACCOUNT_URL="+acct.URL,
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

// Restart clears the outcome of the previous attempt (retry counts stay).
func Restart(o *wire.AttemptOutcome) {
	o.EndTime, o.ExitCode, o.FailureInfo, o.Result = nil, nil, nil, ""
}

// Retry reports whether a failed attempt is retried under the retry
// limit max (-1: unlimited), and counts the retry when it is. Only a
// nonzero exit code is retried.
func Retry(o *wire.AttemptOutcome, res executor.Result, max int, now time.Time) bool {
	if !FailedByExitCode(res) || max != -1 && o.RetryCount >= max {
		return false
	}
	o.RetryCount++
	o.LastRetryTime = wire.AtPtr(now)
	o.ExitCode = res.ExitCode
	return true
}

// Finish records the final outcome of an attempt.
func Finish(o *wire.AttemptOutcome, res executor.Result, now time.Time) {
	o.EndTime = wire.AtPtr(now)
	o.ExitCode, o.FailureInfo = res.ExitCode, failureInfo(res.Failure)
	o.Result = "failure"
	if Succeeded(res) {
		o.Result = "success"
	}
}

// EndByUser records an attempt stopped by a terminate or job end.
func EndByUser(o *wire.AttemptOutcome, now time.Time) {
	o.EndTime = wire.AtPtr(now)
	o.Result = "failure"
	o.FailureInfo = &wire.FailureInfo{Category: executor.CategoryUserError, Code: executor.CodeTaskEnded, Message: "Task was ended by user request"}
}
