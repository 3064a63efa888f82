package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// maxOrphanChecks bounds (to about this plus one listing page) the
// in-flight files one sweep checks against Batch; the next sweep continues
// the listing where this one stopped.
const maxOrphanChecks = 1000

// maxTaskIDPages bounds the pages of task ids one scan lists (1,000 ids a
// page): a job holds the tasks not yet completed and swept.
const maxTaskIDPages = 1000

// orphanScan remembers when this process last started a pass over the
// status store looking for lost tasks, and where an unfinished pass
// continues. mu guards last and marker.
type orphanScan struct {
	mu     sync.Mutex
	last   time.Time
	marker string
}

// start reports whether a scan should run at now and the listing marker
// it starts from. An unfinished pass continues at every sweep; a new pass
// starts at most once per half grace period: a file cannot be recovered
// before its grace period ends anyway, so more frequent passes would only
// repeat the listing.
func (o *orphanScan) start(now time.Time, grace time.Duration) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.marker != "" {
		return o.marker, true
	}
	if !o.last.IsZero() && now.Sub(o.last) < grace/2 && !now.Before(o.last) {
		return "", false
	}
	o.last = now
	return "", true
}

// done records where the next scan continues ("" when the pass is over).
func (o *orphanScan) done(next string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.marker = next
}

type orphanStats struct{ checked, resubmitted, failed int }

// sweepOrphans recovers files whose Batch task vanished without a
// completion the sweep could report: the task or the whole job was
// deleted, or the service lost it. A file is an orphan when its status
// document has been submitted (or running) for longer than
// FFBATCH_ORPHAN_GRACE and its task id is missing from the job (or the
// job is gone). An orphan is resubmitted through the usual path (a
// scheduled arrival with the next resubmission number, so a new task id)
// until FFBATCH_MAX_RESUBMITS, then reported failed with category "lost".
//
// Cost: the candidates come from the status listing alone (state, task id
// and file are in each document's metadata) and the job's task ids from
// one id-only task listing per scan, so a healthy backlog costs no
// per-file request. Only a candidate whose task is missing is read again
// before recovery. Documents written before the task id was recorded in
// metadata are read by the listing and checked with Get Task, one each.
//
// Safety with concurrent sweeps and SubmitTasks:
//   - the grace period is longer than the function timeout, so a
//     SubmitTasks that claimed a file but has not added its task yet has
//     either added it (the task listing shows it) or failed and been
//     redelivered (its next attempt rewrites the document and restarts
//     the grace);
//   - SweepPools deletes a completed task only after its terminal status
//     was written, and the document is read again once its task is found
//     missing, so a task settled by a concurrent sweep is never taken for
//     an orphan; a document rewritten since the listing (its UpdatedAt
//     within the grace period) is left to a later scan;
//   - two sweeps recovering the same orphan schedule the same message id
//     (dropped by duplicate detection) for the same task id (AddTasks is
//     idempotent), or publish the same result id.
func (a *App) sweepOrphans(ctx context.Context) (orphanStats, error) {
	var st orphanStats
	now := a.now()
	marker, ok := a.orphans.start(now, a.cfg.OrphanGrace)
	if !ok {
		return st, nil
	}
	cutoff := now.Add(-a.cfg.OrphanGrace)
	cands, next, err := a.d.Status.ListInFlight(ctx, cutoff, maxOrphanChecks, marker)
	if err != nil {
		return st, fmt.Errorf("sweep orphans: %w", err)
	}
	a.orphans.done(next)
	var tasks *jobTasks
	for _, c := range cands {
		if c.Doc == nil {
			if tasks, err = a.listTaskIDs(ctx); err != nil {
				return st, err
			}
			break
		}
	}
	var mu sync.Mutex // guards st
	err = forEach(len(cands), sweepWorkers, func(i int) error {
		outcome, err := a.checkCandidate(ctx, &cands[i], tasks, cutoff)
		mu.Lock()
		defer mu.Unlock()
		st.checked++
		switch outcome {
		case results.OutcomeTransient:
			st.resubmitted++
		case results.OutcomePermanent:
			st.failed++
		}
		return err
	})
	return st, err
}

