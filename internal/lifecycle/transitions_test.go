package lifecycle

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const maxResubmits = 2

func req(id string, mutate ...func(*request.Request)) request.Request {
	r := request.Request{ID: id, Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 10},
		Preset: "mp3-192k-cbr", Output: "a.mp3", Correlation: "corr-" + id, Source: request.SourceMessage}
	for _, m := range mutate {
		m(&r)
	}
	return r
}

var out = &results.Output{URL: "https://acct.blob.core.windows.net/output/a.mp3", Container: "output", Blob: "a.mp3"}

func success() TaskResult {
	return TaskResult{Outcome: results.OutcomeSuccess, MP3: out, StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(2 * time.Second)}
}

func transient() TaskResult {
	return TaskResult{Outcome: results.OutcomeTransient, Failure: &results.Failure{Category: results.CategoryNode, Code: "NodePreempted", Transient: true}}
}

// wantAnswers checks that ch answers exactly the requests ids, with
// status and each request's own id and correlation.
func wantAnswers(t *testing.T, ch Change, status results.Status, ids ...string) {
	t.Helper()
	if len(ch.Events) != len(ids) {
		t.Fatalf("%d events, want %d (%v)", len(ch.Events), len(ids), ids)
	}
	for i, ev := range ch.Events {
		if ev.Status != status || ev.Request.ID != ids[i] || ev.ID != request.ResultID(ids[i]) || ev.Request.Correlation != "corr-"+ids[i] {
			t.Errorf("event %d = %s %s (request %s, correlation %q), want %s for request %s", i, ev.Status, ev.ID, ev.Request.ID, ev.Request.Correlation, status, ids[i])
		}
		if _, err := ev.Marshal(); err != nil {
			t.Errorf("event %d does not marshal: %v", i, err)
		}
	}
}

func sameEvent(a, b *results.Event) bool {
	x, errA := a.Marshal()
	y, errB := b.Marshal()
	return errA == nil && errB == nil && string(x) == string(y)
}

func TestSubmitAndSettle(t *testing.T) {
	var rec Record
	a := req("a")
	ch := rec.Submit(a, t0)
	if ch.Task == nil || !ch.dirty || ch.Task.TaskID != request.TaskID(a, 0) || ch.Task.State != results.StateSubmitted {
		t.Fatalf("first Submit = %+v, want a new task", ch)
	}
	task := ch.Task.TaskID
	if again := rec.Submit(a, t0.Add(time.Minute)); again.Task != nil || again.dirty || len(again.Events) != 0 {
		t.Errorf("redelivered Submit = %+v, want nothing (SubmitTasks adds the same task id again)", again)
	}
	if got := rec.InFlightTasks(); len(got) != 1 || got[0] != task {
		t.Errorf("InFlightTasks = %v, want [%s]", got, task)
	}
	ch = rec.Settle(task, a, success(), maxResubmits, t0.Add(3*time.Second))
	wantAnswers(t, ch, results.StatusSucceeded, "a")
	if ev := ch.Events[0]; ev.Output != out || ev.Timings.RunMillis != 1000 || ev.TaskID != task {
		t.Errorf("success event = %+v", ev)
	}
	again := rec.Settle(task, a, success(), maxResubmits, t0.Add(time.Hour))
	wantAnswers(t, again, results.StatusSucceeded, "a")
	if again.dirty || !sameEvent(again.Events[0], ch.Events[0]) {
		t.Errorf("settling again = dirty %v, event %+v; want the same event without a write", again.dirty, again.Events[0])
	}
	if len(rec.InFlightTasks()) != 0 {
		t.Errorf("InFlightTasks after success = %v", rec.InFlightTasks())
	}
}

func TestIdenticalRequestsShareOneTask(t *testing.T) {
	var rec Record
	a, b := req("a"), req("b")
	task := rec.Submit(a, t0).Task.TaskID
	ch := rec.Submit(b, t0)
	if ch.Task != nil || !ch.dirty {
		t.Fatalf("second identical request = %+v, want it to share, not add a task", ch)
	}
	if e := rec.Find("b"); e.State != results.StateSubmitted || e.SharedWith != "a" || e.TaskID != task {
		t.Errorf("sharing entry = %+v", e)
	}
	wantAnswers(t, rec.Settle(task, a, success(), maxResubmits, t0), results.StatusSucceeded, "a", "b")
}

