package batchemu

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
)

// attempt is one running process (a task attempt or a start task attempt).
// Its fields are guarded by Server.mu.
type attempt struct {
	cancel    context.CancelFunc
	abandoned bool // the task/node moved on (ended, requeued, deleted); ignore the result
	released  bool // node slot counts were already given back
	start     bool // a start task attempt
	poolKey   string
	nodeID    string
	jobKey    string
	taskKey   string
	slots     int
}

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
		var data []byte
		began := time.Now()
		if s.store != nil && s.dirty && began.Sub(lastSave) >= interval {
			var err error
			if data, err = s.st.marshal(); err != nil {
				s.log.Error("encode state", "err", err)
				data = nil
			}
			s.dirty = false
		}
		s.mu.Unlock()
		if data != nil {
			if err := s.store.write(data); err != nil {
				s.log.Error("save state", "err", err)
			}
			lastSave = time.Now()
			// Large states are saved less often: snapshots take at most ~1/5 of the time.
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

func setNodeState(n *nodeRec, state string, now time.Time) {
	if n.Node.State != state {
		n.Node.State = state
		n.Node.StateTransitionTime = wt(now)
	}
}

func (s *Server) stepPool(pk string, p *poolRec, now time.Time) {
	for _, n := range p.Nodes {
		switch {
		case n.Node.State == nodeCreating && !now.Before(n.ReadyAt):
			setNodeState(n, nodeStarting, now)
			n.Node.LastBootTime = wtp(now)
			s.dirty = true
		case n.Node.State == nodeStarting, n.startPending:
			s.startNode(pk, p, n, now)
		case n.PendingBoot != "" && n.Node.RunningTasksCount == 0 && !n.Leaving:
			s.bootNode(n, n.PendingBoot, now)
		case (n.Node.State == nodeRebooting || n.Node.State == nodeReimaging) && !now.Before(n.ReadyAt):
			if n.Node.State == nodeReimaging {
				s.wipeNode(n)
			}
			setNodeState(n, nodeStarting, now)
			n.Node.LastBootTime = wtp(now)
			n.Node.StartTaskInfo = nil
			s.dirty = true
		}
	}
	if p.Pool.State == poolDeleting {
		s.removeLeftNodes(p)
		if len(p.Nodes) == 0 {
			delete(s.st.Pools, pk)
			s.dirty = true
		}
		return
	}
	if p.Pool.AllocationState != allocSteady {
		s.converge(pk, p, now)
	}
	s.removeLeftNodes(p)
	ded, low := 0, 0
	for _, n := range p.Nodes {
		if n.Node.IsDedicated {
			ded++
		} else {
			low++
		}
	}
	if ded != p.Pool.CurrentDedicatedNodes || low != p.Pool.CurrentLowPriorityNodes {
		p.Pool.CurrentDedicatedNodes, p.Pool.CurrentLowPriorityNodes = ded, low
		s.touchPool(p, now)
	}
	// A resize ends when the nodes are allocated (out of "creating"), or at
	// once when it was stopped.
	creating := false
	for _, n := range p.Nodes {
		creating = creating || n.Node.State == nodeCreating
	}
	if p.Pool.AllocationState != allocSteady && ded == p.Pool.TargetDedicatedNodes && low == p.Pool.TargetLowPriorityNodes &&
		(!creating || p.Pool.AllocationState == allocStopping) {
		s.setAllocation(p, allocSteady, now)
		s.touchPool(p, now)
	}
	if p.Pool.EnableAutoScale {
		if !now.Before(p.NextSample) {
			s.sampleAutoScale(p, now)
			p.NextSample = now.Add(s.opts.SampleInterval)
		}
		if !now.Before(p.NextEvaluation) && p.Pool.AutoScaleEvaluationInterval != nil {
			s.runAutoScale(p, now)
			p.NextEvaluation = now.Add(time.Duration(*p.Pool.AutoScaleEvaluationInterval))
		}
	}
}

// converge adds or evicts nodes until the pool matches its targets; mu held.
func (s *Server) converge(pk string, p *poolRec, now time.Time) {
	ded, low := currentNodes(p)
	for ; ded < p.Pool.TargetDedicatedNodes; ded++ {
		s.addNode(pk, p, true, now)
	}
	for ; low < p.Pool.TargetLowPriorityNodes; low++ {
		s.addNode(pk, p, false, now)
	}
	if ded <= p.Pool.TargetDedicatedNodes && low <= p.Pool.TargetLowPriorityNodes {
		return
	}
	// Evict the least busy nodes first, newest first among equals.
	cands := make([]*nodeRec, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		if !n.Leaving {
			cands = append(cands, n)
		}
	}
	sort.SliceStable(cands, func(a, b int) bool {
		if cands[a].Node.RunningTasksCount != cands[b].Node.RunningTasksCount {
			return cands[a].Node.RunningTasksCount < cands[b].Node.RunningTasksCount
		}
		return cands[a].Node.AllocationTime.After(cands[b].Node.AllocationTime.Time)
	})
	opt := p.Deallocation
	if opt == "" {
		opt = "requeue"
	}
	for _, n := range cands {
		switch {
		case n.Node.IsDedicated && ded > p.Pool.TargetDedicatedNodes:
			ded--
		case !n.Node.IsDedicated && low > p.Pool.TargetLowPriorityNodes:
			low--
		default:
			continue
		}
		s.evictNode(p, n, opt, now)
	}
}

func poolNumber(pk string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(pk))
	return h.Sum32() % 2000000000
}