// jobTasks is the set of task ids (lower case: Batch ids are
// case-insensitive) in the job at one moment; jobGone when the job does
// not exist.
type jobTasks struct {
	ids     map[string]bool
	jobGone bool
}

// listTaskIDs lists the ids of every task in the job.
func (a *App) listTaskIDs(ctx context.Context) (*jobTasks, error) {
	tasks := &jobTasks{ids: map[string]bool{}}
	pager := a.d.Batch.NewListTasksPager(a.cfg.JobID, &batch.ListOptions{Select: "id"})
	for pages := 0; pager.More(); pages++ {
		if pages == maxTaskIDPages {
			return nil, fmt.Errorf("sweep orphans: list task ids of job %s: more than %d pages", a.cfg.JobID, maxTaskIDPages)
		}
		page, err := pager.NextPage(ctx)
		if batch.HasCode(err, batch.CodeJobNotFound) {
			return &jobTasks{jobGone: true}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sweep orphans: list task ids of job %s: %w", a.cfg.JobID, err)
		}
		for _, t := range page.Value {
			tasks.ids[strings.ToLower(t.ID)] = true
		}
	}
	return tasks, nil
}

// checkCandidate recovers one candidate if its task is gone. It returns
// the outcome acted on ("" when the task exists or the document moved
// on). A listed candidate is checked against tasks; a candidate read
// whole (written before the task id was in metadata) with Get Task.
func (a *App) checkCandidate(ctx context.Context, cand *results.Candidate, tasks *jobTasks, cutoff time.Time) (results.Outcome, error) {
	if cand.Doc != nil {
		return a.checkOrphan(ctx, cand.Doc)
	}
	if cand.TaskID == "" {
		return "", nil
	}
	code := batch.CodeJobNotFound
	if !tasks.jobGone {
		if tasks.ids[strings.ToLower(cand.TaskID)] {
			return "", nil // alive: the completed-task sweep will report it
		}
		code = batch.CodeTaskNotFound
	}
	// Read again: a concurrent sweep may have reported the task and
	// deleted it since the listing, or a redelivered SubmitTasks may be
	// about to add it again.
	cur, err := a.d.Status.Get(ctx, cand.Container, cand.Blob)
	if errors.Is(err, results.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sweep orphans: %w", err)
	}
	if !cur.State.InFlight() || cur.TaskID != cand.TaskID || !cur.UpdatedAt.Before(cutoff) {
		return "", nil
	}
	return a.recoverOrphan(ctx, cur, code)
}

// checkOrphan recovers one candidate read whole if Get Task says its task
// is gone. It returns the outcome acted on ("" when the task exists or the
// document moved on).
func (a *App) checkOrphan(ctx context.Context, cand *results.FileStatus) (results.Outcome, error) {
	if cand.TaskID == "" {
		return "", nil
	}
	_, err := a.d.Batch.GetTask(ctx, a.cfg.JobID, cand.TaskID, &batch.GetOptions{Select: "id,state"})
	var code string
	switch {
	case err == nil:
		return "", nil // alive: the completed-task sweep will report it
	case batch.HasCode(err, batch.CodeTaskNotFound):
		code = batch.CodeTaskNotFound
	case batch.HasCode(err, batch.CodeJobNotFound):
		code = batch.CodeJobNotFound
	default:
		return "", fmt.Errorf("sweep orphans: get task %s: %w", cand.TaskID, err)
	}
	// Read again: a concurrent sweep may have reported the task and
	// deleted it since the listing.
	cur, err := a.d.Status.Get(ctx, cand.Container, cand.Blob)
	if errors.Is(err, results.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sweep orphans: %w", err)
	}
	if !cur.State.InFlight() || cur.TaskID != cand.TaskID || cur.Resubmits != cand.Resubmits || !cur.UpdatedAt.Equal(cand.UpdatedAt) {
		return "", nil
	}
	return a.recoverOrphan(ctx, cur, code)
}

