package batchemu

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
)

// appendSettings appends name=value pairs; later entries override earlier
// ones when the process reads its environment (the last one wins).
func appendSettings(env []string, settings []envSetting) []string {
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

// killTask stops t's running process without recording its result; mu held.
func (s *Server) killTask(j *jobRec, t *taskRec) {
	if t.run == nil {
		return
	}
	t.run.abandoned = true
	t.run.cancel()
	s.releaseNode(t.run)
	t.run = nil
}

// endTask completes t as terminated by the user; mu held.
func (s *Server) endTask(j *jobRec, t *taskRec, now time.Time) {
	s.killTask(j, t)
	s.setTaskState(t, taskCompleted, now)
	ei := &t.Task.ExecutionInfo
	ei.EndTime = wtp(now)
	ei.Result = "failure"
	ei.FailureInfo = &failureInfo{Category: executor.CategoryUserError, Code: executor.CodeTaskEnded, Message: "Task was ended by user request"}
	s.touchTask(j, t, now)
}

// requeueTask puts a running task back in the queue; mu held.
func (s *Server) requeueTask(j *jobRec, t *taskRec, now time.Time) {
	s.killTask(j, t)
	s.setTaskState(t, taskActive, now)
	ei := &t.Task.ExecutionInfo
	ei.RequeueCount++
	ei.LastRequeueTime = wtp(now)
	s.touchTask(j, t, now)
}

func (s *Server) removeTaskDir(j *jobRec, t *taskRec) {
	if t.Dir != "" && !t.FilesCleaned {
		s.removeDir(t.Dir)
		t.FilesCleaned = true
		s.noteTask(j, t)
	}
}

// launchTask starts one attempt of t on node n; mu held.
func (s *Server) launchTask(j *jobRec, t *taskRec, pk string, p *poolRec, n *nodeRec, slots int, now time.Time) {
	rel := filepath.ToSlash(filepath.Join("workitems", j.Job.ID, "job-1", t.Task.ID))
	dir := filepath.Join(n.Dir, filepath.FromSlash(rel))
	s.setTaskState(t, taskRunning, now)
	ei := &t.Task.ExecutionInfo
	ei.StartTime = wtp(now)
	ei.EndTime, ei.ExitCode, ei.Result, ei.FailureInfo = nil, nil, "", nil
	t.Task.NodeInfo = &nodeInfo{AffinityID: n.Node.AffinityID, PoolID: p.Pool.ID, NodeID: n.Node.ID, TaskRootDirectory: rel}
	if t.Dir != "" && t.Dir != dir {
		s.removeTaskDir(j, t) // a previous attempt ran on another node
	}
	t.Dir, t.Pool, t.Node, t.FilesCleaned = dir, pk, n.Node.ID, false
	s.touchTask(j, t, now)

	n.Node.RunningTasksCount++
	n.Node.RunningTaskSlotsCount += slots
	setNodeState(n, nodeRunning, now)
	info := taskInformation{JobID: j.Job.ID, TaskID: t.Task.ID, TaskState: taskRunning}
	n.Node.RecentTasks = append(n.Node.RecentTasks, info)
	if len(n.Node.RecentTasks) > 10 {
		n.Node.RecentTasks = n.Node.RecentTasks[len(n.Node.RecentTasks)-10:]
	}

	env := s.nodeEnv(p, n)
	env = append(env, "AZ_BATCH_JOB_ID="+j.Job.ID, "AZ_BATCH_TASK_ID="+t.Task.ID,
		"AZ_BATCH_TASK_DIR="+dir, "AZ_BATCH_TASK_WORKING_DIR="+filepath.Join(dir, "wd"))
	if prep := j.Job.JobPreparationTask; prep != nil {
		prepPath, _ := prepDir(n, j.Job.ID, prep.ID)
		env = append(env, "AZ_BATCH_JOB_PREP_DIR="+prepPath, "AZ_BATCH_JOB_PREP_WORKING_DIR="+filepath.Join(prepPath, "wd"))
	}
	env = appendSettings(env, j.Job.CommonEnvironmentSettings)
	env = appendSettings(env, t.Task.EnvironmentSettings)
	var wall time.Duration
	if d := t.Task.Constraints.MaxWallClockTime; d != nil && time.Duration(*d) != infiniteDuration {
		wall = time.Duration(*d)
	}
	spec := executor.Spec{
		CommandLine: t.Task.CommandLine, Env: env, TaskDir: dir,
		ResourceFiles: toExecResourceFiles(t.Task.ResourceFiles), OutputFiles: toExecOutputFiles(t.Task.OutputFiles),
		MaxWallClockTime: wall,
	}
	a := &attempt{poolKey: pk, nodeID: n.Node.ID, jobKey: key(j.Job.ID), taskKey: key(t.Task.ID), slots: slots}
	t.run = a
	s.launch(a, spec, s.finishTask)
}

// finishTask records the result of a task attempt; mu held.
func (s *Server) finishTask(a *attempt, res executor.Result) {
	s.releaseNode(a)
	j, ok := s.st.Jobs[a.jobKey]
	if !ok {
		return
	}
	t, ok := j.Tasks[a.taskKey]
	if !ok || t.run != a {
		return
	}
	t.run = nil
	now := endedAt(res, s.now())
	success := succeeded(res)
	if _, n := s.findNode(a.poolKey, a.nodeID); n != nil {
		n.Node.TotalTasksRun++
		if success {
			n.Node.TotalTasksSucceeded++
		}
		for i := range n.Node.RecentTasks {
			rt := &n.Node.RecentTasks[i]
			if key(rt.JobID) == a.jobKey && key(rt.TaskID) == a.taskKey {
				rt.TaskState = taskCompleted
			}
		}
	}
	ei := &t.Task.ExecutionInfo
	if !res.StartTime.IsZero() {
		ei.StartTime = wtp(res.StartTime)
	}
	appFailure := failedByExitCode(res)
	max := 0
	if c := t.Task.Constraints.MaxTaskRetryCount; c != nil {
		max = *c
	}
	if appFailure && (max == -1 || ei.RetryCount < max) && jobOpen(jobState(j.Job.State)) {
		ei.RetryCount++
		ei.LastRetryTime = wtp(now)
		ei.ExitCode = res.ExitCode
		s.setTaskState(t, taskActive, now)
		s.touchTask(j, t, now)
		return
	}
	s.setTaskState(t, taskCompleted, now)
	ei.EndTime = wtp(now)
	ei.ExitCode = res.ExitCode
	ei.FailureInfo = fromExecFailure(res.Failure)
	if success {
		ei.Result = "success"
	} else {
		ei.Result = "failure"
	}
	s.touchTask(j, t, now)
	s.applyJobAction(j, t, now)
	if jm := j.Job.JobManagerTask; t.JobManager && jm != nil && (jm.KillJobOnCompletion == nil || *jm.KillJobOnCompletion) &&
		jobOpen(jobState(j.Job.State)) {
		s.terminateJobLocked(j, "JMComplete", now)
	}
}
