package batchemu

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/taskrun"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// setNodeState moves n to state, stamping stateTransitionTime on a change.
func setNodeState(n *store.Node, to string, now time.Time) {
	if n.Node.State != to {
		n.Node.State = to
		n.Node.StateTransitionTime = wire.At(now)
	}
}

// stepPool advances p's node lifecycles, resize and autoscale; mu held.
func (s *Server) stepPool(pk string, p *store.Pool, now time.Time) {
	for _, n := range p.Nodes {
		switch {
		case n.Node.State == wire.NodeCreating && !now.Before(n.ReadyAt):
			setNodeState(n, wire.NodeStarting, now)
			n.Node.LastBootTime = wire.AtPtr(now)
			s.markDirty()
		case n.Node.State == wire.NodeStarting, n.StartPending:
			s.startNode(pk, p, n, now)
		case n.PendingBoot != "" && n.Node.RunningTasksCount == 0 && !n.Leaving:
			s.bootNode(n, n.PendingBoot, now)
		case (n.Node.State == wire.NodeRebooting || n.Node.State == wire.NodeReimaging) && !now.Before(n.ReadyAt):
			if n.Node.State == wire.NodeReimaging {
				s.wipeNode(n)
			}
			setNodeState(n, wire.NodeStarting, now)
			n.Node.LastBootTime = wire.AtPtr(now)
			n.Node.StartTaskInfo = nil
			s.markDirty()
		}
	}
	if p.Pool.State == wire.PoolDeleting {
		s.removeLeftNodes(p)
		if len(p.Nodes) == 0 {
			delete(s.st.Pools, pk)
			s.markDirty()
		}
		return
	}
	if p.Pool.AllocationState != wire.AllocSteady {
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
		creating = creating || n.Node.State == wire.NodeCreating
	}
	tD, tL := p.Pool.TargetDedicatedNodes, p.Pool.TargetLowPriorityNodes
	capped := ded+low >= s.opts.maxPoolNodes && ded <= tD && low <= tL && (ded < tD || low < tL)
	if p.Pool.AllocationState != wire.AllocSteady && (ded == tD && low == tL || capped) &&
		(!creating || p.Pool.AllocationState == wire.AllocStopping) {
		if capped {
			p.Pool.ResizeErrors = append(p.Pool.ResizeErrors, wireerr.ResizeQuotaReached(s.opts.maxPoolNodes))
		}
		s.setAllocation(p, wire.AllocSteady, now)
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
func (s *Server) converge(pk string, p *store.Pool, now time.Time) {
	ded, low := currentNodes(p)
	total := len(p.Nodes) // leaving nodes still hold their "VM"
	for ; ded < p.Pool.TargetDedicatedNodes && total < s.opts.maxPoolNodes; ded++ {
		s.addNode(pk, p, true, now)
		total++
	}
	for ; low < p.Pool.TargetLowPriorityNodes && total < s.opts.maxPoolNodes; low++ {
		s.addNode(pk, p, false, now)
		total++
	}
	if ded <= p.Pool.TargetDedicatedNodes && low <= p.Pool.TargetLowPriorityNodes {
		return
	}
	// Evict the least busy nodes first, newest first among equals.
	cands := make([]*store.Node, 0, len(p.Nodes))
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

// poolNumber is the pool-specific number in node ids.
func poolNumber(pk string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(pk))
	return h.Sum32() % 2000000000
}

// addNode allocates a new node directory; mu held.
func (s *Server) addNode(pk string, p *store.Pool, dedicated bool, now time.Time) {
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
	n := &store.Node{
		Dir:     dir,
		ReadyAt: now.Add(s.opts.NodeStartDelay),
		Node: wire.ComputeNode{
			ID: id, State: wire.NodeCreating, SchedulingState: "enabled", StateTransitionTime: wire.At(now), AllocationTime: wire.At(now),
			IPAddress: fmt.Sprintf("10.0.%d.%d", (p.NodeSeq/250)%250, p.NodeSeq%250+4), AffinityID: "TVM:" + id, VMSize: p.Pool.VMSize,
			IsDedicated: dedicated, NodeAgentInfo: wire.NodeAgentInfo{Version: "batchemu", LastUpdateTime: wire.At(now)},
		},
	}
	p.Nodes = append(p.Nodes, n)
	s.markDirty()
	s.log.Info("node allocated", "pool", p.Pool.ID, "node", id, "dedicated", dedicated)
}

// startNode runs the pool's start task on a starting node (or a pending
// start task retry), or makes the node idle when there is none; mu held.
func (s *Server) startNode(pk string, p *store.Pool, n *store.Node, now time.Time) {
	if !n.StartPending && p.Pool.StartTask == nil {
		n.Node.StartTask, n.Node.StartTaskInfo = nil, nil
		setNodeState(n, wire.NodeIdle, now)
		s.markDirty()
		return
	}
	if s.procs >= s.opts.Concurrency {
		return // wait for a process slot
	}
	if !n.StartPending {
		st := *p.Pool.StartTask
		n.Node.StartTask = &st
		n.Node.StartTaskInfo = &wire.StartTaskInfo{State: "running", StartTime: wire.At(now)}
		if st.WaitForSuccess {
			setNodeState(n, wire.NodeWaitingForStartTask, now)
		} else {
			setNodeState(n, wire.NodeIdle, now)
		}
	}
	n.StartPending = false
	n.Node.StartTaskInfo.State = "running"
	n.Node.StartTaskInfo.StartTime = wire.At(now)
	a := &store.Attempt{Start: true, PoolKey: pk, NodeID: n.Node.ID}
	n.StartRun = a
	s.markDirty()
	s.launch(a, taskrun.ForStartTask(n, n.Node.StartTask).Spec(s.account(), p, n), s.finishStart)
}

// findNode returns pool pk and its node id (nil when absent); mu held.
func (s *Server) findNode(pk, id string) (*store.Pool, *store.Node) {
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

// finishStart records a start task attempt: retry, success (the node
// becomes idle) or final failure (starttaskfailed with waitForSuccess); mu held.
func (s *Server) finishStart(a *store.Attempt, res executor.Result) {
	p, n := s.findNode(a.PoolKey, a.NodeID)
	if n == nil || n.StartRun != a {
		return
	}
	n.StartRun = nil
	now := taskrun.EndedAt(res, s.now())
	sti := n.Node.StartTaskInfo
	st := n.Node.StartTask
	s.markDirty()
	if taskrun.Retry(&sti.AttemptOutcome, res, st.MaxTaskRetryCount, now) {
		n.StartPending = true
		return
	}
	sti.State = "completed"
	taskrun.Finish(&sti.AttemptOutcome, res, now)
	if sti.Result == "success" {
		if n.Node.State == wire.NodeWaitingForStartTask {
			setNodeState(n, wire.NodeIdle, now)
		}
		return
	}
	s.log.Info("start task failed", "pool", p.Pool.ID, "node", n.Node.ID, "retries", sti.RetryCount)
	if st.WaitForSuccess && n.Node.State == wire.NodeWaitingForStartTask {
		setNodeState(n, wire.NodeStartTaskFailed, now)
	}
}

// removeLeftNodes drops leaving nodes that no longer run anything; mu held.
func (s *Server) removeLeftNodes(p *store.Pool) {
	kept := p.Nodes[:0]
	for _, n := range p.Nodes {
		if n.Leaving && n.Node.RunningTasksCount == 0 && n.StartRun == nil {
			s.log.Info("node removed", "pool", p.Pool.ID, "node", n.Node.ID)
			s.forgetNodePrep(store.Key(p.Pool.ID), n.Node.ID, false)
			s.removeDir(n.Dir)
			s.markDirty()
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
//
// The directory is first renamed out of the way (one quick syscall, under
// mu), so a task re-added with the same id, or a node that reuses the path,
// never sees its new directory deleted by an old removal.
func (s *Server) removeDir(dir string) {
	if dir == "" || s.closed {
		return
	}
	s.st.Seq++
	trash := fmt.Sprintf("%s.deleted-%d", dir, s.st.Seq)
	if err := os.Rename(dir, trash); err != nil {
		if !os.IsNotExist(err) {
			s.log.Warn("remove directory", "dir", dir, "err", err)
		}
		return
	}
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		if err := os.RemoveAll(trash); err != nil {
			s.log.Warn("remove directory", "dir", trash, "err", err)
		}
	}()
}

// evictNode makes n leave its pool with the given deallocation option; mu held.
func (s *Server) evictNode(p *store.Pool, n *store.Node, opt string, now time.Time) {
	if n.Leaving {
		return
	}
	n.Leaving = true
	setNodeState(n, wire.NodeLeavingPool, now)
	if n.StartRun != nil {
		n.StartRun.Abandoned = true
		n.StartRun.Cancel()
		n.StartRun = nil
	}
	n.StartPending = false
	for _, j := range s.st.Jobs {
		for _, t := range j.Tasks {
			if t.Run == nil || t.Run.PoolKey != store.Key(p.Pool.ID) || t.Run.NodeID != n.Node.ID {
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
	s.markDirty()
}

// releaseNode gives a task attempt's slots back to its node; mu held.
func (s *Server) releaseNode(a *store.Attempt) {
	if a.Released {
		return
	}
	a.Released = true
	_, n := s.findNode(a.PoolKey, a.NodeID)
	if n == nil {
		return
	}
	n.Node.RunningTasksCount--
	n.Node.RunningTaskSlotsCount -= a.Slots
	if n.Node.RunningTasksCount <= 0 {
		n.Node.RunningTasksCount, n.Node.RunningTaskSlotsCount = 0, 0
		if n.Node.State == wire.NodeRunning {
			setNodeState(n, wire.NodeIdle, s.now())
		}
	}
	s.markDirty()
}
