package handlers

import (
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestOutputHandedOverWhileRequestInFlight: once a request is accepted
// (its task planned), a later overwrite by another input must not turn a
// repeat of that same request into a different decision, and must never
// leave a request unanswered. The output is claimed when a task's MP3 is
// promoted (promote.go), so a redelivery or a resubmitted attempt of the
// accepted request is not refused at SubmitTasks; whatever settling then
// decides for its task (the MP3 promoted, or refused as output_taken)
// answers every request waiting on it, the sharers included.
func TestOutputHandedOverWhileRequestInFlight(t *testing.T) {
	tests := []struct {
		name string
		// resubmitted makes the owner's task fail transiently before the
		// overwrite, so the owner comes back as attempt 1.
		resubmitted bool
	}{
		{"redelivery of the accepted request", false},
		{"resubmitted attempt of the owner", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			owner := message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-a"`)}
			f.submit(t, owner)
			f.submit(t, message{id: "m-b", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-b"`)})
			task := f.entry(t, "input", "a.mp4", "m-a").TaskID
			if tc.resubmitted {
				f.failTransiently(task)
				f.sweep(t)
			}
			// Another input takes the output over.
			f.submit(t, message{id: "m-x", body: arrivalJSON("input", "b.mp4", "0x1", `,"output":"a.mp3","overwrite":true`)})
			f.clock.advance(time.Hour)
			if tc.resubmitted {
				f.forward(t)
			} else {
				f.submit(t, owner)
			}
			if e := f.entry(t, "input", "a.mp4", "m-a"); e.State == results.StateRejected {
				t.Errorf("request m-a, accepted with task %s, became rejected (%s) on a repeat", task, e.Rejection.Message)
			}
			// Whatever happens to m-a, m-b must be answered in the end.
			for _, id := range f.batch.addedIDs() {
				if bt, ok := f.batch.tasks[id]; ok && bt.State != batch.TaskStateCompleted {
					f.succeed(id, f.now(), f.now())
				}
			}
			for range 3 {
				f.clock.advance(f.cfg.OrphanGrace + time.Minute)
				f.sweep(t)
				f.forward(t)
			}
			if got := f.answersTo(t, "m-b"); len(got) != 1 {
				t.Errorf("request m-b, sharing m-a's task, has %d answers; want 1 (record: %+v)", len(got), f.entry(t, "input", "a.mp4", "m-b"))
			}
		})
	}
}