func TestDoneWorkIsReused(t *testing.T) {
	var rec Record
	a := req("a")
	task := rec.Submit(a, t0).Task.TaskID
	rec.Settle(task, a, success(), maxResubmits, t0)
	tests := []struct {
		name     string
		r        request.Request
		wantTask bool
	}{
		{"same version", req("b"), false},
		{"new version with the same content", req("c", func(r *request.Request) {
			r.ETag, r.ContentMD5 = "0x2", "1B2M2Y8AsgTpgAmY7PhCfg=="
		}), true},
		{"force", req("d", func(r *request.Request) { r.Force = true }), true},
		{"other preset", req("e", func(r *request.Request) { r.Preset, r.Output = "mp3-v2-vbr", "a.mp3-v2-vbr.mp3" }), true},
		{"new version", req("f", func(r *request.Request) { r.ETag = "0x3" }), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := rec.Submit(tc.r, t0)
			if got := ch.Task != nil; got != tc.wantTask {
				t.Fatalf("task added = %v, want %v (%+v)", got, tc.wantTask, ch)
			}
			if !tc.wantTask {
				wantAnswers(t, ch, results.StatusSucceeded, tc.r.ID)
				if r := ch.Events[0].Reused; r == nil || r.Request != "a" || ch.Events[0].Output != out {
					t.Errorf("reused answer = %+v", ch.Events[0])
				}
			}
		})
	}
}

func TestReuseWithContentMD5(t *testing.T) {
	var rec Record
	md5 := func(r *request.Request) { r.ContentMD5 = "1B2M2Y8AsgTpgAmY7PhCfg==" }
	a := req("a", md5)
	rec.Settle(rec.Submit(a, t0).Task.TaskID, a, success(), maxResubmits, t0)
	b := req("b", md5, func(r *request.Request) { r.ETag = "0x2" })
	ch := rec.Submit(b, t0)
	if ch.Task != nil {
		t.Fatalf("identical re-upload added a task")
	}
	wantAnswers(t, ch, results.StatusSucceeded, "b")
}

func TestTransientFailureResubmitsTheOwner(t *testing.T) {
	var rec Record
	a, b := req("a"), req("b")
	first := rec.Submit(a, t0).Task.TaskID
	rec.Submit(b, t0)
	ch := rec.Settle(first, a, transient(), maxResubmits, t0)
	if len(ch.Events) != 0 || len(ch.Resubmit) != 1 || ch.Resubmit[0].Attempt != 1 || ch.Resubmit[0].ID != "a" {
		t.Fatalf("transient failure = %+v, want one resubmission of a, no answers", ch)
	}
	if again := rec.Settle(first, a, transient(), maxResubmits, t0); len(again.Resubmit) != 1 || again.dirty {
		t.Errorf("settling again = %+v, want the same resubmission repeated without a write", again)
	}
	if stale := rec.Submit(a, t0); stale.Task != nil || stale.dirty {
		t.Errorf("a redelivered attempt-0 message = %+v, want nothing", stale)
	}
	ch = rec.Submit(ch.Resubmit[0], t0)
	if ch.Task == nil || ch.Task.TaskID == first || ch.Task.TaskID != request.TaskID(a, 1) {
		t.Fatalf("attempt 1 = %+v, want a new task", ch)
	}
	second := ch.Task.TaskID
	if e := rec.Find("b"); e.TaskID != second {
		t.Errorf("sharing request waits on %s, want the new task %s", e.TaskID, second)
	}
	if late := rec.Settle(first, a, success(), maxResubmits, t0); late.dirty || len(late.Events) != 0 {
		t.Errorf("a late settle of the first task = %+v, want nothing", late)
	}
	ch = rec.Settle(second, ch.Task.Request, success(), maxResubmits, t0)
	wantAnswers(t, ch, results.StatusSucceeded, "a", "b")
	if ch.Events[0].Attempts.Resubmits != 1 {
		t.Errorf("attempts = %+v, want 1 resubmission", ch.Events[0].Attempts)
	}
}

