package handlers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestSweepPoolsResendsLostResubmission reproduces issue 13's storage
// crash: the lost-task scan schedules attempt 1, that arrival never reaches
// SubmitTasks (dead-lettered, then a repeat dropped as a duplicate of the
// same id), and the request would stay queued for good. Past the queued
// bound the sweep sends the arrival again under a new message id; the
// request then runs and is answered once.
func TestSweepPoolsResendsLostResubmission(t *testing.T) {
	f := newFixture(t, nil)
	task := submitLost(t, f, "")
	f.batch.lose(task)
	f.clock.advance(16 * time.Minute)
	f.sweep(t)
	if e := f.entry(t, "input", "a.mp4", "m-1"); e.State != results.StateQueued || e.Attempt != 1 {
		t.Fatalf("after the loss: %s attempt %d, want queued attempt 1", e.State, e.Attempt)
	}
	f.arrivals.takeDue(f.now().Add(time.Hour)) // the resubmission is lost

	f.clock.advance(10 * time.Minute) // past the sweep pacing, within the bound
	f.sweep(t)
	if n := len(f.arrivals.takeSent()); n != 0 {
		t.Fatalf("%d arrivals sent within the queued bound, want none", n)
	}

	f.clock.advance(f.cfg.OrphanGrace + backoff(f.cfg.ResubmitBackoff, 1))
	resp := f.sweep(t)
	sent := f.arrivals.takeSent()
	if len(sent) != 1 {
		t.Fatalf("%d arrivals sent past the queued bound, want 1 (logs %q)", len(sent), resp.Logs)
	}
	id := *sent[0].MessageID
	if id == request.AttemptMessageID("m-1", 1) || id != request.ResendMessageID("m-1", 1, 1) {
		t.Errorf("resend message id %s, want %s (not the dropped resubmission's id)", id, request.ResendMessageID("m-1", 1, 1))
	}
	if arr, err := arrival.Parse(sent[0].Body); err != nil || arr.Request != "m-1" || arr.Resubmit != 1 || arr.Correlation != "c-1" {
		t.Errorf("resent arrival = %+v, %v; want request m-1 attempt 1", arr, err)
	}
	if !strings.Contains(strings.Join(resp.Logs, "\n"), "queued too long: 1 arrivals sent again") {
		t.Errorf("logs = %q, want the resend counted", resp.Logs)
	}

	f.deliver(t, sent)
	e := f.entry(t, "input", "a.mp4", "m-1")
	if e.State != results.StateSubmitted || e.TaskID == task {
		t.Fatalf("after the resend: %s on %s, want submitted on a new task", e.State, e.TaskID)
	}
	f.succeed(e.TaskID, f.now(), f.now().Add(time.Second))
	f.sweep(t)
	wantAnswer(t, f, "m-1", "c-1", results.StatusSucceeded)
}

