package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/results"
)

// taskFinished delivers the BlobCreated event of blob in the output
// container to TaskFinished and fails the test on an error.
func (f *fixture) taskFinished(t *testing.T, blob string) {
	t.Helper()
	if _, err := f.app.TaskFinished(context.Background(), eventRequest("PutBlob", "output", blob, "0x9", 100)); err != nil {
		t.Fatalf("TaskFinished: %v", err)
	}
}

// TestTaskFinished: the upload of a task's stderr.txt settles the task at
// once (no sweep): its request is answered and the task deleted; a repeat
// of the event, or the sweep afterwards, adds no second answer.
func TestTaskFinished(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-1", correlation: "c-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	task := f.entry(t, "input", "a.mp4", "m-1").TaskID
	f.succeed(task, f.now(), f.now().Add(time.Second))
	f.taskFinished(t, "logs/"+task+"/stderr.txt")
	wantAnswer(t, f, "m-1", "c-1", results.StatusSucceeded)
	if got := f.batch.deleted; len(got) != 1 || got[0] != task {
		t.Errorf("deleted tasks %v, want [%s]", got, task)
	}
	// The answer reaches the activity summary (the dashboard's last results)
	// at the end of this invocation, not at the next sweep.
	if act, err := f.status.Activity(context.Background()); err != nil || len(act.Recent) != 1 {
		t.Errorf("activity after TaskFinished: %d recent answers (%v), want 1", len(act.Recent), err)
	}
	f.taskFinished(t, "logs/"+task+"/stderr.txt")
	f.sweep(t)
	wantAnswer(t, f, "m-1", "c-1", results.StatusSucceeded)
}

// TestTaskFinishedWaitsForCompletion: Batch uploads the logs before it
// moves the task to completed; TaskFinished waits for the completion.
func TestTaskFinishedWaitsForCompletion(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	task := f.entry(t, "input", "a.mp4", "m-1").TaskID
	go func() {
		time.Sleep(3 * finishPoll)
		f.succeed(task, f.now(), f.now())
	}()
	f.taskFinished(t, "logs/"+task+"/stderr.txt")
	wantAnswer(t, f, "m-1", "", results.StatusSucceeded)
}

// TestTaskFinishedIgnores: events that are not a task's stderr.txt, or
// whose task is already gone, change nothing.
func TestTaskFinishedIgnores(t *testing.T) {
	tests := []struct{ name, container, blob string }{
		{"an MP3", "output", "a.mp3"},
		{"stdout.txt", "output", "logs/t-1/stdout.txt"},
		{"another container", "input", "logs/t-1/stderr.txt"},
		{"no task id", "output", "logs//stderr.txt"},
		{"a task already settled", "output", "logs/t-gone/stderr.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
			calls := len(f.batch.calls)
			if _, err := f.app.TaskFinished(context.Background(), eventRequest("PutBlob", tc.container, tc.blob, "0x9", 1)); err != nil {
				t.Fatalf("TaskFinished: %v", err)
			}
			if len(f.published(t)) != 0 || len(f.batch.deleted) != 0 {
				t.Errorf("published %d, deleted %v; want nothing", len(f.published(t)), f.batch.deleted)
			}
			for _, c := range f.batch.calls[calls:] {
				if c != "GetTask" {
					t.Errorf("called %s; only a Get Task is expected", c)
				}
			}
		})
	}
}

// TestTaskFinishedFailureIsRetried: when settling fails (the results topic
// is down), the invocation fails so Event Grid redelivers, and the task is
// kept for the redelivery or the sweep.
func TestTaskFinishedFailureIsRetried(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	task := f.entry(t, "input", "a.mp4", "m-1").TaskID
	f.succeed(task, f.now(), f.now())
	f.results.failNext = 1
	if _, err := f.app.TaskFinished(context.Background(), eventRequest("PutBlob", "output", "logs/"+task+"/stderr.txt", "0x9", 1)); err == nil {
		t.Fatal("TaskFinished succeeded although publishing failed")
	}
	if f.batch.tasks[task].State != batch.TaskStateCompleted {
		t.Fatalf("the task was not kept")
	}
	f.taskFinished(t, "logs/"+task+"/stderr.txt")
	wantAnswer(t, f, "m-1", "", results.StatusSucceeded)
}
