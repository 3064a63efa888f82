package batchemu

import (
	"net/http"
	"sort"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/placement"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/taskrun"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// Job preparation and release tasks. The preparation task runs on a node
// before the first task of its job runs there (tasks wait in "active", not
// "preparing"); the release task runs on every node that ran the preparation
// task when the job is terminated or deleted, and the job stays
// terminating/deleting until they finish.

const (
	defaultPrepID          = "jobpreparation"
	defaultReleaseID       = "jobrelease"
	defaultReleaseWallTime = 15 * time.Minute
)

// validatePrepRelease checks and fills in the defaults of a job's
// preparation and release tasks.
func validatePrepRelease(prep *wire.JobPreparationTask, rel *wire.JobReleaseTask) *wireerr.Error {
	if rel != nil && prep == nil {
		return wireerr.ReleaseWithoutPrep()
	}
	if prep != nil {
		if e := checkCommand("jobPreparationTask", prep.CommandLine, prep.ContainerSettings); e != nil {
			return e
		}
		if prep.ID == "" {
			prep.ID = defaultPrepID
		}
		if !validID(prep.ID) {
			return wireerr.InvalidProperty("jobPreparationTask.id", prep.ID, "ids are 1-64 letters, digits, hyphens and underscores")
		}
		if e := checkTaskInputs("jobPreparationTask", prep.ResourceFiles, prep.EnvironmentSettings); e != nil {
			return e
		}
		c, e := overlayConstraints("jobPreparationTask.constraints", taskDefaults(nil), prep.Constraints)
		if e != nil {
			return e
		}
		prep.Constraints = &c
		if prep.WaitForSuccess == nil {
			prep.WaitForSuccess = boolp(true)
		}
		if prep.RerunOnNodeRebootAfterSuccess == nil {
			prep.RerunOnNodeRebootAfterSuccess = boolp(true)
		}
	}
	if rel != nil {
		if e := checkCommand("jobReleaseTask", rel.CommandLine, rel.ContainerSettings); e != nil {
			return e
		}
		if rel.ID == "" {
			rel.ID = defaultReleaseID
		}
		if !validID(rel.ID) {
			return wireerr.InvalidProperty("jobReleaseTask.id", rel.ID, "ids are 1-64 letters, digits, hyphens and underscores")
		}
		if store.Key(rel.ID) == store.Key(prep.ID) {
			return wireerr.InvalidProperty("jobReleaseTask.id", rel.ID, "the release task id must differ from the preparation task id")
		}
		if e := checkTaskInputs("jobReleaseTask", rel.ResourceFiles, rel.EnvironmentSettings); e != nil {
			return e
		}
		if rel.MaxWallClockTime == nil {
			rel.MaxWallClockTime = wire.DurationPtr(defaultReleaseWallTime)
		}
		if rel.RetentionTime == nil {
			rel.RetentionTime = wire.DurationPtr(defaultRetention)
		}
	}
	return nil
}

func boolp(b bool) *bool { return &b }

// checkTaskIDAgainstPrep rejects a task id equal to the job's preparation
// or release task id.
func checkTaskIDAgainstPrep(j *store.Job, id string) *wireerr.Error {
	if p := j.Job.JobPreparationTask; p != nil && store.Key(p.ID) == store.Key(id) {
		return wireerr.TaskIDIsPrep()
	}
	if r := j.Job.JobReleaseTask; r != nil && store.Key(r.ID) == store.Key(id) {
		return wireerr.TaskIDIsRelease()
	}
	return nil
}

// ensurePrep starts the preparation task on one node of p that can take
// j's task and has not prepared yet; mu held.
func (s *Server) ensurePrep(j *store.Job, pk string, p *store.Pool, slots int, now time.Time) {
	for _, n := range p.Nodes {
		if s.procs >= s.opts.Concurrency {
			return
		}
		if !placement.HasRoom(p, n, slots) {
			continue
		}
		if st := j.Prep[store.PrepKey(pk, n.Node.ID)]; st != nil {
			if st.PrepPending && st.PrepRun == nil {
				s.runPrep(j, st, p, n, now)
			}
			continue
		}
		if j.Prep == nil {
			j.Prep = map[string]*store.NodePrep{}
		}
		st := &store.NodePrep{PoolKey: pk, PoolID: p.Pool.ID, NodeID: n.Node.ID}
		j.Prep[store.PrepKey(pk, n.Node.ID)] = st
		s.runPrep(j, st, p, n, now)
		return
	}
}

// runPrep launches (or relaunches for a retry) the preparation task; mu held.
func (s *Server) runPrep(j *store.Job, st *store.NodePrep, p *store.Pool, n *store.Node, now time.Time) {
	prep := j.Job.JobPreparationTask
	run := taskrun.ForJobTask(j, n, prep.ID, prep.TaskCommand)
	run.Wall = prep.Constraints.MaxWallClockTime
	if st.Prep == nil {
		_, rel := taskrun.TaskDir(n, j.Job.ID, prep.ID)
		st.Prep = &wire.PrepReleaseExecutionInfo{TaskRootDirectory: rel}
	}
	st.Prep.State, st.Prep.StartTime = "running", wire.At(now)
	taskrun.Restart(&st.Prep.AttemptOutcome)
	st.PrepPending = false
	a := &store.Attempt{PoolKey: st.PoolKey, NodeID: st.NodeID, JobKey: store.Key(j.Job.ID)}
	st.PrepRun = a
	s.markDirty()
	s.launch(a, run.Spec(s.account(), p, n), s.finishPrep)
}

// nodePrepOf returns the job and the node preparation state that a
// preparation or release attempt ran for; st is nil when either is gone.
// mu held.
func (s *Server) nodePrepOf(a *store.Attempt) (j *store.Job, st *store.NodePrep) {
	j, ok := s.st.Jobs[a.JobKey]
	if !ok {
		return nil, nil
	}
	return j, j.Prep[store.PrepKey(a.PoolKey, a.NodeID)]
}

// finishPrep records a preparation attempt; mu held.
func (s *Server) finishPrep(a *store.Attempt, res executor.Result) {
	j, st := s.nodePrepOf(a)
	if st == nil || st.PrepRun != a {
		return
	}
	st.PrepRun = nil
	now := taskrun.EndedAt(res, s.now())
	s.markDirty()
	s.jobsChanged = true
	if taskrun.Retry(&st.Prep.AttemptOutcome, res, *j.Job.JobPreparationTask.Constraints.MaxTaskRetryCount, now) {
		st.PrepPending = true
		return
	}
	st.Prep.State = "completed"
	taskrun.Finish(&st.Prep.AttemptOutcome, res, now)
}

// releasesDone runs the release task on every node that ran the
// preparation task and reports whether all of them finished; mu held.
func (s *Server) releasesDone(j *store.Job, now time.Time) bool {
	done := true
	for _, k := range sortedPrepKeys(j) {
		st := j.Prep[k]
		if st.PrepRun != nil { // the job ended: stop preparing
			st.PrepRun.Abandoned = true
			st.PrepRun.Cancel()
			st.PrepRun = nil
			st.Prep.State = "completed"
			taskrun.EndByUser(&st.Prep.AttemptOutcome, now)
		}
		st.PrepPending = false
		rel := j.Job.JobReleaseTask
		if rel == nil || st.Prep == nil {
			continue
		}
		if st.Release != nil && st.Release.State == "completed" {
			continue
		}
		p, n := s.findNode(st.PoolKey, st.NodeID)
		if n == nil || n.Leaving {
			continue // the node is gone: nothing to release
		}
		done = false
		if st.ReleaseRun != nil || s.procs >= s.opts.Concurrency {
			continue
		}
		run := taskrun.ForJobTask(j, n, rel.ID, rel.TaskCommand)
		run.Wall = rel.MaxWallClockTime
		_, relPath := taskrun.TaskDir(n, j.Job.ID, rel.ID)
		st.Release = &wire.PrepReleaseExecutionInfo{State: "running", StartTime: wire.At(now), TaskRootDirectory: relPath}
		a := &store.Attempt{PoolKey: st.PoolKey, NodeID: st.NodeID, JobKey: store.Key(j.Job.ID)}
		st.ReleaseRun = a
		s.markDirty()
		s.launch(a, run.Spec(s.account(), p, n), s.finishRelease)
	}
	return done
}

func sortedPrepKeys(j *store.Job) []string {
	keys := make([]string, 0, len(j.Prep))
	for k := range j.Prep {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// finishRelease records a release attempt; mu held.
func (s *Server) finishRelease(a *store.Attempt, res executor.Result) {
	_, st := s.nodePrepOf(a)
	if st == nil || st.ReleaseRun != a {
		return
	}
	st.ReleaseRun = nil
	now := taskrun.EndedAt(res, s.now())
	st.Release.State = "completed"
	taskrun.Finish(&st.Release.AttemptOutcome, res, now)
	s.markDirty()
	s.jobsChanged = true
}

// forgetNodePrep drops every job's preparation state for a node that left
// or rebooted (reboot: only when the task asks to rerun); mu held.
func (s *Server) forgetNodePrep(pk, nodeID string, reboot bool) {
	k := store.PrepKey(pk, nodeID)
	for _, j := range s.st.Jobs {
		st := j.Prep[k]
		if st == nil {
			continue
		}
		prep := j.Job.JobPreparationTask
		if reboot && prep != nil && prep.RerunOnNodeRebootAfterSuccess != nil && !*prep.RerunOnNodeRebootAfterSuccess &&
			st.Prep != nil && st.Prep.Result == "success" {
			continue
		}
		for _, a := range []*store.Attempt{st.PrepRun, st.ReleaseRun} {
			if a != nil {
				a.Abandoned = true
				a.Cancel()
			}
		}
		delete(j.Prep, k)
		s.markDirty()
	}
}

func (s *Server) listPrepReleaseStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	if j.Job.JobPreparationTask == nil && j.Job.JobReleaseTask == nil {
		s.mu.Unlock()
		return wireerr.NoPrepOrReleaseTask()
	}
	var items []listItem
	for k, st := range j.Prep {
		nodeURL := rc.base + "/pools/" + st.PoolID + "/nodes/" + st.NodeID
		item := wire.PrepReleaseTaskStatus{PoolID: st.PoolID, NodeID: st.NodeID, NodeURL: nodeURL}
		for _, pair := range []struct {
			src *wire.PrepReleaseExecutionInfo
			dst **wire.PrepReleaseExecutionInfo
		}{{st.Prep, &item.Prep}, {st.Release, &item.Release}} {
			if pair.src != nil {
				c := *pair.src
				c.TaskRootDirectoryURL = nodeURL + "/files/" + c.TaskRootDirectory
				*pair.dst = &c
			}
		}
		items = append(items, listItem{sortKey: k, obj: item})
	}
	s.mu.Unlock()
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(wire.PrepReleaseTaskStatus{}), "jobpreparationandreleasetaskstatuslist")
}