// TestSweepPoolsDeadLetters: each dead-lettered arrival is answered or
// sent again, and settled.
func TestSweepPoolsDeadLetters(t *testing.T) {
	t.Run("not an arrival: rejected", func(t *testing.T) {
		f := newFixture(t, nil)
		f.dlq.deadLetter("junk-1", `{"container":`, "MaxDeliveryCountExceeded")
		f.sweep(t)
		got := f.published(t)
		if len(got) != 1 || got[0].ev.Status != results.StatusRejected || got[0].ev.Rejection == nil || got[0].ev.Rejection.MessageID != "junk-1" {
			t.Fatalf("published %+v, want one rejection of junk-1", got)
		}
		if f.dlq.pending() != 0 {
			t.Error("the dead-lettered message was not completed")
		}
	})
	t.Run("queued request: sent again under a new id, then runs", func(t *testing.T) {
		f := newFixture(t, nil)
		f.drop(t, "a.mp4", "0x1")
		sent := f.arrivals.takeSent() // SubmitTasks fails on it until it is dead-lettered
		id := *sent[0].MessageID
		f.dlq.deadLetter(id, string(sent[0].Body), "MaxDeliveryCountExceeded")
		resp := f.sweep(t)
		if f.dlq.pending() != 0 {
			t.Fatal("the dead-lettered message was not completed")
		}
		if len(f.arrivals.scheduled) != 1 {
			t.Fatalf("%d arrivals scheduled, want 1 (logs %q)", len(f.arrivals.scheduled), resp.Logs)
		}
		sch := f.arrivals.scheduled[0]
		if *sch.msg.MessageID == id || *sch.msg.MessageID != request.ResendMessageID(id, 0, 1) {
			t.Errorf("retry message id %s, want %s", *sch.msg.MessageID, request.ResendMessageID(id, 0, 1))
		}
		if !sch.at.Equal(f.now().Add(f.cfg.ResubmitBackoff)) {
			t.Errorf("retry scheduled at %s, want now + %s", sch.at, f.cfg.ResubmitBackoff)
		}
		f.clock.advance(f.cfg.ResubmitBackoff)
		f.forward(t)
		e := f.entry(t, "input", "a.mp4", id)
		if e.State != results.StateSubmitted {
			t.Fatalf("after the retry: %s, want submitted", e.State)
		}
		f.succeed(e.TaskID, f.now(), f.now().Add(time.Second))
		f.sweep(t)
		if got := f.answersTo(t, id); len(got) != 1 || got[0].ev.Status != results.StatusSucceeded {
			t.Errorf("answers %+v, want one success", got)
		}
	})
	t.Run("dead-lettered again and again: failed with the reason", func(t *testing.T) {
		f := newFixture(t, nil)
		body := arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)
		for n := 0; n <= maxDeadLetterRetries; n++ {
			f.dlq.deadLetter("m-1", body, "MaxDeliveryCountExceeded")
			f.sweep(t)
		}
		ev := wantAnswer(t, f, "m-1", "c-1", results.StatusFailed)
		if ev.Failure == nil || ev.Failure.Category != results.CategoryDeadLetter || ev.Failure.Code != "MaxDeliveryCountExceeded" ||
			!strings.Contains(ev.Failure.Message, "delivered 10 times") {
			t.Errorf("failure = %+v, want category deadletter with the dead-letter reason and description", ev.Failure)
		}
		if n := len(f.arrivals.scheduled); n != maxDeadLetterRetries {
			t.Errorf("%d retries scheduled, want %d", n, maxDeadLetterRetries)
		}
		seen := map[string]bool{}
		for _, s := range f.arrivals.scheduled {
			if seen[*s.msg.MessageID] {
				t.Errorf("retry message id %s used twice", *s.msg.MessageID)
			}
			seen[*s.msg.MessageID] = true
		}
	})
	t.Run("completion fails: handled again by the next sweep", func(t *testing.T) {
		f := newFixture(t, nil)
		f.dlq.deadLetter("m-1", arrivalJSON("input", "a.mp4", "0x1", ""), "TTLExpiredException")
		f.dlq.completeErr = errServiceBus
		if _, err := f.app.SweepPools(t.Context(), timerRequest()); err == nil {
			t.Fatal("SweepPools succeeded though the dead-lettered message could not be completed")
		}
		f.dlq.completeErr = nil
		f.sweep(t)
		if f.dlq.pending() != 0 {
			t.Error("the dead-lettered message was not completed by the next sweep")
		}
		if e := f.entry(t, "input", "a.mp4", "m-1"); e.State != results.StateQueued || e.Resends != 2 {
			t.Errorf("entry %s with %d resends, want queued, 2 resends", e.State, e.Resends)
		}
	})
}

