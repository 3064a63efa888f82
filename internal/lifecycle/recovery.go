package lifecycle

import (
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Resend is an arrival to send again for a request waiting in queued: the
// same request and attempt under a new message id (request.ResendMessageID
// with N), so duplicate detection cannot drop it as a repeat of a send that
// was lost.
type Resend struct {
	request.Request
	// N is the request's resend counter after this resend (1-based), the
	// nonce in the message id. It is recorded before the message is sent.
	N int
	// Retry is the dead-letter retry this resend is (1-based; the caller
	// waits its backoff), 0 for the resend of a request queued too long
	// (sent at once).
	Retry int
}

// ResendStale resends the arrival of every request waiting in queued for
// which stale reports true: its arrival was lost, dropped or dead-lettered
// without SweepPools seeing it. Each gets a new resend counter (the nonce
// of its message id) and a new QueuedAt, so it is stale again only after
// the caller's bound has passed once more.
func (r *Record) ResendStale(stale func(*Entry) bool, now time.Time) Change {
	var ch Change
	for i := range r.Requests {
		e := &r.Requests[i]
		if e.State != results.StateQueued || !stale(e) {
			continue
		}
		ch.Resend, ch.dirty = append(ch.Resend, resend(e, 0, now)), true
	}
	return ch
}

// DeadLettered records that an arrival of req went to the dead-letter
// queue (why: its dead-letter reason). A request still waiting for that
// attempt is resent (Change.Resend) until it has been dead-lettered
// maxRetries times; then it is answered failed with why. A request the
// record does not know yet (the arrival never got as far as being
// recorded) is recorded first. An answered request gets its answer again;
// one in flight, or queued again for a later attempt, needs nothing (the
// lost-task scan and the later attempt's own arrival cover it).
func (r *Record) DeadLettered(req request.Request, why *results.Failure, maxRetries int, now time.Time) Change {
	e, ch, done := r.arrive(req, now)
	if done || e.State != results.StateQueued {
		return ch
	}
	e.DeadLetters++
	if e.DeadLetters > maxRetries {
		finish(e, TaskResult{Outcome: results.OutcomePermanent, Failure: why}, now)
		return Change{Events: []*results.Event{answer(e)}, Answered: []Entry{*e}, dirty: true}
	}
	ch.Resend, ch.dirty = append(ch.Resend, resend(e, e.DeadLetters, now)), true
	return ch
}

// resend counts a resend of e's arrival and returns it.
func resend(e *Entry, retry int, now time.Time) Resend {
	e.Resends++
	e.QueuedAt = now
	return Resend{Request: e.Request, N: e.Resends, Retry: retry}
}

// Waiting reports whether a request of r waits in queued: its arrival is
// on the queue (or should be), and SweepPools resends it if it waits too
// long.
func (r *Record) Waiting() bool {
	for _, e := range r.Requests {
		if e.State == results.StateQueued {
			return true
		}
	}
	return false
}
