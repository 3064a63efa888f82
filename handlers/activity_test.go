package handlers

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestSettleMeasuresTheMP3: a successful task's record carries the MP3's
// size (its confirmed blob's length) and duration (ffmpeg's summary line in
// stderr.txt), and the sweep adds the answer to the activity summary.
func TestSettleMeasuresTheMP3(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	e := f.entry(t, "input", "a.mp4", "m-1")
	f.blobs.mu.Lock()
	f.blobs.blobs["output/logs/"+e.TaskID+"/stderr.txt"] = []byte("size=      79KiB time=00:01:05.50 bitrate= 129.4kbits/s speed= 180x\n")
	f.blobs.mu.Unlock()
	f.succeed(e.TaskID, f.now(), f.now().Add(time.Second))
	f.stage(e.TaskID, make([]byte, 81234), "")
	f.sweep(t)

	got := f.entry(t, "input", "a.mp4", "m-1")
	if got.State != results.StateSucceeded || got.MP3Size != 81234 || got.AudioMillis != 65500 {
		t.Errorf("entry: state %s, MP3 size %d, audio %d ms; want succeeded, 81234, 65500", got.State, got.MP3Size, got.AudioMillis)
	}
	page := statusPage(t, f, nil)
	if len(page.Rows) != 1 || page.Rows[0].OutputSize != 81234 || page.Rows[0].AudioMillis != 65500 {
		t.Errorf("rows = %+v, want the size and duration", page.Rows)
	}
	if tot := page.Activity.Totals; tot.Succeeded != 1 || tot.AudioMillis != 65500 || len(page.Activity.Recent) != 1 {
		t.Errorf("activity = %+v, want one success with its audio", page.Activity)
	}
}

// TestActivityFailureKeepsAnswers: a failed activity write fails nothing;
// the answers are added by the next invocation's flush, once.
func TestActivityFailureKeepsAnswers(t *testing.T) {
	f := newFixture(t, nil)
	f.status.inject(func(s *fakeStatus) { s.activityErr = errors.New("throttled") })
	f.drop(t, "notes.txt", "0x1")
	if tot := statusPage(t, f, nil).Activity.Totals; tot.Refused != 0 {
		t.Fatalf("activity counted while its writes fail: %+v", tot)
	}
	f.status.inject(func(s *fakeStatus) { s.activityErr = nil })
	f.sweep(t)
	f.sweep(t)
	if tot := statusPage(t, f, nil).Activity.Totals; tot.Refused != 1 {
		t.Errorf("activity after the failure = %+v, want the ignored drop counted once", tot)
	}
}

// TestActivityOneWriterPerProcess: invocations that finish while another
// writes the activity summary do not write it too (concurrent writes of
// the one document conflicted and gave up under a burst of TaskFinished
// invocations); their answers go into the writer's next write, each
// counted once.
func TestActivityOneWriterPerProcess(t *testing.T) {
	f := newFixture(t, nil)
	entered, release := make(chan struct{}, 10), make(chan struct{}, 10)
	f.status.inject(func(s *fakeStatus) { s.activityEntered, s.activityRelease = entered, release })
	answer := func(i int) []lifecycle.Entry {
		return []lifecycle.Entry{{Request: request.Request{ID: fmt.Sprintf("m-%d", i)}, State: results.StateSucceeded, AnsweredAt: f.now()}}
	}
	f.app.activity.add(answer(0))
	done := make(chan struct{})
	go func() { f.app.flushActivity(t.Context()); close(done) }()
	<-entered // the first flush is writing
	const others = 5
	othersDone := make(chan struct{})
	go func() {
		for i := 1; i <= others; i++ {
			f.app.activity.add(answer(i))
			f.app.flushActivity(t.Context()) // returns at once: the writer takes these
		}
		close(othersDone)
	}()
	select {
	case <-othersDone:
	case <-entered:
		t.Fatal("another invocation wrote the summary while the first was writing")
	}
	release <- struct{}{} // the first write
	release <- struct{}{} // the writer's second, with the others' answers
	<-done
	f.status.inject(func(s *fakeStatus) { s.activityEntered = nil })
	f.status.mu.Lock()
	writes := f.status.activityWrites
	f.status.mu.Unlock()
	tot := statusPage(t, f, nil).Activity.Totals
	if writes != 2 || tot.Succeeded != others+1 {
		t.Errorf("%d summary writes counting %d successes, want 2 writes counting %d", writes, tot.Succeeded, others+1)
	}
}
