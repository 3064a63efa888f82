package lifecycle

import (
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

var deadLetter = &results.Failure{Category: results.CategoryDeadLetter, Transient: true, Code: "MaxDeliveryCountExceeded", Message: "dead-lettered"}

// messageIDs are the resend message ids of ch.
func messageIDs(ch Change) []string {
	var ids []string
	for _, r := range ch.Resend {
		ids = append(ids, request.ResendMessageID(r.ID, r.Attempt, r.N))
	}
	return ids
}

func TestResendStale(t *testing.T) {
	var rec Record
	a, b := req("a"), req("b", func(r *request.Request) { r.ETag = "0x2" })
	rec.Queue(a, t0)
	rec.Queue(b, t0.Add(time.Hour))
	if !rec.Waiting() {
		t.Fatal("Waiting = false with two queued requests")
	}
	before := func(at time.Time) func(*Entry) bool { return func(e *Entry) bool { return e.QueuedAt.Before(at) } }

	ch := rec.ResendStale(before(t0.Add(time.Minute)), t0.Add(2*time.Hour))
	if len(ch.Resend) != 1 || ch.Resend[0].ID != "a" || ch.Resend[0].N != 1 || ch.Resend[0].Retry != 0 || !ch.dirty {
		t.Fatalf("ResendStale = %+v, want request a resent once, at once", ch)
	}
	first := messageIDs(ch)[0]
	if first == a.ID || first == request.AttemptMessageID(a.ID, 1) {
		t.Errorf("resend message id %q collides with the request's own message ids", first)
	}
	if e := rec.Find("a"); !e.QueuedAt.Equal(t0.Add(2*time.Hour)) || e.Resends != 1 {
		t.Errorf("after the resend a = queued at %s, %d resends; want queued at the resend, 1 resend", e.QueuedAt, e.Resends)
	}
	// The same bound later finds nothing stale: a was queued again.
	if ch := rec.ResendStale(before(t0.Add(time.Minute)), t0.Add(3*time.Hour)); len(ch.Resend) != 0 || ch.dirty {
		t.Errorf("ResendStale right after a resend = %+v, want nothing", ch)
	}
	// Once stale again it gets a new message id.
	ch = rec.ResendStale(before(t0.Add(5*time.Hour)), t0.Add(5*time.Hour))
	if ids := messageIDs(ch); len(ids) != 2 || ids[0] == first || ids[0] == ids[1] {
		t.Errorf("second resend ids = %v, want two new distinct ids (first was %s)", ids, first)
	}
	// Requests in flight or answered are not resent.
	rec.Submit(a, t0.Add(6*time.Hour))
	rec.Refuse(b, results.StateRejected, &results.Rejection{Reason: "invalid"}, t0.Add(6*time.Hour))
	if rec.Waiting() {
		t.Error("Waiting = true with no queued request")
	}
	if ch := rec.ResendStale(func(*Entry) bool { return true }, t0.Add(9*time.Hour)); len(ch.Resend) != 0 {
		t.Errorf("ResendStale with nothing queued = %+v", ch)
	}
}

func TestDeadLettered(t *testing.T) {
	t.Run("retried with new ids, then failed with the reason", func(t *testing.T) {
		var rec Record
		a := req("a")
		rec.Queue(a, t0)
		seen := map[string]bool{a.ID: true}
		for n := 1; n <= maxResubmits; n++ {
			ch := rec.DeadLettered(a, deadLetter, maxResubmits, t0.Add(time.Duration(n)*time.Minute))
			if len(ch.Resend) != 1 || ch.Resend[0].Retry != n || len(ch.Events) != 0 || !ch.dirty {
				t.Fatalf("dead-lettering %d = %+v, want retry %d", n, ch, n)
			}
			id := messageIDs(ch)[0]
			if seen[id] {
				t.Fatalf("retry %d reuses message id %s", n, id)
			}
			seen[id] = true
		}
		ch := rec.DeadLettered(a, deadLetter, maxResubmits, t0.Add(time.Hour))
		wantAnswers(t, ch, results.StatusFailed, "a")
		if f := ch.Events[0].Failure; f == nil || f.Category != results.CategoryDeadLetter || f.Code != "MaxDeliveryCountExceeded" {
			t.Errorf("failure = %+v, want the dead-letter reason", f)
		}
		if len(ch.Answered) != 1 || len(ch.Resend) != 0 {
			t.Errorf("final change = %+v, want one fresh answer and no resend", ch)
		}
		again := rec.DeadLettered(a, deadLetter, maxResubmits, t0.Add(2*time.Hour))
		if len(again.Events) != 1 || !sameEvent(again.Events[0], ch.Events[0]) || again.dirty {
			t.Errorf("dead-lettered after the answer = %+v, want the same answer repeated", again)
		}
	})
	t.Run("unknown request is recorded and retried", func(t *testing.T) {
		var rec Record
		ch := rec.DeadLettered(req("u"), deadLetter, maxResubmits, t0)
		if len(ch.Resend) != 1 || !ch.dirty || rec.Find("u") == nil || rec.Find("u").State != results.StateQueued {
			t.Errorf("DeadLettered of an unknown request = %+v, record %+v; want it recorded queued and resent", ch, rec.Requests)
		}
	})
	t.Run("in flight: nothing to do", func(t *testing.T) {
		var rec Record
		a := req("a")
		rec.Submit(a, t0)
		if ch := rec.DeadLettered(a, deadLetter, maxResubmits, t0.Add(time.Minute)); ch.dirty || len(ch.Resend)+len(ch.Events) != 0 {
			t.Errorf("DeadLettered of a submitted request = %+v, want nothing", ch)
		}
	})
	t.Run("earlier attempt: nothing to do", func(t *testing.T) {
		var rec Record
		a := req("a")
		task := rec.Submit(a, t0).Task.TaskID
		rec.Settle(task, a, transient(), maxResubmits, t0.Add(time.Minute)) // queued as attempt 1
		if ch := rec.DeadLettered(a, deadLetter, maxResubmits, t0.Add(2*time.Minute)); ch.dirty || len(ch.Resend)+len(ch.Events) != 0 {
			t.Errorf("DeadLettered of attempt 0 while attempt 1 waits = %+v, want nothing", ch)
		}
	})
	t.Run("later attempt than recorded: queued and retried", func(t *testing.T) {
		var rec Record
		a := req("a")
		rec.Submit(a, t0)
		a1 := a
		a1.Attempt = 1
		ch := rec.DeadLettered(a1, deadLetter, maxResubmits, t0.Add(time.Minute))
		e := rec.Find("a")
		if len(ch.Resend) != 1 || ch.Resend[0].Attempt != 1 || e.State != results.StateQueued || e.Attempt != 1 || len(rec.InFlightTasks()) != 0 {
			t.Errorf("DeadLettered of attempt 1 = %+v, entry %+v; want attempt 1 queued and resent", ch, e)
		}
	})
}

// TestSettleCatchesUpWithALostAttempt: the record lost the writes of a
// resubmission (storage crash) and still shows attempt 0 when the task of
// attempt 1 completes: the task is settled for the request, not taken for
// an earlier attempt's and dropped.
func TestSettleCatchesUpWithALostAttempt(t *testing.T) {
	var rec Record
	a := req("a")
	rec.Submit(a, t0) // attempt 0, as the storage still has it
	a1 := a
	a1.Attempt = 1
	task1 := request.TaskID(a, 1)
	if rec.Settled(task1, a1) {
		t.Errorf("the task of a later attempt than recorded counts as settled: its MP3 would be answered without being confirmed and promoted")
	}
	ch := rec.Settle(task1, a1, success(), maxResubmits, t0.Add(time.Minute))
	wantAnswers(t, ch, results.StatusSucceeded, "a")
	if e := rec.Find("a"); e.Attempt != 1 || e.TaskID != task1 || !ch.dirty {
		t.Errorf("entry = attempt %d on %s, want attempt 1 on %s, recorded", e.Attempt, e.TaskID, task1)
	}
	// A task of an earlier attempt than the record's is still ignored.
	if ch := rec.Settle(request.TaskID(a, 0), a, success(), maxResubmits, t0.Add(2*time.Minute)); len(ch.Events) != 0 || ch.dirty {
		t.Errorf("settling attempt 0 after the answer = %+v, want nothing", ch)
	}
}
