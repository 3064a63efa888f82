package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestKilledAfterJournalWrite: SubmitTasks wrote the journal and added the
// tasks, but its fold never happened (the process was killed, or the
// record writes failed). No record shows the requests; the journal does.
// Whether the task completes before SweepPools folds the journal or
// after, every request gets exactly one answer and the journal is gone.
func TestKilledAfterJournalWrite(t *testing.T) {
	msgs := []message{
		{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)},
		{id: "m-2", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-2"`)},
	}
	for _, completesFirst := range []bool{false, true} {
		name := map[bool]string{false: "folded before the task completes", true: "task settled before the fold"}[completesFirst]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.status.inject(func(s *fakeStatus) { s.failWrites = 1 })
			f.submit(t, msgs...)
			if _, err := f.status.Get(context.Background(), "input", "a.mp4"); err == nil {
				t.Fatalf("a record exists although the fold failed")
			}
			if j := f.status.journalNames(); len(j) != 1 {
				t.Fatalf("journals %v, want the batch's one", j)
			}
			ids := f.batch.addedIDs()
			if len(ids) != 1 {
				t.Fatalf("tasks %v, want one for the two identical requests", ids)
			}
			if v := fileStatus(t, f, "a.mp4"); v.State != "submitted" || v.TaskID != ids[0] || v.history() != "m-1:submitted m-2:submitted" {
				t.Errorf("status before the fold = %s on %s (%s), want both requests submitted on %s", v.State, v.TaskID, v.history(), ids[0])
			}
			if completesFirst {
				f.succeed(ids[0], f.now(), f.now().Add(time.Second))
				f.sweep(t) // the journal is younger than journalGrace: settled from the task alone
				wantAnswer(t, f, "m-1", "c-1", results.StatusSucceeded)
				wantNoAnswer(t, f, "m-2")
			}
			f.clock.advance(journalGrace + time.Second)
			f.sweep(t)
			if j := f.status.journalNames(); len(j) != 0 {
				t.Fatalf("journals %v left after the sweep", j)
			}
			if !completesFirst {
				if rec := f.record(t, "input", "a.mp4"); len(rec.InFlightTasks()) != 1 || rec.InFlightTasks()[0] != ids[0] {
					t.Fatalf("after the fold the record has tasks %v in flight, want [%s]", rec.InFlightTasks(), ids[0])
				}
				f.succeed(ids[0], f.now(), f.now().Add(time.Second))
				f.sweep(t)
			}
			f.clock.advance(time.Hour)
			f.sweep(t)
			for _, m := range msgs {
				wantAnswer(t, f, m.id, "c"+m.id[1:], results.StatusSucceeded)
			}
		})
	}
}

// TestIdenticalUploadsInTwoInvocations: two uploads of the same content
// (two versions, the same Content-MD5 and size) reach two SubmitTasks
// invocations at once. They journal the same task id, Batch keeps one
// task, one request owns it and the other shares it, and both are
// answered once by that task.
func TestIdenticalUploadsInTwoInvocations(t *testing.T) {
	f := newFixture(t, nil)
	msgs := []message{
		{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1","contentMD5":"`+md5A+`"`)},
		{id: "m-2", body: arrivalJSON("input", "a.mp4", "0x2", `,"correlation":"c-2","contentMD5":"`+md5A+`"`)},
	}
	apps := []*App{f.newApp(), f.newApp()}
	var wg sync.WaitGroup
	errs := make([]error, len(msgs))
	for i := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = apps[i].SubmitTasks(context.Background(), submitRequest(msgs[i]))
		}()
	}
	wg.Wait()
	for i, app := range apps {
		if errs[i] != nil {
			t.Fatalf("invocation %d: %v", i, errs[i])
		}
		f.drain(t, app)
	}
	ids := f.batch.addedIDs()
	if len(ids) != 1 {
		t.Fatalf("tasks %v for two identical uploads, want one", ids)
	}
	rec := f.record(t, "input", "a.mp4")
	owners := 0
	for _, e := range rec.Requests {
		if e.TaskID != ids[0] || e.State != results.StateSubmitted {
			t.Errorf("request %s: %s on %s, want submitted on %s", e.ID, e.State, e.TaskID, ids[0])
		}
		if e.SharedWith == "" {
			owners++
		}
	}
	if owners != 1 {
		t.Errorf("%d owners of the task, want 1", owners)
	}
	f.succeed(ids[0], f.now(), f.now().Add(time.Second))
	f.sweep(t)
	for _, m := range msgs {
		if ev := wantAnswer(t, f, m.id, "c"+m.id[1:], results.StatusSucceeded); ev.TaskID != ids[0] || ev.Reused != nil {
			t.Errorf("%s answered on task %s (reused %+v), want task %s", m.id, ev.TaskID, ev.Reused, ids[0])
		}
	}
	if n := len(f.results.sent); n != len(msgs) {
		t.Errorf("%d answers for %d requests", n, len(msgs))
	}
}

