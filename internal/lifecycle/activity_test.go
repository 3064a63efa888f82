package lifecycle

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// answered is an entry answered at t with state.
func answered(id string, state results.State, at time.Time, mutate ...func(*Entry)) Entry {
	e := Entry{Request: req(id), State: state, AnsweredAt: at}
	for _, m := range mutate {
		m(&e)
	}
	return e
}

func TestActivityAdd(t *testing.T) {
	now := t0.Add(90 * time.Minute)
	var a Activity
	a.Add([]Entry{
		answered("old", results.StateSucceeded, now.Add(-2*time.Hour)),
		answered("s1", results.StateSucceeded, now.Add(-time.Minute), func(e *Entry) { e.AudioMillis = 60000 }),
		answered("s2", results.StateSucceeded, now.Add(-time.Minute+time.Second), func(e *Entry) { e.AudioMillis = 30000 }),
		answered("r1", results.StateSucceeded, now, func(e *Entry) { e.Reused = &results.Reuse{Request: "s1"} }),
		answered("f1", results.StateFailed, now),
		answered("i1", results.StateIgnored, now),
		answered("q1", results.StateQueued, now),
	}, now)
	want := []MinuteCount{
		{Minute: now.Add(-time.Minute).Truncate(time.Minute), Succeeded: 2, AudioMillis: 90000},
		{Minute: now.Truncate(time.Minute), Failed: 1, Reused: 1, Refused: 1},
	}
	if fmt.Sprint(a.Minutes) != fmt.Sprint(want) {
		t.Errorf("minutes = %+v, want %+v", a.Minutes, want)
	}
	if len(a.Recent) != 5 || a.Recent[4].Request != "s1" {
		t.Errorf("recent = %+v, want 5 answers of the last hour, newest first", a.Recent)
	}

	t.Run("a repeated answer is kept once", func(t *testing.T) {
		a.Add([]Entry{answered("f1", results.StateFailed, now)}, now)
		n := 0
		for _, r := range a.Recent {
			if r.Request == "f1" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("f1 listed %d times", n)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		var many []Entry
		for i := range 3 * RecentAnswers {
			many = append(many, answered(fmt.Sprint("m", i), results.StateSucceeded, now))
		}
		a.Add(many, now)
		if len(a.Recent) != RecentAnswers {
			t.Errorf("%d recent answers, want %d", len(a.Recent), RecentAnswers)
		}
	})
	t.Run("trimmed an hour later", func(t *testing.T) {
		a.Trim(now.Add(2 * time.Hour))
		if len(a.Minutes) != 0 || len(a.Recent) != 0 {
			t.Errorf("after an hour: %+v", a)
		}
	})
}

func TestStoreActivity(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a, err := s.Activity(ctx)
	if err != nil || len(a.Minutes) != 0 {
		t.Fatalf("Activity before any answer = %+v, %v", a, err)
	}
	for i := range 3 {
		if err := s.RecordActivity(ctx, []Entry{answered(fmt.Sprint("a", i), results.StateSucceeded, t0)}); err != nil {
			t.Fatal(err)
		}
	}
	a, err = s.Activity(ctx)
	if err != nil || len(a.Minutes) != 1 || a.Minutes[0].Succeeded != 3 || len(a.Recent) != 3 {
		t.Errorf("Activity = %+v, %v; want 3 successes in one minute", a, err)
	}
}

// TestChangeAnswered: transitions report fresh answers once; repeating a
// recorded answer reports none.
func TestChangeAnswered(t *testing.T) {
	var r Record
	r.Container, r.Blob = "input", "a.mp4"
	sub := r.Submit(req("r1"), t0)
	if len(sub.Answered) != 0 {
		t.Fatalf("Submit answered %d", len(sub.Answered))
	}
	res := TaskResult{Outcome: results.OutcomeSuccess, MP3: &results.Output{Blob: "a.mp3"}, MP3Size: 10, AudioMillis: 5000}
	ch := r.Settle(sub.Task.TaskID, sub.Task.Request, res, 3, t0.Add(time.Minute))
	if len(ch.Answered) != 1 || ch.Answered[0].AudioMillis != 5000 || ch.Answered[0].MP3Size != 10 {
		t.Fatalf("Settle answered %+v, want r1 with its duration and size", ch.Answered)
	}
	again := r.Settle(sub.Task.TaskID, sub.Task.Request, res, 3, t0.Add(2*time.Minute))
	if len(again.Events) != 1 || len(again.Answered) != 0 {
		t.Errorf("settling again: %d events, %d answered; want the answer repeated, nothing fresh", len(again.Events), len(again.Answered))
	}
	reused := r.Submit(req("r2", func(q *request.Request) { q.ETag = "0x1" }), t0.Add(3*time.Minute))
	if len(reused.Answered) != 1 || reused.Answered[0].Reused == nil || reused.Answered[0].AudioMillis != 5000 {
		t.Errorf("reused answer = %+v, want one reused answer with the duration", reused.Answered)
	}
}