// addNode allocates a new node directory; mu held.
func (s *Server) addNode(pk string, p *poolRec, dedicated bool, now time.Time) {
	p.NodeSeq++
	// The sequence number is global, so ids (and directories) never repeat,
	// even when a pool is deleted and re-created within a second.
	s.st.Seq++
	id := fmt.Sprintf("tvm-%d_%d-%sz", poolNumber(pk), s.st.Seq, strings.ToLower(now.UTC().Format("20060102t150405")))
	dir := filepath.Join(s.rootDir, pk, id)
	for _, sub := range []string{"shared", "startup", "workitems", "fsmounts"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			s.log.Error("create node directory", "pool", p.Pool.ID, "node", id, "err", err)
		}
	}
	n := &nodeRec{
		Dir:     dir,
		ReadyAt: now.Add(s.opts.NodeStartDelay),
		Node: computeNode{
			ID: id, State: nodeCreating, SchedulingState: "enabled", StateTransitionTime: wt(now), AllocationTime: wt(now),
			IPAddress: fmt.Sprintf("10.0.%d.%d", (p.NodeSeq/250)%250, p.NodeSeq%250+4), AffinityID: "TVM:" + id, VMSize: p.Pool.VMSize,
			IsDedicated: dedicated, NodeAgentInfo: nodeAgentInfo{Version: "batchemu", LastUpdateTime: wt(now)},
		},
	}
	p.Nodes = append(p.Nodes, n)
	s.dirty = true
	s.log.Info("node allocated", "pool", p.Pool.ID, "node", id, "dedicated", dedicated)
}

// startNode runs the pool's start task on a starting node (or a pending
// start task retry), or makes the node idle when there is none; mu held.
func (s *Server) startNode(pk string, p *poolRec, n *nodeRec, now time.Time) {
	if !n.startPending && p.Pool.StartTask == nil {
		n.Node.StartTask, n.Node.StartTaskInfo = nil, nil
		setNodeState(n, nodeIdle, now)
		s.dirty = true
		return
	}
	if s.procs >= s.opts.Concurrency {
		return // wait for a process slot
	}
	if !n.startPending {
		st := *p.Pool.StartTask
		n.Node.StartTask = &st
		n.Node.StartTaskInfo = &startTaskInfo{State: "running", StartTime: wt(now)}
		if st.WaitForSuccess {
			setNodeState(n, nodeWaitingForStartTask, now)
		} else {
			setNodeState(n, nodeIdle, now)
		}
	}
	n.startPending = false
	n.Node.StartTaskInfo.State = "running"
	n.Node.StartTaskInfo.StartTime = wt(now)
	st := n.Node.StartTask
	dir := filepath.Join(n.Dir, "startup")
	env := s.nodeEnv(p, n)
	env = append(env, "AZ_BATCH_TASK_DIR="+dir, "AZ_BATCH_TASK_WORKING_DIR="+filepath.Join(dir, "wd"))
	env = appendSettings(env, st.EnvironmentSettings)
	spec := executor.Spec{CommandLine: st.CommandLine, Env: env, TaskDir: dir, ResourceFiles: toExecResourceFiles(st.ResourceFiles)}
	a := &attempt{start: true, poolKey: pk, nodeID: n.Node.ID}
	n.startRun = a
	s.dirty = true
	s.launch(a, spec, s.finishStart)
}

