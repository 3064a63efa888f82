package handlers

import (
	"context"
	"time"

	"github.com/ffbatch/ffbatch/internal/customhandler"
)

// sweepBudget is how long one SweepPools run keeps starting work in its
// stages whose work grows with the backlog (folding journals, settling
// completed tasks, checking in-flight files); what is left waits for the
// next run. Their count bounds alone did not keep a run within the
// function timeout (host.json: 10 minutes) when storage was the
// bottleneck: in the 10,000-file run a sweep folding a backlog of
// journals hit the timeout, and the host restarted the handler, killing
// the other invocations in flight. Half the timeout, and less than the
// schedule's 5 minutes, so runs do not pile up either.
const sweepBudget = 4 * time.Minute

// budget is the time a SweepPools run may still start work in.
type budget struct {
	until time.Time
	now   func() time.Time
}

// spent reports whether the run must stop starting new work.
func (b budget) spent() bool { return !b.now().Before(b.until) }

// left is the time left in the budget (by b.now, which tests control).
func (b budget) left() time.Duration { return b.until.Sub(b.now()) }

// SweepPools runs on the timer, in five stages, one file each: fold the
// journals SubmitTasks left behind (fold.go), settle the completed tasks
// (settle.go), recover requests whose task was lost or that waited too
// long in queued (recover.go), send again or answer the dead-lettered
// arrivals (deadletters.go), and size the pool and remove it when idle
// (idle.go). Each
// stage is idempotent, so overlapping runs and runs racing SubmitTasks are
// safe: result and resubmission messages carry stable ids (duplicates are
// dropped or harmless), deleting a task twice is a no-op, and idle cleanup
// re-checks for tasks after terminating the job and rescues any that
// slipped in.
func (a *App) SweepPools(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	defer a.flushActivity(ctx)
	if ti, err := req.Timer(bindingTimer); err == nil && ti.IsPastDue {
		resp.Log("timer is past due")
	}
	// A journal that cannot be folded fails the run, but only after the
	// other stages ran: settling copes with requests not folded yet.
	b := budget{until: a.now().Add(sweepBudget), now: a.now}
	n, backlog, journalErr := a.sweepJournals(ctx, b)
	if n > 0 {
		resp.Logf("journals: %d folded", n)
	}
	st, err := a.sweepCompleted(ctx, b)
	if err != nil {
		return nil, err
	}
	resp.Logf("sweep: %d succeeded, %d failed, %d resubmitted, %d skipped", st.succeeded, st.failed, st.resubmitted, st.skipped)
	lost, err := a.sweepOrphans(ctx, backlog, b)
	if err != nil {
		return nil, err
	}
	if lost.checked > 0 {
		resp.Logf("lost tasks: %d in-flight files checked, %d resubmitted, %d failed", lost.checked, lost.resubmitted, lost.failed)
	}
	if lost.resent > 0 {
		resp.Logf("queued too long: %d arrivals sent again", lost.resent)
	}
	if lost.held > 0 {
		resp.Logf("queued too long but journalled: %d requests left for the journals' fold", lost.held)
	}
	dl, err := a.sweepDeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	if dl.retried+dl.answered > 0 {
		resp.Logf("dead-lettered arrivals: %d sent again, %d answered", dl.retried, dl.answered)
	}
	msg, err := a.sweepIdle(ctx)
	if err != nil {
		return nil, err
	}
	if msg != "" {
		resp.Log(msg)
	}
	if b.spent() {
		resp.Logf("time budget of %s spent: the next run continues", sweepBudget)
	}
	if journalErr != nil {
		return nil, journalErr
	}
	return resp, nil
}