// TestQueuedScanLeavesJournalledRequests: a request SubmitTasks accepted
// but whose journal is not folded yet still shows queued in its record.
// Past the queued bound the sweep must not take it for a lost arrival and
// send it again (the 10,000-file run did, 302 times, while the folds lagged
// behind): the journal holds it, and the fold records it submitted.
func TestQueuedScanLeavesJournalledRequests(t *testing.T) {
	t.Run("the journal's fold keeps failing", func(t *testing.T) {
		f := newFixture(t, nil)
		f.drop(t, "a.mp4", "0x1")
		f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) // the background fold
		f.forward(t)
		if e := f.entry(t, "input", "a.mp4", f.onlyRequest(t, "a.mp4")); e.State != results.StateQueued {
			t.Fatalf("before the fold: %s, want queued", e.State)
		}
		f.clock.advance(f.cfg.OrphanGrace + journalGrace + time.Minute)
		f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) // the sweep's fold too
		_, err := f.app.SweepPools(t.Context(), timerRequest())
		if err == nil {
			t.Fatal("SweepPools succeeded although the journal could not be folded")
		}
		if n := len(f.arrivals.takeSent()); n != 0 {
			t.Fatalf("%d arrivals sent again for a journalled request, want none (sweep: %v)", n, err)
		}
		f.status.inject(func(s *fakeStatus) { s.failWrites = 0 })
		f.clock.advance(f.cfg.OrphanGrace)
		resp := f.sweep(t)
		if n := len(f.arrivals.takeSent()); n != 0 {
			t.Fatalf("%d arrivals sent again after the fold, want none (logs %q)", n, resp.Logs)
		}
		if e := f.entry(t, "input", "a.mp4", f.onlyRequest(t, "a.mp4")); e.State != results.StateSubmitted || e.Resends != 0 {
			t.Errorf("after the fold: %s with %d resends, want submitted, none", e.State, e.Resends)
		}
	})
	t.Run("a corrupt journal holds nothing", func(t *testing.T) {
		f := newFixture(t, nil)
		f.drop(t, "a.mp4", "0x1")
		f.arrivals.takeSent() // the arrival is lost
		f.status.journals["journal/bad.json"] = storedJournal{body: []byte("{"), written: f.now()}
		f.clock.advance(f.cfg.OrphanGrace + journalGrace + time.Minute)
		if _, err := f.app.SweepPools(t.Context(), timerRequest()); err == nil {
			t.Fatal("SweepPools succeeded despite the corrupt journal")
		}
		if n := len(f.arrivals.takeSent()); n != 1 {
			t.Fatalf("%d arrivals sent again, want 1: a journal that cannot be decoded can never record the request", n)
		}
	})
	t.Run("more journals than one sweep folds", func(t *testing.T) {
		f := newFixture(t, nil)
		n := maxSweepJournals + 1
		for i := range n {
			blob := fmt.Sprintf("f%03d.mp4", i)
			f.drop(t, blob, "0x1")
			f.status.inject(func(s *fakeStatus) { s.failWrites = 1 })
			f.forward(t)
		}
		if got := len(f.status.journalNames()); got != n {
			t.Fatalf("%d journals, want %d", got, n)
		}
		f.clock.advance(f.cfg.OrphanGrace + journalGrace + time.Minute)
		resp := f.sweep(t)
		if sent := len(f.arrivals.takeSent()); sent != 0 {
			t.Fatalf("%d arrivals sent again while a journal was left unfolded, want none (logs %q)", sent, resp.Logs)
		}
		if !strings.Contains(strings.Join(resp.Logs, "\n"), "left for the journals' fold") {
			t.Errorf("logs = %q, want the requests left to the fold counted", resp.Logs)
		}
		f.clock.advance(f.cfg.OrphanGrace)
		resp = f.sweep(t)
		if sent := len(f.arrivals.takeSent()); sent != 0 || len(f.status.journalNames()) != 0 {
			t.Fatalf("second sweep: %d arrivals sent, journals %v; want none, none (logs %q)", sent, f.status.journalNames(), resp.Logs)
		}
		for i := range n {
			blob := fmt.Sprintf("f%03d.mp4", i)
			if e := f.entry(t, "input", blob, f.onlyRequest(t, blob)); e.State != results.StateSubmitted {
				t.Errorf("%s: %s, want submitted", blob, e.State)
			}
		}
	})
}

// onlyRequest returns the id of the single request of input/blob.
func (f *fixture) onlyRequest(t *testing.T, blob string) string {
	t.Helper()
	rec := f.record(t, "input", blob)
	if len(rec.Requests) != 1 {
		t.Fatalf("%s has %d requests, want 1", blob, len(rec.Requests))
	}
	return rec.Requests[0].ID
}
