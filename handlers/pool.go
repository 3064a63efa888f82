package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// errNotReady marks a transient state (a pool or job being deleted or
// terminated by SweepPools): the invocation fails and is redelivered.
var errNotReady = errors.New("not ready; will be retried")

func (a *App) poolOptions() plan.PoolOptions {
	c := a.cfg
	return plan.PoolOptions{
		ID: c.PoolID, VMSize: c.VMSize, TaskSlotsPerNode: c.TaskSlotsPerNode,
		DedicatedMin: c.DedicatedMin, DedicatedMax: c.DedicatedMax, SpotMin: c.SpotMin, SpotMax: c.SpotMax,
		Autoscale: c.Scaling == config.ScalingAutoscale, AutoscaleInterval: c.AutoscaleInterval,
		ImagePublisher: c.ImagePublisher, ImageOffer: c.ImageOffer, ImageSKU: c.ImageSKU, ImageVersion: c.ImageVersion,
		NodeAgentSKU: c.NodeAgentSKU, ContainerImage: c.ContainerImage, StartTaskCommand: c.StartTaskCommand,
	}
}

const poolSelect = "id,state,allocationState,enableAutoScale,targetDedicatedNodes,targetLowPriorityNodes,currentDedicatedNodes,currentLowPriorityNodes,taskSlotsPerNode"

// ensurePool returns the pool, creating it if missing. A pool being
// deleted (by an idle sweep) is a transient error.
func (a *App) ensurePool(ctx context.Context) (*batch.Pool, error) {
	id := a.cfg.PoolID
	p, err := a.d.Batch.GetPool(ctx, id, &batch.GetOptions{Select: poolSelect})
	if batch.HasCode(err, batch.CodePoolNotFound) {
		spec, perr := plan.Pool(a.poolOptions())
		if perr != nil {
			return nil, perr
		}
		err = a.d.Batch.CreatePool(ctx, spec)
		switch {
		case err == nil:
			a.log.Info("pool created", "pool_id", id, "scaling", a.cfg.Scaling)
		case batch.HasCode(err, batch.CodePoolExists):
			// A concurrent invocation created it.
		case batch.HasCode(err, batch.CodePoolBeingDeleted):
			return nil, fmt.Errorf("create pool %s: being deleted: %w", id, errNotReady)
		default:
			return nil, fmt.Errorf("create pool %s: %w", id, err)
		}
		p, err = a.d.Batch.GetPool(ctx, id, &batch.GetOptions{Select: poolSelect})
	}
	if err != nil {
		return nil, fmt.Errorf("get pool %s: %w", id, err)
	}
	if p.State == batch.PoolStateDeleting {
		return nil, fmt.Errorf("pool %s is being deleted: %w", id, errNotReady)
	}
	return p, nil
}

// ensureJob makes sure the job exists and accepts tasks.
func (a *App) ensureJob(ctx context.Context) error {
	id := a.cfg.JobID
	j, err := a.d.Batch.GetJob(ctx, id, &batch.GetOptions{Select: "id,state"})
	if batch.HasCode(err, batch.CodeJobNotFound) {
		err = a.d.Batch.CreateJob(ctx, plan.Job(id, a.cfg.PoolID))
		switch {
		case err == nil:
			a.log.Info("job created", "job_id", id)
			return nil
		case batch.HasCode(err, batch.CodeJobExists):
			j, err = a.d.Batch.GetJob(ctx, id, &batch.GetOptions{Select: "id,state"})
		case batch.HasCode(err, batch.CodeJobBeingDeleted):
			return fmt.Errorf("create job %s: being deleted: %w", id, errNotReady)
		default:
			return fmt.Errorf("create job %s: %w", id, err)
		}
	}
	if err != nil {
		return fmt.Errorf("get job %s: %w", id, err)
	}
	if j.State != batch.JobStateActive {
		return fmt.Errorf("job %s is %s: %w", id, j.State, errNotReady)
	}
	return nil
}

// growManagedPool resizes a managed pool at once when tasks are waiting and
// it has fewer target nodes than they need (a first file should not wait
// for an autoscale evaluation). Best effort: failures are logged.
func (a *App) growManagedPool(ctx context.Context, p *batch.Pool) {
	if a.cfg.Scaling != config.ScalingManaged || p.EnableAutoScale || p.AllocationState != batch.PoolAllocationStateSteady {
		return
	}
	counts, err := a.d.Batch.GetTaskCounts(ctx, a.cfg.JobID)
	if err != nil {
		a.log.Warn("managed pool: task counts failed", "err", err)
		return
	}
	pending := int(counts.TaskCounts.Active + counts.TaskCounts.Running)
	d, s := plan.ManagedTargets(a.poolOptions(), pending)
	if d <= int(p.TargetDedicatedNodes) && s <= int(p.TargetLowPriorityNodes) {
		return
	}
	d, s = max(d, int(p.TargetDedicatedNodes)), max(s, int(p.TargetLowPriorityNodes))
	if err := a.resize(ctx, d, s); err != nil {
		a.log.Warn("managed pool: grow failed", "err", err)
		return
	}
	a.log.Info("managed pool: grown", "pool_id", a.cfg.PoolID, "dedicated", d, "spot", s, "pending", pending)
}

func (a *App) resize(ctx context.Context, dedicated, spot int) error {
	d, s := int32(dedicated), int32(spot)
	err := a.d.Batch.ResizePool(ctx, a.cfg.PoolID, batch.PoolResizeParameter{
		TargetDedicatedNodes: &d, TargetLowPriorityNodes: &s,
		NodeDeallocationOption: batch.NodeDeallocationOptionTaskCompletion,
	})
	if err != nil {
		return fmt.Errorf("resize pool %s to %d dedicated, %d spot: %w", a.cfg.PoolID, dedicated, spot, err)
	}
	return nil
}
