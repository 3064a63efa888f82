package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/arrival/arrivalmsg"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
)

// idleMetadata is the job metadata item in which SweepPools remembers
// since when the job has had no tasks (RFC 3339), so idleness survives
// across runs of a stateless function.
const idleMetadata = "ffbatch-idle-since"

// sweepIdle shrinks a managed pool with no pending tasks to its minimum
// and removes the job and pool once they have been idle for longer than
// the idle timeout. It returns a line for the invocation log.
func (a *App) sweepIdle(ctx context.Context) (string, error) {
	job, err := a.d.Batch.GetJob(ctx, a.cfg.JobID, &batch.GetOptions{Select: "id,state,metadata"})
	if batch.HasCode(err, batch.CodeJobNotFound) {
		return a.deleteIdlePool(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("get job %s: %w", a.cfg.JobID, err)
	}
	if job.State == batch.JobStateCompleted {
		return a.deleteJobAndPool(ctx)
	}
	if job.State != batch.JobStateActive {
		return "", nil // terminating or deleting: a concurrent sweep is on it
	}
	counts, err := a.d.Batch.GetTaskCounts(ctx, a.cfg.JobID)
	if err != nil {
		return "", fmt.Errorf("task counts of job %s: %w", a.cfg.JobID, err)
	}
	tc := counts.TaskCounts
	pending := int(tc.Active + tc.Running)
	if pending > 0 {
		// Tasks wait for a pool that someone deleted (the job keeps only
		// its id): create it again, or they would wait forever.
		if _, err := a.ensurePool(ctx); err != nil {
			a.log.Warn("sweep: pool for pending tasks not available", "pool_id", a.cfg.PoolID, "err", err)
		}
	}
	a.sizeManagedPool(ctx, pending)
	since, marked := idleSince(job)
	if pending+int(tc.Completed) > 0 {
		if marked {
			if err := a.setIdleSince(ctx, job, time.Time{}); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	now := a.now()
	if !marked {
		return "job idle: timer started", a.setIdleSince(ctx, job, now)
	}
	if now.Sub(since) < a.cfg.PoolIdleTimeout {
		return "", nil
	}
	// Idle long enough. Terminate first so SubmitTasks cannot add to it,
	// then rescue anything that slipped in between the count and the
	// termination.
	if err := a.d.Batch.TerminateJob(ctx, a.cfg.JobID, "ffbatch idle timeout"); err != nil &&
		!batch.HasCode(err, batch.CodeJobCompleted) && !batch.HasCode(err, batch.CodeJobBeingTerminated) && !batch.HasCode(err, batch.CodeJobNotFound) {
		return "", fmt.Errorf("terminate idle job %s: %w", a.cfg.JobID, err)
	}
	if err := a.rescue(ctx); err != nil {
		return "", err
	}
	return a.deleteJobAndPool(ctx)
}

func idleSince(j *batch.Job) (time.Time, bool) {
	for _, m := range j.Metadata {
		if m.Name == idleMetadata {
			t, err := time.Parse(time.RFC3339Nano, m.Value)
			return t, err == nil
		}
	}
	return time.Time{}, false
}

// setIdleSince writes (or, for a zero t, removes) the idle mark, keeping
// the job's other metadata.
func (a *App) setIdleSince(ctx context.Context, j *batch.Job, t time.Time) error {
	md := []batch.MetadataItem{}
	for _, m := range j.Metadata {
		if m.Name != idleMetadata {
			md = append(md, m)
		}
	}
	if !t.IsZero() {
		md = append(md, batch.MetadataItem{Name: idleMetadata, Value: t.UTC().Format(time.RFC3339Nano)})
	}
	if err := a.d.Batch.PatchJob(ctx, j.ID, batch.JobPatchParameter{Metadata: md}); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) {
		return fmt.Errorf("mark job %s idle: %w", j.ID, err)
	}
	return nil
}

// rescue re-sends the arrivals of tasks that are still active or running
// in a terminated job (they would never run), with a distinct message id.
func (a *App) rescue(ctx context.Context) error {
	pager := a.d.Batch.NewListTasksPager(a.cfg.JobID, &batch.ListOptions{Filter: "state ne 'completed'", Select: "id,state,environmentSettings"})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if batch.HasCode(err, batch.CodeJobNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list unfinished tasks of job %s: %w", a.cfg.JobID, err)
		}
		for i := range page.Value {
			f, err := plan.FileOf(&page.Value[i])
			if err != nil {
				continue
			}
			// The request's record still says its task is in flight, so
			// SubmitTasks adds the same task to the next job.
			msg, err := arrivalmsg.New(arrival.FromRequest(f.Request))
			if err != nil {
				return err
			}
			msg.MessageID = to.Ptr("rescue-" + request.Hash(f.ID, page.Value[i].ID)[:64])
			if err := a.d.Arrivals.SendMessage(ctx, msg, nil); err != nil {
				return fmt.Errorf("rescue %s/%s: %w", f.Container, f.Blob, err)
			}
			a.log.Warn("sweep: rescued a task added while the job was being terminated", "task_id", page.Value[i].ID)
		}
	}
	return nil
}

func (a *App) deleteJobAndPool(ctx context.Context) (string, error) {
	if err := a.d.Batch.DeleteJob(ctx, a.cfg.JobID); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) && !batch.HasCode(err, batch.CodeJobBeingDeleted) {
		return "", fmt.Errorf("delete idle job %s: %w", a.cfg.JobID, err)
	}
	if err := a.d.Batch.DeletePool(ctx, a.cfg.PoolID); err != nil && !batch.HasCode(err, batch.CodePoolNotFound) && !batch.HasCode(err, batch.CodePoolBeingDeleted) {
		return "", fmt.Errorf("delete idle pool %s: %w", a.cfg.PoolID, err)
	}
	a.log.Info("sweep: idle job and pool deleted", "job_id", a.cfg.JobID, "pool_id", a.cfg.PoolID)
	return "idle job and pool deleted", nil
}

// deleteIdlePool removes a pool that has no job at all (the job was
// deleted by an earlier sweep that stopped before the pool).
func (a *App) deleteIdlePool(ctx context.Context) (string, error) {
	err := a.d.Batch.DeletePool(ctx, a.cfg.PoolID)
	switch {
	case err == nil:
		return "pool without job deleted", nil
	case batch.HasCode(err, batch.CodePoolNotFound), batch.HasCode(err, batch.CodePoolBeingDeleted):
		return "", nil
	}
	return "", fmt.Errorf("delete pool %s: %w", a.cfg.PoolID, err)
}

// sizeManagedPool shrinks a managed pool to its minimum when nothing is
// pending, and grows it when tasks wait. Best effort.
func (a *App) sizeManagedPool(ctx context.Context, pending int) {
	if a.cfg.Scaling != config.ScalingManaged {
		return
	}
	p, err := a.d.Batch.GetPool(ctx, a.cfg.PoolID, &batch.GetOptions{Select: poolSelect})
	if err != nil || p.EnableAutoScale || p.AllocationState != batch.PoolAllocationStateSteady {
		return
	}
	d, s := plan.ManagedTargets(a.poolOptions(), pending)
	if d == int(p.TargetDedicatedNodes) && s == int(p.TargetLowPriorityNodes) {
		return
	}
	if err := a.resize(ctx, d, s); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Warn("managed pool: resize failed", "err", err)
		return
	}
	a.log.Info("managed pool: resized", "dedicated", d, "spot", s, "pending", pending)
}