// recoverOrphan resubmits the file of cur, whose task is gone (code says
// how), or fails it once resubmissions are exhausted or its arrival is
// not recorded.
func (a *App) recoverOrphan(ctx context.Context, cur *results.FileStatus, code string) (results.Outcome, error) {
	log := a.log.With("task_id", cur.TaskID, "container", cur.Container, "blob", cur.Blob, "code", code, "resubmits", cur.Resubmits)
	if cur.Arrival == nil {
		log.Warn("sweep: task lost and its arrival is not recorded; file failed")
		return results.OutcomePermanent, a.reportLost(ctx, cur, code, "the Batch task disappeared and the status document does not record the arrival to resubmit")
	}
	f := orphanFile(cur)
	if cur.Resubmits < a.cfg.MaxResubmits {
		// A failed status write after scheduling is left to the next
		// scan: the same message id and task id make a repeat harmless.
		if err := a.resubmit(ctx, f); err != nil && !errors.Is(err, errStatusNotRecorded) {
			return "", err
		}
		log.Warn("sweep: task lost; file resubmitted", "resubmit", cur.Resubmits+1)
		return results.OutcomeTransient, nil
	}
	log.Warn("sweep: task lost and resubmissions exhausted; file failed")
	return results.OutcomePermanent, a.reportLost(ctx, cur, code,
		fmt.Sprintf("the Batch task disappeared without completing (%s) after %d resubmissions", code, cur.Resubmits))
}

// orphanFile rebuilds the plan.File of a lost attempt from its status
// document.
func orphanFile(st *results.FileStatus) plan.File {
	arr := st.Arrival
	preset := st.Preset
	if preset == "" {
		preset = arr.Preset
	}
	return plan.File{Container: st.Container, Blob: st.Blob, ETag: st.ETag, Size: arr.Size, Preset: preset,
		Output: outputOf(*arr), Correlation: arr.Correlation, Resubmit: st.Resubmits, ContentMD5: arr.ContentMD5, SubmittedAt: st.SubmittedAt}
}

// reportLost publishes the failed result of a lost file and records it.
func (a *App) reportLost(ctx context.Context, st *results.FileStatus, code, msg string) error {
	fail := &results.Failure{Category: results.CategoryLost, Transient: true, Code: code, Message: msg}
	file := &results.File{Container: st.Container, Blob: st.Blob, ETag: st.ETag, Preset: st.Preset}
	if arr := st.Arrival; arr != nil {
		file.Size, file.Correlation, file.ContentMD5 = arr.Size, arr.Correlation, arr.ContentMD5
	} else if c := st.Content; c != nil {
		file.Size, file.ContentMD5 = c.Size, c.MD5
	}
	now := a.now().UTC()
	ev := &results.Event{
		Schema: results.SchemaVersion, ID: resultID(plan.File{Container: st.Container, Blob: st.Blob, ETag: st.ETag, Preset: st.Preset}),
		Status: results.StatusFailed, Time: now, File: file, TaskID: st.TaskID, Failure: fail,
		Attempts: &results.Attempts{Resubmits: st.Resubmits},
	}
	if !st.SubmittedAt.IsZero() {
		ev.Timings = results.NewTimings(st.SubmittedAt, time.Time{}, now)
	}
	if err := a.publish(ctx, ev); err != nil {
		return err
	}
	a.putStatus(ctx, results.FileStatus{Container: st.Container, Blob: st.Blob, ETag: st.ETag, State: results.StateFailed,
		TaskID: st.TaskID, Preset: st.Preset, Resubmits: st.Resubmits, Failure: fail, Content: st.Content,
		SubmittedAt: st.SubmittedAt, FinishedAt: now})
	return nil
}
