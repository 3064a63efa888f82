package batchemu

import (
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/taskrun"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// killTask stops t's running process without recording its result; mu held.
func (s *Server) killTask(j *store.Job, t *store.Task) {
	if t.Run == nil {
		return
	}
	t.Run.Abandoned = true
	t.Run.Cancel()
	s.releaseNode(t.Run)
	t.Run = nil
}

// endTask completes t as terminated by the user; mu held.
func (s *Server) endTask(j *store.Job, t *store.Task, now time.Time) {
	s.killTask(j, t)
	s.setTaskState(t, wire.TaskCompleted, now)
	taskrun.EndByUser(&t.Task.ExecutionInfo.AttemptOutcome, now)
	s.touchTask(j, t, now)
}

// requeueTask puts a running task back in the queue; mu held.
func (s *Server) requeueTask(j *store.Job, t *store.Task, now time.Time) {
	s.killTask(j, t)
	s.setTaskState(t, wire.TaskActive, now)
	ei := &t.Task.ExecutionInfo
	ei.RequeueCount++
	ei.LastRequeueTime = wire.AtPtr(now)
	s.touchTask(j, t, now)
}

func (s *Server) removeTaskDir(j *store.Job, t *store.Task) {
	if t.Dir != "" && !t.FilesCleaned {
		s.removeDir(t.Dir)
		t.FilesCleaned = true
		s.noteTask(j, t)
	}
}

// launchTask starts one attempt of t on node n; mu held.
func (s *Server) launchTask(j *store.Job, t *store.Task, pk string, p *store.Pool, n *store.Node, slots int, now time.Time) {
	run := taskrun.ForJobTask(j, n, t.Task.ID, t.Task.TaskCommand)
	run.OutputFiles, run.Wall = t.Task.OutputFiles, t.Task.Constraints.MaxWallClockTime
	dir, rel := taskrun.TaskDir(n, j.Job.ID, t.Task.ID)
	s.setTaskState(t, wire.TaskRunning, now)
	ei := &t.Task.ExecutionInfo
	ei.StartTime = wire.AtPtr(now)
	taskrun.Restart(&ei.AttemptOutcome)
	t.Task.NodeInfo = &wire.NodeInfo{AffinityID: n.Node.AffinityID, PoolID: p.Pool.ID, NodeID: n.Node.ID, TaskRootDirectory: rel}
	if t.Dir != "" && t.Dir != dir {
		s.removeTaskDir(j, t) // a previous attempt ran on another node
	}
	t.Dir, t.Pool, t.Node, t.FilesCleaned = dir, pk, n.Node.ID, false
	s.touchTask(j, t, now)

	n.Node.RunningTasksCount++
	n.Node.RunningTaskSlotsCount += slots
	setNodeState(n, wire.NodeRunning, now)
	info := wire.TaskInformation{JobID: j.Job.ID, TaskID: t.Task.ID, TaskState: wire.TaskRunning}
	n.Node.RecentTasks = append(n.Node.RecentTasks, info)
	if len(n.Node.RecentTasks) > 10 {
		n.Node.RecentTasks = n.Node.RecentTasks[len(n.Node.RecentTasks)-10:]
	}

	a := &store.Attempt{PoolKey: pk, NodeID: n.Node.ID, JobKey: store.Key(j.Job.ID), TaskKey: store.Key(t.Task.ID), Slots: slots}
	t.Run = a
	s.launch(a, run.Spec(s.account(), p, n), s.finishTask)
}

// finishTask records the result of a task attempt; mu held.
func (s *Server) finishTask(a *store.Attempt, res executor.Result) {
	s.releaseNode(a)
	j, ok := s.st.Jobs[a.JobKey]
	if !ok {
		return
	}
	t, ok := j.Tasks[a.TaskKey]
	if !ok || t.Run != a {
		return
	}
	t.Run = nil
	now := taskrun.EndedAt(res, s.now())
	success := taskrun.Succeeded(res)
	if _, n := s.findNode(a.PoolKey, a.NodeID); n != nil {
		n.Node.TotalTasksRun++
		if success {
			n.Node.TotalTasksSucceeded++
		}
		for i := range n.Node.RecentTasks {
			rt := &n.Node.RecentTasks[i]
			if store.Key(rt.JobID) == a.JobKey && store.Key(rt.TaskID) == a.TaskKey {
				rt.TaskState = wire.TaskCompleted
			}
		}
	}
	ei := &t.Task.ExecutionInfo
	if !res.StartTime.IsZero() {
		ei.StartTime = wire.AtPtr(res.StartTime)
	}
	max := 0
	if c := t.Task.Constraints.MaxTaskRetryCount; c != nil {
		max = *c
	}
	if jobOpen(wire.JobState(j.Job.State)) && taskrun.Retry(&ei.AttemptOutcome, res, max, now) {
		s.setTaskState(t, wire.TaskActive, now)
		s.touchTask(j, t, now)
		return
	}
	s.setTaskState(t, wire.TaskCompleted, now)
	taskrun.Finish(&ei.AttemptOutcome, res, now)
	s.touchTask(j, t, now)
	s.applyJobAction(j, t, now)
	if jm := j.Job.JobManagerTask; t.JobManager && jm != nil && (jm.KillJobOnCompletion == nil || *jm.KillJobOnCompletion) &&
		jobOpen(wire.JobState(j.Job.State)) {
		s.terminateJobLocked(j, "JMComplete", now)
	}
}
