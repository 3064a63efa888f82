package handlers

import (
	"context"

	"github.com/ffbatch/ffbatch/internal/customhandler"
)

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
	n, backlog, journalErr := a.sweepJournals(ctx)
	if n > 0 {
		resp.Logf("journals: %d folded", n)
	}
	st, err := a.sweepCompleted(ctx)
	if err != nil {
		return nil, err
	}
	resp.Logf("sweep: %d succeeded, %d failed, %d resubmitted, %d skipped", st.succeeded, st.failed, st.resubmitted, st.skipped)
	lost, err := a.sweepOrphans(ctx, backlog)
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
	if journalErr != nil {
		return nil, journalErr
	}
	return resp, nil
}