// TestSubmitTasksWritesOneJournal: whatever the batch size, SubmitTasks
// writes one document (the journal) before its tasks are added, and no
// record on its own path; the records come from the journal.
func TestSubmitTasksWritesOneJournal(t *testing.T) {
	f := newFixture(t, nil)
	f.status.inject(func(s *fakeStatus) { s.failWrites = 1 << 30 }) // no record can be written
	var msgs []message
	for _, b := range []string{"a.mp4", "b.mp4", "c.mp4"} {
		msgs = append(msgs, message{id: "m-" + b, body: arrivalJSON("input", b, "0x1", "")})
	}
	f.submit(t, msgs...)
	if n := len(f.batch.addedIDs()); n != 3 {
		t.Errorf("%d tasks added, want 3", n)
	}
	names := f.status.journalNames()
	if len(names) != 1 {
		t.Fatalf("journals %v, want 1", names)
	}
	j, err := f.status.ReadJournal(context.Background(), names[0])
	if err != nil || len(j.Requests) != 3 || names[0] != lifecycle.JournalName(j.Requests) {
		t.Fatalf("journal %s = %+v, %v; want the 3 requests under their name", names[0], j, err)
	}
}

// fileStatus is the Status answer for blob in the input container; it
// fails the test unless it is 200.
func fileStatus(t *testing.T, f *fixture, blob string) fileJSON {
	t.Helper()
	resp, err := f.app.Status(context.Background(), httpRequest("GET", map[string]string{"blob": blob}))
	if err != nil {
		t.Fatal(err)
	}
	out, ok := resp.Outputs[bindingResponse].(customhandler.HTTPResponse)
	if !ok || out.StatusCode != http.StatusOK {
		t.Fatalf("status of %s: %+v", blob, resp.Outputs)
	}
	var v fileJSON
	if err := json.Unmarshal([]byte(out.Body), &v); err != nil {
		t.Fatalf("body %s: %v", out.Body, err)
	}
	return v
}

// TestDropSettledBeforeItsFold: BlobCreated recorded a drop queued and sent
// its arrival; SubmitTasks journalled it and added its task, but the fold
// did not happen (killed, or the record write failed), and the task
// completed before a sweep folded the journal. Settling must answer the
// drop with the task's promoted MP3, once; it used to take the task for
// one the request had moved on from, delete it unanswered, and leave the
// request waiting on a deleted task until the lost-task scan ran the work
// again.
func TestDropSettledBeforeItsFold(t *testing.T) {
	f := newFixture(t, nil)
	f.drop(t, "a.mp4", "0x1")
	id := f.record(t, "input", "a.mp4").Current().ID
	f.status.inject(func(s *fakeStatus) { s.failWrites = 1 })
	f.forward(t)
	ids := f.batch.addedIDs()
	if len(ids) != 1 {
		t.Fatalf("tasks %v, want the drop's one", ids)
	}
	if e := f.entry(t, "input", "a.mp4", id); e.State != results.StateQueued {
		t.Fatalf("before the fold the drop is %s, want queued", e.State)
	}
	f.succeed(ids[0], f.now(), f.now().Add(time.Second))
	f.sweep(t) // the journal is younger than journalGrace: settled from the task alone
	if ev := wantAnswer(t, f, id, "", results.StatusSucceeded); ev.Output == nil || ev.Output.Blob != "a.mp3" {
		t.Errorf("drop answered with output %+v, want a.mp3", ev.Output)
	}
	if _, err := f.blobs.GetProperties(context.Background(), "output", "a.mp3"); err != nil {
		t.Errorf("the task's MP3 was not promoted to a.mp3: %v", err)
	}
	f.clock.advance(journalGrace + time.Second)
	f.sweep(t)
	f.clock.advance(f.cfg.OrphanGrace + time.Hour)
	f.sweep(t)
	f.forward(t)
	f.sweep(t)
	wantAnswer(t, f, id, "", results.StatusSucceeded)
	if n := len(f.batch.addedIDs()); n != 1 {
		t.Errorf("tasks %v, want the work done once", f.batch.addedIDs())
	}
}

// TestBadJournalDoesNotHoldUpTheSweep: a journal that cannot be read (here
// one whose body is not JSON) fails SweepPools, but only after the other
// journals were folded and the completed tasks settled.
func TestBadJournalDoesNotHoldUpTheSweep(t *testing.T) {
	f := newFixture(t, nil)
	f.status.mu.Lock()
	f.status.journals["journal/bad.json"] = storedJournal{body: []byte("{"), written: f.now()}
	f.status.mu.Unlock()
	f.drop(t, "a.mp4", "0x1")
	id := f.record(t, "input", "a.mp4").Current().ID
	f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) // the invocation's own fold fails
	f.forward(t)
	ids := f.batch.addedIDs()
	if len(ids) != 1 {
		t.Fatalf("tasks %v, want the drop's one", ids)
	}
	f.succeed(ids[0], f.now(), f.now().Add(time.Second))
	f.clock.advance(journalGrace + time.Second)
	if _, err := f.app.SweepPools(context.Background(), timerRequest()); err == nil || !strings.Contains(err.Error(), "journal") {
		t.Fatalf("SweepPools: %v, want the bad journal's error", err)
	}
	wantAnswer(t, f, id, "", results.StatusSucceeded)
	names, err := f.status.ListJournals(context.Background(), f.now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "journal/bad.json" {
		t.Errorf("journals left %v, want only the bad one (the good one folded and deleted)", names)
	}
}

