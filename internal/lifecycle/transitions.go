package lifecycle

import (
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Change is what a transition decided, for its caller to carry out after
// the record is written.
type Change struct {
	// Events are the result events to publish: the answers decided now,
	// or decided earlier and repeated (same ids).
	Events []*results.Event
	// Send is set when the request waits for SubmitTasks: BlobCreated
	// sends its arrival.
	Send bool
	// Task is set when Submit made this entry's request own a task:
	// Task.TaskID is its id (SubmitTasks adds it whatever the record
	// says, before or while the journal is folded).
	Task *Entry
	// Resubmit lists the attempts to schedule as arrivals.
	Resubmit []request.Request
	// Orphans are tasks that were added for requests no longer waiting on
	// them (Record.Fold): the caller may delete them if they have not
	// completed.
	Orphans []string
	// Resend lists the arrivals to send again under new message ids
	// (recovery.go).
	Resend []Resend
	// Answered are the entries this transition answered (copies): the
	// fresh answers among Events, for the activity summary. A repeated
	// answer is in Events only.
	Answered []Entry
	// dirty is set when the record changed and must be written.
	dirty bool
}

// Dirty reports whether the record changed.
func (c Change) Dirty() bool { return c.dirty }

// Queue records a request that BlobCreated turns into an arrival. A
// request already recorded is not queued again: its answer, if it has one,
// is repeated. A new request is answered at once with the output of the
// same work already done, or shares the task of the same work in flight;
// otherwise Change.Send asks for its arrival to be sent.
func (r *Record) Queue(req request.Request, now time.Time) Change {
	if e := r.Find(req.ID); e != nil {
		if e.State.Terminal() {
			return Change{Events: []*results.Event{answer(e)}}
		}
		return Change{Send: e.State == results.StateQueued}
	}
	r.add(Entry{Request: req, State: results.StateQueued, QueuedAt: now})
	if ch, ok := r.share(req.ID, now); ok {
		return ch
	}
	return Change{Send: true, dirty: true}
}

// Submit records that SubmitTasks accepted req and journalled it: its
// work is done by the Batch task request.TaskID(req, req.Attempt), which
// SubmitTasks adds whatever the record says (identical requests get the
// same task id, so Batch keeps one task for them; docs/architecture.md).
// A request already recorded beyond queued changes nothing: a redelivered
// or replayed message, or a stale attempt; a reuse answer it was given
// here is repeated (the other answers come from the transition that
// decided them, which repeats them itself). Otherwise the request is
// answered with the output of the same work already done (unless it asks
// for force), or waits on its task: sharing it with the request that owns
// it, or owning it (Change.Task), taking along the requests that shared
// its earlier attempt.
func (r *Record) Submit(req request.Request, now time.Time) Change {
	e, ch, done := r.arrive(req, now)
	switch {
	case done && e.State.Terminal() && e.Reused == nil:
		return Change{} // the transition that answered it repeats its answer
	case done:
		return ch
	case e.State.InFlight():
		return Change{}
	}
	if done := r.doneWork(e); done != nil && e.Attempt == 0 && !e.Force {
		return reuse(e, done, now)
	}
	task := request.TaskID(req, req.Attempt)
	o := r.taskOwner(task, e.ID)
	if o == nil && e.Attempt == 0 && !e.Force {
		o = r.workOwner(e)
	}
	ch.dirty = true
	if r.waitOn(e, task, o, now) {
		ch.Task = e
	}
	return ch
}

// waitOn makes e wait on task, submitted at now: sharing it with o, the
// request that owns the same work (o's task), or, when o is nil, owning
// it and taking along the requests that shared e's earlier attempt. It
// reports whether e owns task.
func (r *Record) waitOn(e *Entry, task string, o *Entry, now time.Time) bool {
	if o != nil {
		e.State, e.SharedWith, e.TaskID, e.SubmittedAt = results.StateSubmitted, o.ID, o.TaskID, now
		return false
	}
	e.State, e.SharedWith, e.TaskID, e.SubmittedAt = results.StateSubmitted, "", task, now
	for _, s := range r.sharers(e.ID) {
		s.TaskID = task
	}
	return true
}

// behind reports whether e, the entry of the request a task was planned
// for at attempt, does not show yet that it waits on that task although
// the task ran: it is queued at that attempt (its journal is not folded
// yet: a drop BlobCreated queued, a resubmission settling queued), or
// still at an earlier attempt (the storage lost the writes that recorded
// the later one: Azurite after kill -9).
func behind(e *Entry, attempt int) bool {
	return !e.State.Terminal() && (e.Attempt < attempt || e.Attempt == attempt && e.State == results.StateQueued)
}

// doneWork is the latest answered request whose MP3 is e's work, or nil.
func (r *Record) doneWork(e *Entry) *Entry {
	for i := len(r.Requests) - 1; i >= 0; i-- {
		o := &r.Requests[i]
		if o.ID != e.ID && o.State == results.StateSucceeded && o.MP3 != nil && o.SameWork(e.Request) {
			return o
		}
	}
	return nil
}

// workOwner is the latest request that owns a task in flight doing e's
// work, or nil. Its task id can differ from e's: a request without the
// content hash names the work by its version.
func (r *Record) workOwner(e *Entry) *Entry {
	for i := len(r.Requests) - 1; i >= 0; i-- {
		o := &r.Requests[i]
		if o.ID != e.ID && o.SameWork(e.Request) && o.State.InFlight() && o.owner() && o.TaskID != "" {
			return o
		}
	}
	return nil
}

// reuse answers e with the output of done, the same work.
func reuse(e, done *Entry, now time.Time) Change {
	e.State, e.MP3, e.Reused = results.StateSucceeded, done.MP3, &results.Reuse{Request: done.ID, TaskID: done.TaskID}
	e.MP3Size, e.AudioMillis, e.Audio = done.MP3Size, done.AudioMillis, done.Audio
	e.FinishedAt, e.AnsweredAt = now, now
	return Change{Events: []*results.Event{answer(e)}, Answered: []Entry{*e}, dirty: true}
}

// taskOwner is the request other than id that owns task and waits on it
// (submitted or running, or queued again for its next attempt), or nil.
func (r *Record) taskOwner(task, id string) *Entry {
	for i := range r.Requests {
		o := &r.Requests[i]
		if o.ID != id && o.TaskID == task && o.owner() && !o.State.Terminal() {
			return o
		}
	}
	return nil
}

// arrive finds the entry of req, an arrival of it that came again,
// recording it queued if the record does not know it. done is set when
// the caller returns ch at once: an answered request gets its answer
// again, an arrival of an earlier attempt than the recorded one changes
// nothing. An arrival of a later attempt queues the entry as that attempt.
func (r *Record) arrive(req request.Request, now time.Time) (e *Entry, ch Change, done bool) {
	e = r.Find(req.ID)
	if e == nil {
		e = r.add(Entry{Request: req, State: results.StateQueued, QueuedAt: now})
		ch.dirty = true
	}
	switch {
	case e.State.Terminal():
		return e, Change{Events: []*results.Event{answer(e)}}, true
	case req.Attempt < e.Attempt:
		return e, Change{}, true
	case req.Attempt > e.Attempt:
		e.Attempt, e.State, e.QueuedAt = req.Attempt, results.StateQueued, now
		ch.dirty = true
	}
	return e, ch, false
}

// share answers request id with the output of the same work already done
// (unless it asks for force), or makes it share the task of the same work
// in flight. ok is false when neither applies.
func (r *Record) share(id string, now time.Time) (Change, bool) {
	e := r.Find(id)
	if done := r.doneWork(e); done != nil && !e.Force {
		return reuse(e, done, now), true
	}
	if o := r.workOwner(e); o != nil {
		e.State, e.SharedWith, e.TaskID, e.SubmittedAt = results.StateSubmitted, o.ID, o.TaskID, now
		return Change{dirty: true}, true
	}
	return Change{}, false
}

// Refuse records req as rejected or ignored (state) for rej, or repeats
// its answer if it already has one.
func (r *Record) Refuse(req request.Request, state results.State, rej *results.Rejection, now time.Time) Change {
	e := r.Find(req.ID)
	if e == nil {
		e = r.add(Entry{Request: req, QueuedAt: now})
	} else if e.State.Terminal() {
		return Change{Events: []*results.Event{answer(e)}}
	}
	e.State, e.Rejection, e.FinishedAt, e.AnsweredAt = state, rej, now, now
	return Change{Events: []*results.Event{answer(e)}, Answered: []Entry{*e}, dirty: true}
}

// TaskResult is how a task ended, as SweepPools saw it.
type TaskResult struct {
	Outcome results.Outcome
	// MP3 is where the MP3 is (success).
	MP3 *results.Output
	// Failure says why it failed (otherwise).
	Failure *results.Failure
	// Rejection, with a permanent outcome, answers the requests rejected
	// instead of failed: the task made its MP3 but settling found its
	// output owned by another input or preset (output_taken).
	Rejection *results.Rejection
	// MP3Size and AudioMillis are the MP3's length and duration (success),
	// 0 when unknown.
	MP3Size, AudioMillis int64
	// Audio says which audio stream the MP3 holds (success), nil when
	// unknown.
	Audio *results.Audio
	// Logs is the URL prefix of the task's logs, if it ran.
	Logs                  string
	StartedAt, FinishedAt time.Time
	Retries, Requeues     int32
}

// Settled reports whether settling task again would change nothing: the
// record holds owner, the request the task was planned for, waiting on
// the task or past it (not behind), and no request waits on the task any
// more (it was settled, or the request moved on to a later attempt).
// Settling then only repeats what is recorded, so the caller need not
// look at the task's output again.
func (r *Record) Settled(task string, owner request.Request) bool {
	e := r.Find(owner.ID)
	if e == nil || behind(e, owner.Attempt) {
		return false
	}
	for _, e := range r.onTask(task) {
		if e.State.InFlight() {
			return false
		}
	}
	return true
}

// Settle records how task ended for every request waiting on it. owner
// is the request the task was planned for (its FFBATCH_FILE); if the
// record does not hold it (it was lost, or its journal is not folded
// yet), or holds it behind the task (queued at that attempt, its journal
// not folded yet; or at an earlier attempt, the writes that recorded the
// later one lost), it is recorded waiting on task, sharing it with the
// request the record says owns it. A success or a permanent failure answers them all; a transient
// failure queues the record's owner of the task for its next attempt
// (Change.Resubmit) while the others keep waiting, until maxResubmits,
// after which it is a failure too. Settling the same run of a task again
// repeats the answers, or the resubmission, already recorded; an earlier
// run of the same task id (the same work done again later) is not
// repeated.
func (r *Record) Settle(task string, owner request.Request, res TaskResult, maxResubmits int, now time.Time) Change {
	var ch Change
	planned := owner
	switch e := r.Find(owner.ID); {
	case e == nil:
		e = r.add(Entry{Request: owner, QueuedAt: now})
		r.waitOn(e, task, r.taskOwner(task, owner.ID), now)
		ch.dirty = true
	case behind(e, owner.Attempt):
		e.Attempt = owner.Attempt
		r.waitOn(e, task, r.taskOwner(task, owner.ID), now)
		ch.dirty = true
	case len(r.onTask(task)) == 0:
		return ch // a task of an earlier attempt: the request has moved on
	}
	if o := r.taskOwner(task, ""); o != nil {
		owner = o.Request
		owner.Attempt = planned.Attempt // the attempt this task ran
	}
	if o := r.Find(owner.ID); o != nil && o.TaskID == task && o.State == results.StateQueued && o.Attempt > owner.Attempt {
		ch.Resubmit = append(ch.Resubmit, o.Request) // already resubmitted: repeat it
	}
	repeat := r.sameRun(task, planned.ID, res)
	retry := res.Outcome == results.OutcomeTransient && owner.Attempt < maxResubmits
	for _, e := range r.onTask(task) {
		switch {
		case e.State.Terminal():
			if repeat(e) {
				ch.Events = append(ch.Events, answer(e))
			}
		case !e.State.InFlight():
		case retry && e.ID == owner.ID:
			e.State, e.Attempt, e.QueuedAt = results.StateQueued, owner.Attempt+1, now
			e.Retries, e.Requeues = e.Retries+res.Retries, e.Requeues+res.Requeues
			ch.Resubmit, ch.dirty = append(ch.Resubmit, e.Request), true
		case retry:
		default:
			finish(e, res, now)
			ch.Events, ch.Answered, ch.dirty = append(ch.Events, answer(e)), append(ch.Answered, *e), true
		}
	}
	return ch
}

// sameRun tells the answered entries on task that this run of it
// answered, whose answers settling it again repeats: those that finished
// when the run did (a completed task's end time comes from Batch), or,
// for a run without an end time (a task Batch refused), those answered
// with the request it was planned for.
func (r *Record) sameRun(task, planned string, res TaskResult) func(*Entry) bool {
	if !res.FinishedAt.IsZero() {
		return func(e *Entry) bool { return e.FinishedAt.Equal(res.FinishedAt) }
	}
	p := r.Find(planned)
	if p == nil || p.TaskID != task || !p.State.Terminal() {
		return func(*Entry) bool { return false }
	}
	return func(e *Entry) bool { return e.AnsweredAt.Equal(p.AnsweredAt) }
}

// finish records res as e's answer.
func finish(e *Entry, res TaskResult, now time.Time) {
	switch {
	case res.Outcome == results.OutcomeSuccess:
		e.State = results.StateSucceeded
	case res.Rejection != nil:
		e.State = results.StateRejected
	default:
		e.State = results.StateFailed
	}
	e.MP3, e.Logs, e.Failure, e.Rejection = res.MP3, res.Logs, res.Failure, res.Rejection
	if res.Outcome == results.OutcomeSuccess {
		e.MP3Size, e.AudioMillis, e.Audio = res.MP3Size, res.AudioMillis, res.Audio
	}
	e.StartedAt, e.FinishedAt, e.AnsweredAt = res.StartedAt, res.FinishedAt, now
	e.Retries, e.Requeues = e.Retries+res.Retries, e.Requeues+res.Requeues
	if e.FinishedAt.IsZero() {
		e.FinishedAt = now
	}
}

// Lost records that task vanished from Batch without a completion
// (code: TaskNotFound or JobNotFound): a transient failure of category
// lost for the requests still waiting on it. A request submitted on it at
// or after before (the grace period) is left alone: the SubmitTasks that
// recorded it may not have added the task yet.
func (r *Record) Lost(task, code string, before time.Time, maxResubmits int, now time.Time) Change {
	for _, e := range r.onTask(task) {
		if e.State.InFlight() && e.owner() && e.SubmittedAt.Before(before) {
			fail := &results.Failure{Category: results.CategoryLost, Transient: true, Code: code,
				Message: "the Batch task disappeared without completing (" + code + ")"}
			return r.Settle(task, e.Request, TaskResult{Outcome: results.OutcomeTransient, Failure: fail}, maxResubmits, now)
		}
	}
	return Change{}
}
