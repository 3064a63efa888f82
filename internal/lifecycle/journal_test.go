package lifecycle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

const md5A = "1B2M2Y8AsgTpgAmY7PhCfg=="

// hashed is a request for a.mp4 with a content MD5, at version etag.
func hashed(id, etag string) request.Request {
	return req(id, func(r *request.Request) { r.ETag, r.ContentMD5 = etag, md5A })
}

func TestJournalName(t *testing.T) {
	a := JournalName([]request.Request{req("1"), req("2")})
	if a != JournalName([]request.Request{req("1"), req("2")}) {
		t.Errorf("JournalName is not deterministic")
	}
	next := req("2", func(r *request.Request) { r.Attempt = 1 })
	for _, other := range [][]request.Request{{req("2"), req("1")}, {req("1"), next}, {req("1")}} {
		if JournalName(other) == a {
			t.Errorf("two different batches share the journal %s", a)
		}
	}
}

func TestJournalFiles(t *testing.T) {
	other := func(r *request.Request) { r.Blob = "b.mp4" }
	j := Journal{Requests: []request.Request{req("1"), req("2", other), req("3")}}
	files := j.Files()
	if len(files) != 2 || files[0].Blob != "a.mp4" || len(files[0].Requests) != 2 || files[0].Requests[1].ID != "3" || files[1].Blob != "b.mp4" {
		t.Errorf("Files = %+v, want a.mp4 [1 3] then b.mp4 [2]", files)
	}
}

// TestFoldRedeliveredBatch: folding the same journal again (a redelivered
// batch, or a sweep folding a journal the invocation already folded)
// changes nothing and answers nothing.
func TestFoldRedeliveredBatch(t *testing.T) {
	var rec Record
	reqs := []request.Request{req("a"), req("b")}
	first := rec.Fold(reqs, t0)
	if !first.dirty || len(first.Events) != 0 {
		t.Fatalf("first fold = %+v, want a write and no answers", first)
	}
	task := request.TaskID(req("a"), 0)
	if a, b := rec.Find("a"), rec.Find("b"); a.TaskID != task || a.SharedWith != "" || b.TaskID != task || b.SharedWith != "a" {
		t.Errorf("after the fold: a on %s (shared with %q), b on %s (shared with %q); want both on %s, b sharing a's", a.TaskID, a.SharedWith, b.TaskID, b.SharedWith, task)
	}
	if again := rec.Fold(reqs, t0.Add(time.Minute)); again.dirty || len(again.Events) != 0 {
		t.Errorf("folding again = %+v, want nothing", again)
	}
}

// TestIdenticalRequestsInTwoJournals: two identical uploads (same content,
// other versions) accepted by two invocations journal the same task id,
// so Batch keeps one task; whichever journal is folded first, one request
// owns the task, the other shares it, and settling it answers both once.
func TestIdenticalRequestsInTwoJournals(t *testing.T) {
	a, b := hashed("a", "0x1"), hashed("b", "0x2")
	task := request.TaskID(a, 0)
	if request.TaskID(b, 0) != task {
		t.Fatalf("identical uploads get task ids %s and %s", task, request.TaskID(b, 0))
	}
	for _, order := range [][]request.Request{{a, b}, {b, a}} {
		t.Run("first "+order[0].ID, func(t *testing.T) {
			var rec Record
			rec.Fold(order[:1], t0)
			rec.Fold(order[1:], t0.Add(time.Millisecond))
			if got := rec.InFlightTasks(); len(got) != 1 || got[0] != task {
				t.Errorf("InFlightTasks = %v, want [%s]", got, task)
			}
			// The task's FFBATCH_FILE holds whichever request's AddTasks came first.
			ch := rec.Settle(task, b, success(), maxResubmits, t0.Add(time.Minute))
			wantAnswers(t, ch, results.StatusSucceeded, order[0].ID, order[1].ID)
			again := rec.Settle(task, b, success(), maxResubmits, t0.Add(2*time.Minute))
			if again.dirty || len(again.Events) != 2 {
				t.Errorf("settling again = %+v, want both answers repeated without a write", again)
			}
		})
	}
}

// TestSettleBeforeFold: the process was killed after AddTasks and before
// the fold, and the task completed before a sweep folded the journal.
// Settling records the request the task was planned for and answers it;
// the later fold answers the other request of the journal (the same work,
// now done) with a reuse, and nobody is answered twice.
func TestSettleBeforeFold(t *testing.T) {
	var rec Record
	a, b := req("a"), req("b")
	task := request.TaskID(a, 0)
	ch := rec.Settle(task, a, success(), maxResubmits, t0.Add(time.Minute))
	wantAnswers(t, ch, results.StatusSucceeded, "a")
	fold := rec.Fold([]request.Request{a, b}, t0)
	wantAnswers(t, fold, results.StatusSucceeded, "b")
	if fold.Events[0].Reused == nil {
		t.Errorf("b answered %+v, want a reuse of a's MP3", fold.Events[0])
	}
	if again := rec.Fold([]request.Request{a, b}, t0); len(again.Events) != 1 || again.dirty {
		t.Errorf("folding again = %+v, want only b's reuse repeated, without a write", again)
	}
}