func TestResubmissionsRunOut(t *testing.T) {
	var rec Record
	a := req("a")
	ch := rec.Submit(a, t0)
	for n := 0; n < maxResubmits; n++ {
		ch = rec.Settle(ch.Task.TaskID, ch.Task.Request, transient(), maxResubmits, t0)
		ch = rec.Submit(ch.Resubmit[0], t0)
	}
	ch = rec.Settle(ch.Task.TaskID, ch.Task.Request, transient(), maxResubmits, t0)
	wantAnswers(t, ch, results.StatusFailed, "a")
	if f := ch.Events[0].Failure; f == nil || !f.Transient || f.Code != "NodePreempted" {
		t.Errorf("failure = %+v", f)
	}
}

func TestSettleRecordsALostRequest(t *testing.T) {
	var rec Record
	a := req("a")
	ch := rec.Settle(request.TaskID(a, 0), a, success(), maxResubmits, t0)
	wantAnswers(t, ch, results.StatusSucceeded, "a")
	if !ch.dirty || rec.Find("a") == nil {
		t.Errorf("Settle on a record without the request did not record it")
	}
}

func TestQueue(t *testing.T) {
	var rec Record
	a := req("a", func(r *request.Request) { r.Source = request.SourceDrop })
	if ch := rec.Queue(a, t0); !ch.Send || !ch.dirty || rec.Find("a").State != results.StateQueued {
		t.Fatalf("Queue = %+v, want a queued request and its arrival sent", ch)
	}
	if ch := rec.Queue(a, t0); !ch.Send || ch.dirty {
		t.Errorf("Queue again = %+v, want the arrival sent again without a write", ch)
	}
	if ch := rec.Submit(a, t0); ch.Task == nil {
		t.Errorf("Submit of the queued drop added no task")
	}
	b := req("b")
	if ch := rec.Queue(b, t0); ch.Send || rec.Find("b").SharedWith != "a" {
		t.Errorf("Queue of identical work in flight = %+v, want it to share without an arrival", ch)
	}
}

func TestRefuse(t *testing.T) {
	var rec Record
	rej := &results.Rejection{Reason: "unsupported_extension", Message: "not an .mp4 blob"}
	ch := rec.Refuse(req("a"), results.StateIgnored, rej, t0)
	wantAnswers(t, ch, results.StatusIgnored, "a")
	again := rec.Refuse(req("a"), results.StateIgnored, rej, t0.Add(time.Hour))
	if again.dirty || !sameEvent(again.Events[0], ch.Events[0]) {
		t.Errorf("refusing again = %+v, want the same answer without a write", again)
	}
	if sub := rec.Submit(req("a"), t0); sub.Task != nil || len(sub.Events) != 0 || sub.dirty {
		t.Errorf("Submit of a refused request = %+v, want nothing (Refuse repeats its answer)", sub)
	}
}

func TestLost(t *testing.T) {
	var rec Record
	a := req("a")
	task := rec.Submit(a, t0).Task.TaskID
	if ch := rec.Lost(task, "TaskNotFound", t0, maxResubmits, t0.Add(time.Hour)); ch.dirty {
		t.Errorf("Lost within the grace period = %+v, want nothing", ch)
	}
	ch := rec.Lost(task, "TaskNotFound", t0.Add(time.Minute), maxResubmits, t0.Add(time.Hour))
	if len(ch.Resubmit) != 1 || ch.Resubmit[0].Attempt != 1 {
		t.Fatalf("Lost = %+v, want a resubmission", ch)
	}
	if len(rec.InFlightTasks()) != 0 {
		t.Errorf("a resubmitted request still lists task %v in flight", rec.InFlightTasks())
	}
}

func TestLostAfterResubmissionsFailsEveryWaiter(t *testing.T) {
	var rec Record
	a := req("a", func(r *request.Request) { r.Attempt = maxResubmits })
	task := rec.Submit(a, t0).Task.TaskID
	rec.Submit(req("b"), t0)
	ch := rec.Lost(task, "JobNotFound", t0.Add(time.Minute), maxResubmits, t0.Add(time.Hour))
	wantAnswers(t, ch, results.StatusFailed, "a", "b")
	if f := ch.Events[1].Failure; f.Category != results.CategoryLost || f.Code != "JobNotFound" {
		t.Errorf("failure = %+v", f)
	}
}

