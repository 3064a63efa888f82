package batchemu

import (
	"context"
	"path/filepath"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/placement"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// snapshotEvery bounds how often the state file is rewritten.
const snapshotEvery = 200 * time.Millisecond

// jobScanEvery is how often jobs are scanned for time-based transitions
// (job maxWallClockTime, task retention) when nothing changed.
const jobScanEvery = time.Second

// loop is the scheduler: it advances node lifecycles, converges pools on their
// targets, samples and evaluates autoscale, completes jobs, enforces retention,
// assigns tasks to free slots and persists the state.
func (s *Server) loop() {
	defer close(s.loopDone)
	tick := time.NewTicker(s.opts.tick)
	defer tick.Stop()
	var lastSave time.Time
	interval := snapshotEvery
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		case <-s.kick:
		}
		s.mu.Lock()
		s.step(s.now())
		save := s.store != nil && s.dirty && time.Since(lastSave) >= interval
		s.mu.Unlock()
		// Scheduler-internal changes are saved lazily. A request waiting for
		// durability saves them too; if one is writing now, skip this turn.
		if save && s.flushMu.TryLock() {
			began := time.Now()
			if err := s.saveLocked(false); err != nil {
				s.log.Error("save state", "err", err)
			}
			s.flushMu.Unlock()
			lastSave = time.Now()
			// Large states are saved less often: lazy snapshots take at most ~1/5 of the time.
			interval = max(snapshotEvery, 5*lastSave.Sub(began))
		}
	}
}

// step does one scheduler pass at time now; mu held.
func (s *Server) step(now time.Time) {
	for pk, p := range s.st.Pools {
		s.stepPool(pk, p, now)
	}
	if s.jobsChanged || now.Sub(s.lastJobScan) >= jobScanEvery || now.Before(s.lastJobScan) {
		s.jobsChanged = false
		s.lastJobScan = now
		s.stepJobs(now)
	}
	s.schedule(now)
}

// launch starts a goroutine running spec; done is called with mu held when
// the attempt ends (unless the server is closing). mu held.
func (s *Server) launch(a *store.Attempt, spec executor.Spec, done func(a *store.Attempt, res executor.Result)) {
	ctx, cancel := context.WithCancel(context.Background())
	a.Cancel = cancel
	s.attempts[a] = struct{}{}
	s.procs++
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		res := s.runner.Run(ctx, spec)
		cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.attempts, a)
		s.procs--
		if s.closed {
			return // state stays "running": a restart requeues it
		}
		if !a.Abandoned {
			done(a, res)
		}
		s.wake()
	}()
}

// stepJobs completes terminating jobs, removes deleted ones, applies job
// constraints and onAllTasksComplete, and enforces task retention; mu held.
func (s *Server) stepJobs(now time.Time) {
	for jk, j := range s.st.Jobs {
		switch wire.JobState(j.Job.State) {
		case wire.JobDeleting:
			for _, t := range j.Tasks {
				s.killTask(j, t)
				s.removeTaskDir(j, t)
			}
			if !s.releasesDone(j, now) {
				continue // the job stays "deleting" until its release tasks end
			}
			for _, st := range j.Prep {
				if _, n := s.findNode(st.PoolKey, st.NodeID); n != nil {
					s.removeDir(filepath.Join(n.Dir, "workitems", j.Job.ID))
				}
			}
			s.releaseAutoPool(j, now)
			delete(s.st.Jobs, jk)
			s.markDirty()
		case wire.JobTerminating:
			if !s.releasesDone(j, now) {
				continue
			}
			s.setJobState(j, wire.JobCompleted, now)
			j.Job.ExecutionInfo.EndTime = wire.AtPtr(now)
			s.releaseAutoPool(j, now)
		case wire.JobEnabling:
			s.setJobState(j, wire.JobActive, now)
		case wire.JobDisabling:
			running := false
			for _, t := range j.Tasks {
				running = running || t.Task.State == wire.TaskRunning
			}
			if !running {
				s.setJobState(j, wire.JobDisabled, now)
			}
		case wire.JobActive:
			if d := j.Job.Constraints.MaxWallClockTime; d != nil && time.Duration(*d) != wire.InfiniteDuration &&
				now.Sub(j.Job.CreationTime.Time) > time.Duration(*d) {
				s.terminateJobLocked(j, "MaxWallClockTimeExpiry", now)
				continue
			}
			all := true
			for _, t := range j.Tasks {
				if t.Task.State != wire.TaskCompleted {
					all = false
					continue
				}
				if r := t.Task.Constraints.RetentionTime; r != nil && !t.FilesCleaned && t.Dir != "" && t.Task.ExecutionInfo.EndTime != nil &&
					time.Duration(*r) != wire.InfiniteDuration && now.Sub(t.Task.ExecutionInfo.EndTime.Time) > time.Duration(*r) {
					s.removeTaskDir(j, t)
					s.markDirty()
				}
			}
			if all && j.Job.OnAllTasksComplete == "terminatejob" {
				s.terminateJobLocked(j, "AllTasksComplete", now)
			}
		}
	}
}

// schedule assigns active tasks to free slots, in placement's order and on
// the nodes it chooses, starting job preparation tasks where a job's task
// waits for one; mu held.
func (s *Server) schedule(now time.Time) {
	if s.procs >= s.opts.Concurrency {
		return
	}
	free := map[string]bool{}
	for pk, p := range s.st.Pools {
		if p.Pool.State != wire.PoolActive {
			continue
		}
		for _, n := range p.Nodes {
			if placement.Schedulable(n) && n.Node.RunningTaskSlotsCount < p.Pool.TaskSlotsPerNode {
				free[pk] = true
				break
			}
		}
	}
	if len(free) == 0 {
		return
	}
	var cands []placement.Candidate
	running := map[*store.Job]int{}
	for _, j := range s.st.Jobs {
		if wire.JobState(j.Job.State) != wire.JobActive || !free[jobPoolKey(j)] {
			continue
		}
		for _, t := range j.Tasks {
			switch t.Task.State {
			case wire.TaskActive:
				if depsSatisfied(j, t) {
					cands = append(cands, placement.Candidate{Job: j, Task: t})
				}
			case wire.TaskRunning:
				running[j]++
			}
		}
	}
	placement.Sort(cands)
	for _, c := range cands {
		if s.procs >= s.opts.Concurrency {
			return
		}
		if m := c.Job.Job.MaxParallelTasks; m >= 0 && running[c.Job] >= m {
			continue
		}
		pk := jobPoolKey(c.Job)
		p := s.st.Pools[pk]
		slots := placement.TaskSlots(c.Job, c.Task, p)
		n := placement.Choose(c, pk, p)
		if n == nil {
			if c.Job.Job.JobPreparationTask != nil {
				s.ensurePrep(c.Job, pk, p, slots, now)
			}
			continue
		}
		s.launchTask(c.Job, c.Task, pk, p, n, slots, now)
		running[c.Job]++
	}
}