// TestSettleFindsTheRecordedOwner: a transient failure resubmits the
// request the record says owns the task, even when the task was planned
// for another (the sharer's AddTasks came first), and the planned request
// keeps waiting for the next attempt.
func TestSettleFindsTheRecordedOwner(t *testing.T) {
	var rec Record
	a, b := hashed("a", "0x1"), hashed("b", "0x2")
	rec.Fold([]request.Request{a}, t0)
	rec.Fold([]request.Request{b}, t0)
	task := request.TaskID(a, 0)
	ch := rec.Settle(task, b, transient(), maxResubmits, t0)
	if len(ch.Events) != 0 || len(ch.Resubmit) != 1 || ch.Resubmit[0].ID != "a" || ch.Resubmit[0].Attempt != 1 {
		t.Fatalf("transient failure = %+v, want a's attempt 1 and no answers", ch)
	}
	rec.Fold([]request.Request{ch.Resubmit[0]}, t0)
	next := request.TaskID(a, 1)
	if e := rec.Find("b"); e.TaskID != next || e.State != results.StateSubmitted {
		t.Errorf("b waits on %s (%s), want a's next task %s", e.TaskID, e.State, next)
	}
	wantAnswers(t, rec.Settle(next, ch.Resubmit[0], success(), maxResubmits, t0), results.StatusSucceeded, "a", "b")
}

// TestJournalledTaskNeverAdded: the process was killed between the journal
// and AddTasks and the batch was never redelivered (dead-lettered): the
// fold records the request on a task that does not exist, and the lost
// task scan resubmits it after the grace period.
func TestJournalledTaskNeverAdded(t *testing.T) {
	var rec Record
	rec.Fold([]request.Request{req("a")}, t0)
	task := request.TaskID(req("a"), 0)
	ch := rec.Lost(task, "TaskNotFound", t0.Add(time.Minute), maxResubmits, t0.Add(time.Hour))
	if len(ch.Resubmit) != 1 || ch.Resubmit[0].Attempt != 1 || len(ch.Events) != 0 {
		t.Errorf("Lost = %+v, want a's attempt 1", ch)
	}
}

// TestAnEarlierRunIsNotRepeated: the same work done again later runs
// under the same task id (a reuse that SubmitTasks could not know of, or a
// replayed request). Settling that second run answers the requests
// waiting on it and never repeats the answers of the first run.
func TestAnEarlierRunIsNotRepeated(t *testing.T) {
	var rec Record
	a := req("a")
	task := request.TaskID(a, 0)
	rec.Fold([]request.Request{a}, t0)
	wantAnswers(t, rec.Settle(task, a, success(), maxResubmits, t0), results.StatusSucceeded, "a")

	second := success()
	second.FinishedAt = t0.Add(time.Hour)
	if ch := rec.Settle(task, a, second, maxResubmits, t0.Add(time.Hour)); len(ch.Events) != 0 || ch.dirty {
		t.Errorf("settling a replay's run = %+v, want nothing", ch)
	}
	b := req("b")
	wantAnswers(t, rec.Fold([]request.Request{b}, t0.Add(time.Hour)), results.StatusSucceeded, "b")
	if ch := rec.Settle(task, b, second, maxResubmits, t0.Add(time.Hour)); len(ch.Events) != 0 || ch.dirty {
		t.Errorf("settling the run of a reused request = %+v, want nothing", ch)
	}
	for i := range rec.Requests { // as if the first run had failed: c does the work again
		rec.Requests[i].State, rec.Requests[i].MP3 = results.StateFailed, nil
	}
	c := req("c")
	rec.Fold([]request.Request{c}, t0.Add(time.Hour))
	wantAnswers(t, rec.Settle(task, c, second, maxResubmits, t0.Add(time.Hour)), results.StatusSucceeded, "c")
}

// TestForcedRequestsOwnTheirTask: force asks for a transcode of its own,
// so a forced request neither reuses done work nor joins another task.
func TestForcedRequestsOwnTheirTask(t *testing.T) {
	var rec Record
	rec.Fold([]request.Request{req("a")}, t0)
	f := req("f", func(r *request.Request) { r.Force = true })
	rec.Fold([]request.Request{f}, t0)
	if e := rec.Find("f"); e.SharedWith != "" || e.TaskID != request.TaskID(f, 0) || e.TaskID == request.TaskID(req("a"), 0) {
		t.Errorf("forced request = %+v, want it to own its own task", e)
	}
}

