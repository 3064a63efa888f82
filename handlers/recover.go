package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
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

type orphanStats struct{ checked, resubmitted, failed, resent, held int }

// sweepOrphans recovers the requests that wait too long in a non-terminal
// state. A request queued for longer than queuedBound has its arrival sent
// again (resendStale), unless a journal not folded yet may hold it
// (backlog): then it was accepted, and only its record lags behind. A request submitted or running whose Batch task
// vanished without a completion the sweep could report is recovered here: the task or the whole job was
// deleted, or the service lost it. A task is lost when a request has been
// submitted on it for longer than FFBATCH_ORPHAN_GRACE and its id is
// missing from the job (or the job is gone). Its owner is resubmitted
// through the usual path (a scheduled arrival for the next attempt, so a
// new task id) until FFBATCH_MAX_RESUBMITS; then every request waiting on
// it is answered failed with category "lost".
//
// Cost: the candidates come from the status listing alone (in-flight task
// ids and file are in each record's metadata) and the job's task ids from
// one id-only task listing per scan, so a healthy backlog costs no
// per-file request. Only a record whose task is missing is read (once to
// decide, once more by the update that records the decision).
//
// Safety with concurrent sweeps and SubmitTasks:
//   - the grace period is at least the function timeout and counts from
//     the request's SubmittedAt, so a SubmitTasks that journalled the
//     request but has not added its task yet has either added it (the
//     task listing shows it) or failed; its redelivery adds the same task
//     id without moving SubmittedAt, and one that comes after the request
//     was recovered is an earlier attempt and changes nothing (the answer
//     recovery decided is repeated by recovery itself until recorded);
//   - SweepPools deletes a completed task only after its outcome was
//     recorded, and the record is read after the task listing has found
//     the task missing, so a task settled by a concurrent sweep before
//     that read is never taken for a lost one;
//   - two sweeps recovering the same orphan schedule the same message id
//     (dropped by duplicate detection) for the same task id (AddTasks is
//     idempotent), or publish the same result id.
func (a *App) sweepOrphans(ctx context.Context, backlog *journalBacklog, b budget) (orphanStats, error) {
	var st orphanStats
	now := a.now()
	if b.spent() {
		return st, nil // the pass starts in a later run
	}
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
	if len(cands) == 0 {
		return st, nil
	}
	tasks := &jobTasks{}
	if slices.ContainsFunc(cands, func(c lifecycle.Candidate) bool { return len(c.TaskIDs) > 0 }) {
		tasks, err = a.listTaskIDs(ctx)
	}
	if err != nil {
		return st, err
	}
	var mu sync.Mutex // guards st
	err = forEach(len(cands), sweepWorkers, func(i int) error {
		if b.spent() {
			return nil // checked again by the next pass
		}
		resent, held, err := a.resendStale(ctx, &cands[i], backlog)
		if err != nil {
			return err
		}
		outcome, err := a.checkCandidate(ctx, &cands[i], tasks, cutoff)
		mu.Lock()
		defer mu.Unlock()
		st.checked++
		st.resent += resent
		st.held += held
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

// checkCandidate recovers the lost tasks of one candidate: those missing
// from the job (or all, when the job is gone). It returns the outcome
// acted on ("" when every task exists or the record moved on).
func (a *App) checkCandidate(ctx context.Context, cand *lifecycle.Candidate, tasks *jobTasks, cutoff time.Time) (results.Outcome, error) {
	var outcome results.Outcome
	for _, id := range cand.TaskIDs {
		code := batch.CodeJobNotFound
		if !tasks.jobGone {
			if tasks.ids[strings.ToLower(id)] {
				continue // alive: the completed-task sweep will report it
			}
			code = batch.CodeTaskNotFound
		}
		o, err := a.recoverTask(ctx, cand, id, code, cutoff)
		if err != nil {
			return outcome, err
		}
		if o != "" {
			outcome = o
		}
	}
	return outcome, nil
}

// recoverTask recovers a lost task unless its request was submitted
// within the grace period (a SubmitTasks may be about to add it) or has
// moved on. Unlike the other stages it acts before it records: once the
// record says the task is no longer in flight, no later scan would offer
// it again, so a resubmission or answer that failed to go out would be
// lost. The decision (lifecycle.Record.Lost) is made on the record as read,
// its messages sent under their stable ids, and then the same decision is
// recorded; a failure anywhere leaves the task listed for the next scan,
// which repeats the messages harmlessly.
func (a *App) recoverTask(ctx context.Context, cand *lifecycle.Candidate, task, code string, cutoff time.Time) (results.Outcome, error) {
	now := a.now().UTC()
	lost := func(rec *lifecycle.Record) lifecycle.Change {
		return rec.Lost(task, code, cutoff, a.cfg.MaxResubmits, now)
	}
	rec, err := a.d.Status.Get(ctx, cand.Container, cand.Blob)
	if errors.Is(err, lifecycle.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sweep orphans: %w", err)
	}
	ch := lost(rec)
	if !ch.Dirty() {
		return "", nil
	}
	if err := a.carryOut(ctx, ch); err != nil {
		return "", fmt.Errorf("sweep orphans: %w", err)
	}
	if _, err := a.updateStatus(ctx, cand.Container, cand.Blob, lost); err != nil {
		return "", fmt.Errorf("sweep orphans: %w", err)
	}
	log := a.log.With("task_id", task, "container", cand.Container, "blob", cand.Blob, "code", code)
	if len(ch.Resubmit) > 0 {
		log.Warn("sweep: task lost; request resubmitted", "attempt", ch.Resubmit[0].Attempt)
		return results.OutcomeTransient, nil
	}
	log.Warn("sweep: task lost and resubmissions exhausted; requests failed", "answers", len(ch.Events))
	return results.OutcomePermanent, nil
}

// queuedBound is how long a request may wait in queued before SweepPools
// sends its arrival again: FFBATCH_ORPHAN_GRACE (longer than the function
// timeout, so a SubmitTasks holding the arrival has recorded it by then or
// failed) plus, for a resubmission, the backoff its arrival was scheduled
// with.
func (a *App) queuedBound(e *lifecycle.Entry) time.Duration {
	d := a.cfg.OrphanGrace
	if e.Attempt > 0 {
		d += backoff(a.cfg.ResubmitBackoff, e.Attempt)
	}
	return d
}

// resendStale sends again, under new message ids, the arrivals of the
// candidate's requests that have waited in queued for longer than
// queuedBound: their arrival was lost (a send that failed after the record
// was written, a resubmission dropped as a duplicate of an earlier send, a
// message the broker lost). A request that backlog may hold is not stale:
// SubmitTasks accepted it, and the journal's fold will record it. The
// record comes first (each resend's nonce), then the send; a failed send
// is retried once the bound has passed again. It returns the number of
// arrivals sent and of stale requests left to the backlog.
func (a *App) resendStale(ctx context.Context, cand *lifecycle.Candidate, backlog *journalBacklog) (resent, held int, err error) {
	if !cand.Waiting {
		return 0, 0, nil
	}
	now := a.now().UTC()
	stale := func(e *lifecycle.Entry) bool {
		if now.Sub(e.QueuedAt) <= a.queuedBound(e) {
			return false
		}
		if backlog.holds(e.ID) {
			held++
			return false
		}
		return true
	}
	ch, err := a.updateStatus(ctx, cand.Container, cand.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		held = 0 // the update may run fn again on a newer record
		return rec.ResendStale(stale, now)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sweep queued: %w", err)
	}
	if err := a.carryOut(ctx, ch); err != nil {
		return 0, held, fmt.Errorf("sweep queued: %w", err)
	}
	for _, r := range ch.Resend {
		a.log.Warn("sweep: request waited too long in queued; arrival resent",
			"request", r.ID, "container", r.Container, "blob", r.Blob, "attempt", r.Attempt, "resend", r.N)
	}
	return len(ch.Resend), held, nil
}