func TestTrimKeepsInFlight(t *testing.T) {
	var rec Record
	rec.Submit(req("live"), t0)
	for i := range MaxHistory + 10 {
		rec.Refuse(req(fmt.Sprint("old-", i)), results.StateRejected, &results.Rejection{Reason: "x", Message: "x"}, t0)
	}
	rec.trim()
	if len(rec.Requests) != MaxHistory || rec.Find("live") == nil || rec.Find("old-0") != nil || rec.Find(fmt.Sprint("old-", MaxHistory+9)) == nil {
		t.Errorf("after trim: %d requests, live kept %v", len(rec.Requests), rec.Find("live") != nil)
	}
}

func TestMessageRejectionID(t *testing.T) {
	rej := &results.Rejection{Reason: "not_json", Message: "x"}
	a := MessageRejection("m1", "c1", []byte("x"), rej, t0)
	b := MessageRejection("m1", "c1", []byte("x"), rej, t0.Add(time.Hour))
	c := MessageRejection("", "", []byte("x"), rej, t0)
	if a.ID != b.ID || a.ID == c.ID || a.Request.Correlation != "c1" {
		t.Errorf("ids %s %s %s: want a redelivery to keep its id", a.ID, b.ID, c.ID)
	}
	if _, err := c.Marshal(); err != nil {
		t.Error(err)
	}
}

// TestRecordJSONRoundTrip guards the stored form: every field of an entry
// (the request's output name included) survives encoding.
func TestRecordJSONRoundTrip(t *testing.T) {
	var rec Record
	a := req("a", func(r *request.Request) { r.ContentMD5, r.Force, r.Overwrite = "1B2M2Y8AsgTpgAmY7PhCfg==", true, true })
	rec.Settle(rec.Submit(a, t0).Task.TaskID, a, success(), maxResubmits, t0)
	rec.Submit(req("b"), t0)
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got Record
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("round trip changed the record:\n got %+v\nwant %+v", got, rec)
	}
}

// TestSettled: a task needs confirming until its requests are answered
// or moved on; then settling it again only repeats the record.
func TestSettled(t *testing.T) {
	var rec Record
	a := req("a")
	task := request.TaskID(a, 0)
	if rec.Settled(task, a) {
		t.Errorf("a task whose request is not recorded counts as settled")
	}
	rec.Submit(a, t0)
	if rec.Settled(task, a) {
		t.Errorf("a task with requests in flight counts as settled")
	}
	rec.Settle(task, a, transient(), maxResubmits, t0)
	if !rec.Settled(task, a) {
		t.Errorf("a task whose owner was resubmitted does not count as settled")
	}
	next := rec.Find("a").Request
	next.Attempt = 1
	ch := rec.Submit(next, t0)
	rec.Settle(ch.Task.TaskID, next, success(), maxResubmits, t0)
	if !rec.Settled(ch.Task.TaskID, next) {
		t.Errorf("an answered task does not count as settled")
	}
}

// TestSettleRejected: a task whose MP3 may not be promoted (its output
// owned by another input) answers every request waiting on it
// "rejected", once; settling again repeats the answers.
func TestSettleRejected(t *testing.T) {
	var rec Record
	a, b := req("a"), req("b")
	ch := rec.Submit(a, t0)
	rec.Submit(b, t0)
	rej := &results.Rejection{Reason: "output_taken", Message: "output a.mp3 belongs to input/b.mp4"}
	// The same run of the task: its end time is the one success() has.
	res := TaskResult{Outcome: results.OutcomePermanent, Rejection: rej, Logs: "https://acct/output/logs/t", FinishedAt: success().FinishedAt}
	first := rec.Settle(ch.Task.TaskID, a, res, maxResubmits, t0)
	wantAnswers(t, first, results.StatusRejected, "a", "b")
	for _, ev := range first.Events {
		if ev.Rejection == nil || ev.Rejection.Reason != "output_taken" || ev.Output != nil || ev.Failure != nil {
			t.Errorf("event = %+v, want an output_taken rejection without output", ev)
		}
	}
	again := rec.Settle(ch.Task.TaskID, a, success(), maxResubmits, t0.Add(time.Hour))
	if again.dirty || len(again.Events) != 2 || !sameEvent(again.Events[0], first.Events[0]) || !sameEvent(again.Events[1], first.Events[1]) {
		t.Errorf("settling again = %+v, want the same answers without a write", again)
	}
}
