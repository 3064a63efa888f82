package placement

import (
	"sort"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// Candidate is an active task whose dependencies are satisfied.
type Candidate struct {
	Job  *store.Job
	Task *store.Task
}

// Sort orders candidates the way the service serves them: higher job
// priority first, then older jobs, then job id; within a job, tasks in the
// order they were added.
func Sort(cands []Candidate) {
	sort.Slice(cands, func(a, b int) bool {
		ja, jb := cands[a].Job, cands[b].Job
		if ja != jb {
			if ja.Job.Priority != jb.Job.Priority {
				return ja.Job.Priority > jb.Job.Priority
			}
			if !ja.Job.CreationTime.Equal(jb.Job.CreationTime.Time) {
				return ja.Job.CreationTime.Before(jb.Job.CreationTime.Time)
			}
			return ja.Job.ID < jb.Job.ID
		}
		return cands[a].Task.Order < cands[b].Task.Order
	})
}

// Schedulable reports whether n takes new tasks at all: idle or running,
// scheduling enabled, not leaving and no reboot or reimage pending.
func Schedulable(n *store.Node) bool {
	return !n.Leaving && n.PendingBoot == "" && n.Node.SchedulingState == "enabled" &&
		(n.Node.State == wire.NodeIdle || n.Node.State == wire.NodeRunning)
}

// HasRoom reports whether n, a node of p, can take a task of slots slots now.
func HasRoom(p *store.Pool, n *store.Node, slots int) bool {
	return Schedulable(n) && p.Pool.TaskSlotsPerNode-n.Node.RunningTaskSlotsCount >= slots
}

// Choose picks the node of p (pool key pk) that gets task c, or nil when
// none can take it now: the task's affinity node when it can (affinity is
// a preference), otherwise the best node for the pool's fill type.
func Choose(c Candidate, pk string, p *store.Pool) *store.Node {
	slots := TaskSlots(c.Job, c.Task, p)
	ok := func(n *store.Node) bool { return PrepReady(c.Job, pk, n) && jobManagerFits(c.Job, c.Task, n) }
	if ai := c.Task.Task.AffinityInfo; ai != nil {
		if n := pickNode(p, slots, func(n *store.Node) bool { return n.Node.AffinityID == ai.AffinityID && ok(n) }); n != nil {
			return n
		}
	}
	return pickNode(p, slots, ok)
}

// pickNode chooses a node with room that ok accepts: the least busy for a
// "spread" pool, the busiest for a "pack" pool.
func pickNode(p *store.Pool, slots int, ok func(*store.Node) bool) *store.Node {
	pack := p.Pool.TaskSchedulingPolicy != nil && p.Pool.TaskSchedulingPolicy.NodeFillType == "pack"
	var best *store.Node
	for _, n := range p.Nodes {
		if !HasRoom(p, n, slots) || !ok(n) {
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

// TaskSlots is how many slots t occupies on a node of p: all of them for an
// exclusive job manager task.
func TaskSlots(j *store.Job, t *store.Task, p *store.Pool) int {
	if jm := j.Job.JobManagerTask; t.JobManager && jm != nil && jm.RunExclusive != nil && *jm.RunExclusive {
		return p.Pool.TaskSlotsPerNode
	}
	return t.Task.RequiredSlots
}

// jobManagerFits keeps a job manager task off low-priority nodes when it
// does not allow them.
func jobManagerFits(j *store.Job, t *store.Task, n *store.Node) bool {
	jm := j.Job.JobManagerTask
	return !t.JobManager || jm == nil || jm.AllowLowPriorityNode == nil || *jm.AllowLowPriorityNode || n.Node.IsDedicated
}

// PrepReady reports whether tasks of j may run on node n (of pool pk): the
// job has no preparation task, it succeeded there, or the job does not
// wait for its success.
func PrepReady(j *store.Job, pk string, n *store.Node) bool {
	prep := j.Job.JobPreparationTask
	if prep == nil {
		return true
	}
	st := j.Prep[store.PrepKey(pk, n.Node.ID)]
	if st == nil || st.Prep == nil {
		return false
	}
	wait := prep.WaitForSuccess == nil || *prep.WaitForSuccess
	return st.Prep.State == "completed" && st.Prep.Result == "success" || !wait
}