func TestStoreJournals(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	j := &Journal{Name: JournalName([]request.Request{req("a")}), AcceptedAt: t0, Requests: []request.Request{req("a")}}
	if err := s.WriteJournal(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteJournal(ctx, j); err != nil {
		t.Fatalf("rewriting a journal: %v", err)
	}
	names, err := s.ListJournals(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || len(names) != 1 || names[0] != j.Name {
		t.Fatalf("ListJournals = %v, %v; want [%s]", names, err, j.Name)
	}
	if names, _ := s.ListJournals(ctx, time.Now().Add(-time.Hour), 10); len(names) != 0 {
		t.Errorf("ListJournals before the write = %v, want none", names)
	}
	got, err := s.ReadJournal(ctx, j.Name)
	if err != nil || got.Name != j.Name || !got.AcceptedAt.Equal(t0) || len(got.Requests) != 1 || got.Requests[0] != j.Requests[0] {
		t.Fatalf("ReadJournal = %+v, %v", got, err)
	}
	for range 2 {
		if err := s.DeleteJournal(ctx, j.Name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ReadJournal(ctx, j.Name); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadJournal after the delete = %v, want ErrNotFound", err)
	}
}

// TestStoreUpdateNew: a fold's create-first update writes a new record in
// one request, and on a file that has a record runs the transition on
// that record instead.
func TestStoreUpdateNew(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	fold := func(reqs ...request.Request) func(*Record) Change {
		return func(rec *Record) Change { return rec.Fold(reqs, t0) }
	}
	if _, err := s.UpdateNew(ctx, "input", "a.mp4", fold(req("a"))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateNew(ctx, "input", "a.mp4", fold(req("b"))); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "input", "a.mp4")
	if err != nil || len(rec.Requests) != 2 || rec.Find("b").SharedWith != "a" {
		t.Fatalf("record = %+v, %v; want a owning the task and b sharing it", rec, err)
	}
	if ch, err := s.UpdateNew(ctx, "input", "a.mp4", fold(req("a"))); err != nil || ch.Dirty() {
		t.Errorf("folding a again = %+v, %v; want nothing written", ch, err)
	}
}

// TestSettleBeforeFoldOfAQueuedRequest: a drop is recorded queued by
// BlobCreated (and a resubmission queued by settling) before SubmitTasks
// journals it; when its task completes before the journal is folded, the
// task is still the one that request waits on. Settling must record the
// request on the task and answer it (confirming the MP3 first), not take
// the task for an earlier attempt's and throw its work away, which left
// the request waiting on a deleted task until the lost-task scan
// resubmitted it (or failed it as lost at the last attempt).
func TestSettleBeforeFoldOfAQueuedRequest(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		var rec Record
		a := req("a", func(r *request.Request) { r.Source = request.SourceDrop })
		rec.Queue(a, t0)
		task := request.TaskID(a, 0)
		if rec.Settled(task, a) {
			t.Errorf("the task of a queued request not yet folded counts as settled: its MP3 would not be confirmed")
		}
		wantAnswers(t, rec.Settle(task, a, success(), maxResubmits, t0.Add(time.Minute)), results.StatusSucceeded, "a")
		if fold := rec.Fold([]request.Request{a}, t0); len(fold.Events) != 0 || fold.dirty {
			t.Errorf("folding after settling = %+v, want nothing", fold)
		}
	})
	t.Run("resubmission", func(t *testing.T) {
		var rec Record
		a, b := req("a"), req("b")
		rec.Fold([]request.Request{a, b}, t0)
		first := request.TaskID(a, 0)
		ch := rec.Settle(first, a, transient(), maxResubmits, t0)
		if len(ch.Resubmit) != 1 {
			t.Fatalf("transient failure = %+v, want a resubmission", ch)
		}
		next := ch.Resubmit[0]
		task := request.TaskID(next, next.Attempt)
		if rec.Settled(task, next) {
			t.Errorf("the task of a resubmission not yet folded counts as settled")
		}
		wantAnswers(t, rec.Settle(task, next, success(), maxResubmits, t0.Add(time.Minute)), results.StatusSucceeded, "a", "b")
		if fold := rec.Fold([]request.Request{next}, t0); len(fold.Events) != 0 || fold.dirty {
			t.Errorf("folding after settling = %+v, want nothing", fold)
		}
		if again := rec.Settle(first, a, transient(), maxResubmits, t0); len(again.Events) != 0 || len(again.Resubmit) != 0 {
			t.Errorf("settling the first attempt's task again = %+v, want nothing", again)
		}
	})
}
