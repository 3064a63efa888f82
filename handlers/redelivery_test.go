package handlers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestSubmitTasksRedelivery: Service Bus delivers at least once; a message
// delivered again (same MessageId, so the same request) before or after
// its answer adds no second task and gets the same answer.
func TestSubmitTasksRedelivery(t *testing.T) {
	msg := message{id: "m-1", correlation: "c-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`)}
	f := newFixture(t, nil)
	f.submit(t, msg)
	f.clock.advance(time.Minute)
	f.submit(t, msg)
	rec := f.record(t, "input", "a.mp4")
	ids := f.batch.addedIDs()
	if len(ids) != 1 || len(rec.Requests) != 1 || rec.Requests[0].TaskID != ids[0] {
		t.Fatalf("tasks %v, record %+v; want one task and one request", ids, rec.Requests)
	}
	if !rec.Requests[0].SubmittedAt.Equal(f.now().Add(-time.Minute)) {
		t.Errorf("redelivery moved submittedAt to %v", rec.Requests[0].SubmittedAt)
	}
	f.succeed(ids[0], f.now(), f.now().Add(time.Second))
	f.sweep(t)
	first := wantAnswer(t, f, "m-1", "c-1", results.StatusSucceeded)

	f.clock.advance(time.Hour)
	f.submit(t, msg)
	again := wantRepeatedAnswer(t, f, "m-1", "c-1", results.StatusSucceeded, 2)
	if n := len(f.answersTo(t, "m-1")); n != 2 || again.ID != first.ID || !again.Time.Equal(first.Time) {
		t.Errorf("late redelivery: %d messages, event %s at %v; want the first answer (%s at %v) repeated", n, again.ID, again.Time, first.ID, first.Time)
	}
	if n := len(f.batch.addedIDs()); n != 1 {
		t.Errorf("%d tasks after the late redelivery, want 1", n)
	}
}

// TestSubmitTasksRacing runs SubmitTasks on several function instances at
// once: identical requests get one task between them and one answer each.
func TestSubmitTasksRacing(t *testing.T) {
	const racers = 8
	tests := []struct {
		name string
		// sameMessage delivers one message to every instance (a lock lost
		// mid-invocation); otherwise each instance gets its own request
		// for the same work.
		sameMessage bool
		conflicts   int
	}{
		{"distinct requests for the same work", false, 0},
		{"one message on every instance", true, 0},
		{"distinct requests, writes losing races", false, racers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			f.status.inject(func(s *fakeStatus) { s.conflicts = tc.conflicts })
			id := func(i int) string {
				if tc.sameMessage {
					return "m-0"
				}
				return fmt.Sprint("m-", i)
			}
			var wg sync.WaitGroup
			errs := make([]error, racers)
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					corr := "c-" + id(i)
					msg := message{id: id(i), correlation: corr, body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"`+corr+`"`)}
					_, errs[i] = f.newApp().SubmitTasks(ctx, submitRequest(msg))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
			}
			ids := f.batch.addedIDs()
			if len(ids) != 1 {
				t.Fatalf("%d tasks for %d identical requests, want 1", len(ids), racers)
			}
			requests := map[string]bool{}
			for i := range racers {
				requests[id(i)] = true
			}
			if rec := f.record(t, "input", "a.mp4"); len(rec.Requests) != len(requests) || len(rec.InFlightTasks()) != 1 {
				t.Fatalf("record holds %d requests on tasks %v, want %d on one task", len(rec.Requests), rec.InFlightTasks(), len(requests))
			}
			f.succeed(ids[0], f.now(), f.now().Add(time.Second))
			f.sweep(t)
			for r := range requests {
				if ev := wantAnswer(t, f, r, "c-"+r, results.StatusSucceeded); ev.ID != request.ResultID(r) || ev.TaskID != ids[0] {
					t.Errorf("request %s: answer %s on task %s", r, ev.ID, ev.TaskID)
				}
			}
			if len(f.results.sent) != len(requests) {
				t.Errorf("%d result messages for %d requests", len(f.results.sent), len(requests))
			}
		})
	}
}