// TestFoldWaitsInLineWithoutTimingOut: a background fold that waits for a
// turn (every fold worker busy, as under a burst of journals) longer than
// a fold may take still folds once it gets one: the deadline counts from
// its turn. A deadline over the whole fold timed 847 folds out in the
// queue in the 10,000-file run and left their requests queued.
func TestFoldWaitsInLineWithoutTimingOut(t *testing.T) {
	f := newFixture(t, nil)
	f.app.folds.fileTimeout = 20 * time.Millisecond
	for range foldWorkers {
		f.app.folds.sem <- struct{}{} // every worker busy
	}
	if _, err := f.app.SubmitTasks(context.Background(), submitRequest(message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * f.app.folds.fileTimeout) // the fold waits in line past its deadline
	for range foldWorkers {
		<-f.app.folds.sem
	}
	f.drain(t, f.app)
	if e := f.entry(t, "input", "a.mp4", "m-1"); e.State != results.StateSubmitted {
		t.Errorf("after the wait: %s, want submitted", e.State)
	}
	if j := f.status.journalNames(); len(j) != 0 {
		t.Errorf("journals %v left, want the folded one deleted", j)
	}
}

// TestSweepStopsAtItsBudget: with the store so slow that each journal
// takes a minute to fold, one SweepPools run folds journals only while
// its time budget lasts, and the next runs continue, instead of running
// into the function timeout (the host then restarts the handler, killing
// every invocation in flight). Requests still queued in the journals left
// are not resent.
func TestSweepStopsAtItsBudget(t *testing.T) {
	f := newFixture(t, nil)
	const n = 10
	for i := range n {
		f.drop(t, fmt.Sprintf("f%02d.mp4", i), "0x1")
		f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) // the background fold
		f.forward(t)
	}
	f.clock.advance(f.cfg.OrphanGrace + journalGrace + time.Minute)
	f.status.inject(func(s *fakeStatus) { s.onReadJournal = func() { f.clock.advance(time.Minute) } })
	perRun := int(sweepBudget / time.Minute)
	for run, left := 1, n; left > 0; run++ {
		resp := f.sweep(t)
		want := max(left-perRun, 0)
		if got := len(f.status.journalNames()); got != want {
			t.Fatalf("run %d: %d journals left, want %d (logs %q)", run, got, want, resp.Logs)
		}
		if want > 0 && !strings.Contains(strings.Join(resp.Logs, "\n"), "time budget") {
			t.Errorf("run %d: logs %q, want the spent budget said", run, resp.Logs)
		}
		if sent := len(f.arrivals.takeSent()); sent != 0 {
			t.Fatalf("run %d: %d arrivals resent while journals were left, want none", run, sent)
		}
		left = want
	}
	for i := range n {
		blob := fmt.Sprintf("f%02d.mp4", i)
		if e := f.entry(t, "input", blob, f.onlyRequest(t, blob)); e.State != results.StateSubmitted {
			t.Errorf("%s: %s, want submitted", blob, e.State)
		}
	}
}

// TestSweepLeavesBackgroundFolds: a journal this process is still folding
// in the background (waiting for a fold worker, as under a burst) is left
// to that fold by SweepPools, not folded a second time behind it, and its
// requests are not taken for lost arrivals.
func TestSweepLeavesBackgroundFolds(t *testing.T) {
	f := newFixture(t, nil)
	f.drop(t, "a.mp4", "0x1")
	sent := f.arrivals.takeSent()
	if len(sent) != 1 {
		t.Fatalf("%d arrivals sent for the drop, want 1", len(sent))
	}
	for range foldWorkers {
		f.app.folds.sem <- struct{}{} // every worker busy
	}
	if _, err := f.app.SubmitTasks(context.Background(), submitRequest(message{id: *sent[0].MessageID, body: string(sent[0].Body)})); err != nil {
		t.Fatal(err)
	}
	id := f.onlyRequest(t, "a.mp4")
	f.clock.advance(f.cfg.OrphanGrace + journalGrace + time.Minute)
	swept := make(chan *customhandler.InvokeResponse, 1)
	go func() {
		resp, err := f.app.SweepPools(context.Background(), timerRequest())
		if err != nil {
			t.Error(err)
		}
		swept <- resp
	}()
	select {
	case resp := <-swept:
		if sent := len(f.arrivals.takeSent()); sent != 0 {
			t.Errorf("%d arrivals resent for a request whose journal is being folded, want none (logs %q)", sent, resp.Logs)
		}
	case <-time.After(time.Minute):
		t.Fatal("SweepPools waited in line behind the background fold")
	}
	for range foldWorkers {
		<-f.app.folds.sem
	}
	f.drain(t, f.app)
	if e := f.entry(t, "input", "a.mp4", id); e.State != results.StateSubmitted || e.Resends != 0 {
		t.Errorf("after the background fold: %s with %d resends, want submitted, none", e.State, e.Resends)
	}
}