// launch starts a goroutine running spec; done is called with mu held when
// the attempt ends (unless the server is closing). mu held.
func (s *Server) launch(a *attempt, spec executor.Spec, done func(a *attempt, res executor.Result)) {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
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
		if !a.abandoned {
			done(a, res)
		}
		s.wake()
	}()
}

func (s *Server) findNode(pk, id string) (*poolRec, *nodeRec) {
	p, ok := s.st.Pools[pk]
	if !ok {
		return nil, nil
	}
	for _, n := range p.Nodes {
		if n.Node.ID == id {
			return p, n
		}
	}
	return p, nil
}

func (s *Server) finishStart(a *attempt, res executor.Result) {
	p, n := s.findNode(a.poolKey, a.nodeID)
	if n == nil || n.startRun != a {
		return
	}
	n.startRun = nil
	now := s.now()
	sti := n.Node.StartTaskInfo
	st := n.Node.StartTask
	sti.ExitCode = res.ExitCode
	sti.FailureInfo = fromExecFailure(res.Failure)
	if !res.EndTime.IsZero() {
		now = res.EndTime
	}
	s.dirty = true
	ok := res.Failure == nil && res.ExitCode != nil && *res.ExitCode == 0
	appFailure := res.Failure != nil && res.Failure.Code == executor.CodeFailureExitCode
	if !ok && appFailure && (st.MaxTaskRetryCount == -1 || sti.RetryCount < st.MaxTaskRetryCount) {
		sti.RetryCount++
		sti.LastRetryTime = wtp(now)
		n.startPending = true
		return
	}
	sti.State = "completed"
	sti.EndTime = wtp(now)
	if ok {
		sti.Result = "success"
		if n.Node.State == nodeWaitingForStartTask {
			setNodeState(n, nodeIdle, now)
		}
		return
	}
	sti.Result = "failure"
	s.log.Info("start task failed", "pool", p.Pool.ID, "node", n.Node.ID, "retries", sti.RetryCount)
	if st.WaitForSuccess && n.Node.State == nodeWaitingForStartTask {
		setNodeState(n, nodeStartTaskFailed, now)
	}
}

// nodeEnv is the environment shared by every process on node n.
func (s *Server) nodeEnv(p *poolRec, n *nodeRec) []string {
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

// removeLeftNodes drops leaving nodes that no longer run anything; mu held.
func (s *Server) removeLeftNodes(p *poolRec) {
	kept := p.Nodes[:0]
	for _, n := range p.Nodes {
		if n.Leaving && n.Node.RunningTasksCount == 0 && n.startRun == nil {
			s.log.Info("node removed", "pool", p.Pool.ID, "node", n.Node.ID)
			s.removeDir(n.Dir)
			s.dirty = true
			continue
		}
		kept = append(kept, n)
	}
	for i := len(kept); i < len(p.Nodes); i++ {
		p.Nodes[i] = nil
	}
	p.Nodes = kept
}

// removeDir deletes a directory in the background (processes being killed
// may still hold files in it).
func (s *Server) removeDir(dir string) {
	if dir == "" || s.closed {
		return
	}
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		if err := os.RemoveAll(dir); err != nil {
			s.log.Warn("remove directory", "dir", dir, "err", err)
		}
	}()
}

// evictNode makes n leave its pool with the given deallocation option; mu held.
func (s *Server) evictNode(p *poolRec, n *nodeRec, opt string, now time.Time) {
	if n.Leaving {
		return
	}
	n.Leaving = true
	setNodeState(n, nodeLeavingPool, now)
	if n.startRun != nil {
		n.startRun.abandoned = true
		n.startRun.cancel()
		n.startRun = nil
	}
	n.startPending = false
	for _, j := range s.st.Jobs {
		for _, t := range j.Tasks {
			if t.run == nil || t.run.poolKey != key(p.Pool.ID) || t.run.nodeID != n.Node.ID {
				continue
			}
			switch opt {
			case "terminate":
				s.endTask(j, t, now)
			case "taskcompletion", "retaineddata":
				// the task finishes; the node leaves afterwards
			default:
				s.requeueTask(j, t, now)
			}
		}
	}
	s.dirty = true
}

