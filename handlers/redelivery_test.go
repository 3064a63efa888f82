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
	if n := len(f.answersTo(t, "m-1")); n != 1 {
		t.Errorf("late redelivery: %d answers, want the first one only", n)
	}
	if live := f.batch.liveIDs(); len(live) != 0 {
		t.Errorf("late redelivery left tasks %v to run, want none (the work is done)", live)
	}
	if e := f.entry(t, "input", "a.mp4", "m-1"); e.State != results.StateSucceeded || !e.AnsweredAt.Equal(first.Time) {
		t.Errorf("late redelivery changed the record: %+v", e)
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
			apps := make([]*App, racers)
			for i := range racers {
				apps[i] = f.newApp()
				wg.Add(1)
				go func() {
					defer wg.Done()
					corr := "c-" + id(i)
					msg := message{id: id(i), correlation: corr, body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"`+corr+`"`)}
					_, errs[i] = apps[i].SubmitTasks(ctx, submitRequest(msg))
				}()
			}
			wg.Wait()
			for _, app := range apps {
				f.drain(t, app)
			}
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
