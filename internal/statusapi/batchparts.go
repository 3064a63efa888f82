package statusapi

import (
	"context"
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Selects of the Batch requests: only what the page shows.
const (
	poolSelect  = "id,state,allocationState,enableAutoScale,targetDedicatedNodes,targetLowPriorityNodes,currentDedicatedNodes,currentLowPriorityNodes,taskSlotsPerNode"
	nodeSelect  = "id,state,runningTaskSlotsCount,isDedicated"
	taskSelect  = "id,state,executionInfo"
	listPageMax = 1000
)

// pool reads the pool and the first page of its nodes; nil without a pool.
func (b *Builder) pool(ctx context.Context) (*Pool, error) {
	bp, err := b.src.Batch.GetPool(ctx, b.cfg.PoolID, &batch.GetOptions{Select: poolSelect})
	if batch.HasCode(err, batch.CodePoolNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Pool{ID: bp.ID, State: string(bp.State), AllocationState: string(bp.AllocationState), Autoscale: bp.EnableAutoScale,
		TargetDedicated: bp.TargetDedicatedNodes, TargetSpot: bp.TargetLowPriorityNodes,
		CurrentDedicated: bp.CurrentDedicatedNodes, CurrentSpot: bp.CurrentLowPriorityNodes,
		TaskSlotsPerNode: max(bp.TaskSlotsPerNode, 1), Nodes: []Node{}, Heat: map[Heat]int{}}
	pager := b.src.Batch.NewListNodesPager(b.cfg.PoolID, &batch.ListOptions{Select: nodeSelect, MaxResults: listPageMax})
	if !pager.More() {
		return p, nil
	}
	page, err := pager.NextPage(ctx)
	if err != nil {
		return p, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range page.Value {
		node := Node{ID: n.ID, State: string(n.State), Heat: HeatOf(n.State), RunningSlots: n.RunningTaskSlotsCount, Dedicated: n.IsDedicated}
		p.Nodes = append(p.Nodes, node)
		p.Heat[node.Heat]++
		p.Slots.Total += p.TaskSlotsPerNode
		p.Slots.Running += n.RunningTaskSlotsCount
	}
	p.NodesTruncated = pager.More()
	return p, nil
}

// liveTask is a task that has left the active state.
type liveTask struct {
	state   results.State
	started time.Time
}

// liveTasks maps the tasks that have started (preparing, running, or
// completed and not yet settled) to the state their requests report: one
// page of the job's tasks that are not active, which is bounded by the
// pool's task slots plus the sweep's backlog. Best effort: empty when the
// job cannot be listed.
func (b *Builder) liveTasks(ctx context.Context) map[string]liveTask {
	out := map[string]liveTask{}
	pager := b.src.Batch.NewListTasksPager(b.cfg.JobID, &batch.ListOptions{Filter: "state ne 'active'", Select: taskSelect, MaxResults: listPageMax})
	if !pager.More() {
		return out
	}
	page, err := pager.NextPage(ctx)
	if err != nil {
		return out
	}
	for _, t := range page.Value {
		st, ok := results.StateForTask(t.State)
		if !ok {
			continue
		}
		lt := liveTask{state: st}
		if t.ExecutionInfo != nil {
			lt.started = t.ExecutionInfo.StartTime
		}
		out[t.ID] = lt
	}
	return out
}