// releaseNode gives a task attempt's slots back to its node; mu held.
func (s *Server) releaseNode(a *attempt) {
	if a.released {
		return
	}
	a.released = true
	_, n := s.findNode(a.poolKey, a.nodeID)
	if n == nil {
		return
	}
	n.Node.RunningTasksCount--
	n.Node.RunningTaskSlotsCount -= a.slots
	if n.Node.RunningTasksCount <= 0 {
		n.Node.RunningTasksCount, n.Node.RunningTaskSlotsCount = 0, 0
		if n.Node.State == nodeRunning {
			setNodeState(n, nodeIdle, s.now())
		}
	}
	s.dirty = true
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

func (s *Server) removeTaskDir(t *taskRec) {
	if t.Dir != "" && !t.FilesCleaned {
		s.removeDir(t.Dir)
		t.FilesCleaned = true
	}
}

// stepJobs completes terminating jobs, removes deleted ones, applies job
// constraints and onAllTasksComplete, and enforces task retention; mu held.
func (s *Server) stepJobs(now time.Time) {
	for jk, j := range s.st.Jobs {
		switch jobState(j.Job.State) {
		case jobDeleting:
			for _, t := range j.Tasks {
				s.killTask(j, t)
				s.removeTaskDir(t)
			}
			delete(s.st.Jobs, jk)
			s.dirty = true
		case jobTerminating:
			s.setJobState(j, jobCompleted, now)
			j.Job.ExecutionInfo.EndTime = wtp(now)
		case jobEnabling:
			s.setJobState(j, jobActive, now)
		case jobDisabling:
			running := false
			for _, t := range j.Tasks {
				running = running || t.Task.State == taskRunning
			}
			if !running {
				s.setJobState(j, jobDisabled, now)
			}
		case jobActive:
			if d := j.Job.Constraints.MaxWallClockTime; d != nil && time.Duration(*d) != infiniteDuration &&
				now.Sub(j.Job.CreationTime.Time) > time.Duration(*d) {
				s.terminateJobLocked(j, "MaxWallClockTimeExpiry", now)
				continue
			}
			all := true
			for _, t := range j.Tasks {
				if t.Task.State != taskCompleted {
					all = false
					continue
				}
				if r := t.Task.Constraints.RetentionTime; r != nil && !t.FilesCleaned && t.Dir != "" && t.Task.ExecutionInfo.EndTime != nil &&
					time.Duration(*r) != infiniteDuration && now.Sub(t.Task.ExecutionInfo.EndTime.Time) > time.Duration(*r) {
					s.removeTaskDir(t)
					s.dirty = true
				}
			}
			if all && j.Job.OnAllTasksComplete == "terminatejob" {
				s.terminateJobLocked(j, "AllTasksComplete", now)
			}
		}
	}
}

type candidate struct {
	j *jobRec
	t *taskRec
}

// schedule assigns active tasks to free slots; mu held.
func (s *Server) schedule(now time.Time) {
	if s.procs >= s.opts.Concurrency {
		return
	}
	free := map[string]bool{}
	for pk, p := range s.st.Pools {
		if p.Pool.State != poolActive {
			continue
		}
		for _, n := range p.Nodes {
			if schedulable(n) && n.Node.RunningTaskSlotsCount < p.Pool.TaskSlotsPerNode {
				free[pk] = true
				break
			}
		}
	}
	if len(free) == 0 {
		return
	}
	var cands []candidate
	running := map[*jobRec]int{}
	for _, j := range s.st.Jobs {
		if jobState(j.Job.State) != jobActive || !free[key(j.Job.PoolInfo.PoolID)] {
			continue
		}
		for _, t := range j.Tasks {
			switch t.Task.State {
			case taskActive:
				if depsSatisfied(j, t) {
					cands = append(cands, candidate{j, t})
				}
			case taskRunning:
				running[j]++
			}
		}
	}
	sort.Slice(cands, func(a, b int) bool {
		ja, jb := cands[a].j, cands[b].j
		if ja != jb {
			if ja.Job.Priority != jb.Job.Priority {
				return ja.Job.Priority > jb.Job.Priority
			}
			if !ja.Job.CreationTime.Equal(jb.Job.CreationTime.Time) {
				return ja.Job.CreationTime.Before(jb.Job.CreationTime.Time)
			}
			return ja.Job.ID < jb.Job.ID
		}
		return cands[a].t.Order < cands[b].t.Order
	})
	for _, c := range cands {
		if s.procs >= s.opts.Concurrency {
			return
		}
		if m := c.j.Job.MaxParallelTasks; m >= 0 && running[c.j] >= m {
			continue
		}
		pk := key(c.j.Job.PoolInfo.PoolID)
		p := s.st.Pools[pk]
		n := pickNode(p, c.t.Task.RequiredSlots)
		if n == nil {
			continue
		}
		s.launchTask(c.j, c.t, pk, p, n, now)
		running[c.j]++
	}
}

func schedulable(n *nodeRec) bool {
	return !n.Leaving && n.PendingBoot == "" && n.Node.SchedulingState == "enabled" &&
		(n.Node.State == nodeIdle || n.Node.State == nodeRunning)
}

// pickNode chooses a node with slots free for the pool's fill type.
func pickNode(p *poolRec, slots int) *nodeRec {
	pack := p.Pool.TaskSchedulingPolicy != nil && p.Pool.TaskSchedulingPolicy.NodeFillType == "pack"
	var best *nodeRec
	for _, n := range p.Nodes {
		if !schedulable(n) || p.Pool.TaskSlotsPerNode-n.Node.RunningTaskSlotsCount < slots {
			continue
		}
		if best == nil ||
			(!pack && n.Node.RunningTaskSlotsCount < best.Node.RunningTaskSlotsCount) ||
			(pack && n.Node.RunningTaskSlotsCount > best.Node.RunningTaskSlotsCount) {
			best = n
		}
	}
	return best
}

// launchTask starts one attempt of t on node n; mu held.
func (s *Server) launchTask(j *jobRec, t *taskRec, pk string, p *poolRec, n *nodeRec, now time.Time) {
	rel := filepath.ToSlash(filepath.Join("workitems", j.Job.ID, "job-1", t.Task.ID))
	dir := filepath.Join(n.Dir, filepath.FromSlash(rel))
	s.setTaskState(t, taskRunning, now)
	ei := &t.Task.ExecutionInfo
	ei.StartTime = wtp(now)
	ei.EndTime, ei.ExitCode, ei.Result, ei.FailureInfo = nil, nil, "", nil
	t.Task.NodeInfo = &nodeInfo{AffinityID: n.Node.AffinityID, PoolID: p.Pool.ID, NodeID: n.Node.ID, TaskRootDirectory: rel}
	if t.Dir != "" && t.Dir != dir {
		s.removeTaskDir(t) // a previous attempt ran on another node
	}
	t.Dir, t.Pool, t.Node, t.FilesCleaned = dir, pk, n.Node.ID, false
	s.touchTask(j, t, now)

	n.Node.RunningTasksCount++
	n.Node.RunningTaskSlotsCount += t.Task.RequiredSlots
	setNodeState(n, nodeRunning, now)
	info := taskInformation{JobID: j.Job.ID, TaskID: t.Task.ID, TaskState: taskRunning}
	n.Node.RecentTasks = append(n.Node.RecentTasks, info)
	if len(n.Node.RecentTasks) > 10 {
		n.Node.RecentTasks = n.Node.RecentTasks[len(n.Node.RecentTasks)-10:]
	}

	env := s.nodeEnv(p, n)
	env = append(env, "AZ_BATCH_JOB_ID="+j.Job.ID, "AZ_BATCH_TASK_ID="+t.Task.ID,
		"AZ_BATCH_TASK_DIR="+dir, "AZ_BATCH_TASK_WORKING_DIR="+filepath.Join(dir, "wd"))
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
	a := &attempt{poolKey: pk, nodeID: n.Node.ID, jobKey: key(j.Job.ID), taskKey: key(t.Task.ID), slots: t.Task.RequiredSlots}
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
	now := s.now()
	if !res.EndTime.IsZero() {
		now = res.EndTime
	}
	success := res.Failure == nil && res.ExitCode != nil && *res.ExitCode == 0
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
	appFailure := res.Failure != nil && res.Failure.Code == executor.CodeFailureExitCode
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
}
