package handlers

import (
	"crypto/md5"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// writeInput makes the input blob's current version etag, written at at
// (its Last-Modified), as an upload behind the task's back leaves it.
func (f *fixture) writeInput(container, name, etag string, at time.Time) {
	f.blobs.mu.Lock()
	defer f.blobs.mu.Unlock()
	tag, size := azcore.ETag(`"`+etag+`"`), int64(10)
	if f.blobs.props == nil {
		f.blobs.props = map[string]blob.GetPropertiesResponse{}
	}
	f.blobs.props[container+"/"+name] = blob.GetPropertiesResponse{ETag: &tag, ContentLength: &size, LastModified: &at}
}

// output is the promoted MP3 at name, nil if there is none.
func (f *fixture) output(name string) []byte {
	f.blobs.mu.Lock()
	defer f.blobs.mu.Unlock()
	return f.blobs.blobs["output/"+name]
}

// staged reports whether task id's staged MP3 is still in storage.
func (f *fixture) staged(id string) bool {
	return f.output(plan.StagingName(id)) != nil
}

// TestSettleConfirmsTheVersionRead: a task that Batch reports succeeded
// answers its request "succeeded" only when it can be shown to have read
// the requested version; otherwise the request fails with the reason and
// its MP3 is neither promoted nor kept.
func TestSettleConfirmsTheVersionRead(t *testing.T) {
	md5Other := fmt.Sprintf("%x", md5.Sum([]byte("other bytes")))
	tests := []struct {
		name string
		body string
		// change runs after the task succeeded, before the sweep.
		change   func(f *fixture, task string)
		want     results.Status
		wantCode string
	}{
		{"blob unchanged", arrivalJSON("input", "a.mp4", "0x1", ""), func(*fixture, string) {}, results.StatusSucceeded, ""},
		{"blob overwritten while the task ran", arrivalJSON("input", "a.mp4", "0x1", ""), func(f *fixture, _ string) {
			f.writeInput("input", "a.mp4", "0x2", f.now().Add(30*time.Second))
		}, results.StatusFailed, results.CodeInputChanged},
		{"made-up ETag", arrivalJSON("input", "a.mp4", "0xDEADBEEF", ""), func(f *fixture, _ string) {
			f.writeInput("input", "a.mp4", "0x8DD1", f.now().Add(-time.Hour))
		}, results.StatusFailed, results.CodeVersionNotFound},
		{"input deleted", arrivalJSON("input", "a.mp4", "0x1", ""), func(f *fixture, _ string) {
			f.blobs.remove("input", "a.mp4")
		}, results.StatusFailed, results.CodeVersionNotFound},
		{"overwritten, the task read the requested bytes (MD5)", arrivalJSON("input", "a.mp4", "0x1", `,"contentMD5":"`+md5A+`"`), func(f *fixture, _ string) {
			f.writeInput("input", "a.mp4", "0x2", f.now().Add(30*time.Second))
		}, results.StatusSucceeded, ""},
		{"overwritten, the task read other bytes (MD5)", arrivalJSON("input", "a.mp4", "0x1", `,"contentMD5":"`+md5A+`"`), func(f *fixture, task string) {
			f.stage(task, []byte("mp3 of the other version"), md5Other+"  input.mp4\n")
			f.writeInput("input", "a.mp4", "0x2", f.now().Add(30*time.Second))
		}, results.StatusFailed, results.CodeInputChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-1", body: tc.body})
			task := f.entry(t, "input", "a.mp4", "m-1").TaskID
			f.succeed(task, f.now(), f.now().Add(time.Minute))
			tc.change(f, task)
			f.sweep(t)
			ev := wantAnswer(t, f, "m-1", "", tc.want)
			if f.staged(task) {
				t.Errorf("the staged MP3 was left behind")
			}
			if tc.want == results.StatusSucceeded {
				if got := string(f.output("a.mp3")); got != "mp3 of "+task || ev.Output == nil || ev.Output.Blob != "a.mp3" {
					t.Errorf("a.mp3 = %q, answer output %+v; want task %s's MP3", got, ev.Output, task)
				}
				return
			}
			if ev.Failure == nil || ev.Failure.Code != tc.wantCode || ev.Failure.Category != results.CategoryInput || ev.Failure.Transient || ev.Output != nil {
				t.Errorf("answer = %+v, failure %+v; want a permanent input failure %s without output", ev, ev.Failure, tc.wantCode)
			}
			if got := f.output("a.mp3"); got != nil {
				t.Errorf("a.mp3 = %q, want no MP3 for a version that cannot be confirmed", got)
			}
		})
	}
}

// TestSettleConfirmsTheStoredMP3: a success is reported only once its MP3
// is in storage with the length the task reported; a lost or cut MP3 is a
// transient upload failure, so the request is resubmitted, not answered.
func TestSettleConfirmsTheStoredMP3(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(f *fixture, task string)
		wantCode string
	}{
		{"staged MP3 lost", func(f *fixture, task string) { f.blobs.remove("output", plan.StagingName(task)) }, results.CodeOutputMissing},
		{"staged MP3 empty", func(f *fixture, task string) { f.stage(task, nil, "") }, results.CodeOutputIncomplete},
		{"staged MP3 cut short", func(f *fixture, task string) {
			f.stage(task, []byte("mp3"), "")
			f.blobs.put("output", plan.LogsPath(f.cfg.LogsPrefix, task)+"/stdout.txt", []byte("total_size=99\nprogress=end\n"), nil)
		}, results.CodeOutputIncomplete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
			task := f.entry(t, "input", "a.mp4", "m-1").TaskID
			f.succeed(task, f.now(), f.now().Add(time.Minute))
			tc.damage(f, task)
			f.sweep(t)
			wantNoAnswer(t, f, "m-1")
			e := f.entry(t, "input", "a.mp4", "m-1")
			if e.State != results.StateQueued || e.Attempt != 1 || len(f.arrivals.scheduled) != 1 {
				t.Errorf("record %s attempt %d, %d resubmissions; want queued again as attempt 1", e.State, e.Attempt, len(f.arrivals.scheduled))
			}
			if got := f.output("a.mp3"); got != nil {
				t.Errorf("a.mp3 = %q, want none", got)
			}
			// The resubmitted attempt makes the MP3 and is answered once.
			f.clock.advance(f.cfg.ResubmitBackoff)
			f.forward(t)
			next := f.entry(t, "input", "a.mp4", "m-1").TaskID
			f.succeed(next, f.now(), f.now().Add(time.Minute))
			f.sweep(t)
			ev := wantAnswer(t, f, "m-1", "", results.StatusSucceeded)
			if ev.Attempts.Resubmits != 1 || string(f.output("a.mp3")) != "mp3 of "+next {
				t.Errorf("answer %+v, a.mp3 %q; want attempt 1's MP3", ev.Attempts, f.output("a.mp3"))
			}
			if !strings.Contains(f.entry(t, "input", "a.mp4", "m-1").Logs, next) {
				t.Errorf("logs of the answer are not attempt 1's")
			}
		})
	}
}

// TestSettleRepeatedAfterPromotion: a settle killed after the copy, before
// the record was written, reaches the same answer when it runs again: the
// output carries the task's id, so it is this task's MP3, whether the
// staged MP3 is still there (it is deleted only after the record) or gone.
func TestSettleRepeatedAfterPromotion(t *testing.T) {
	for _, stagedGone := range []bool{false, true} {
		t.Run(fmt.Sprintf("staged MP3 gone %v", stagedGone), func(t *testing.T) {
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
			task := f.entry(t, "input", "a.mp4", "m-1").TaskID
			f.succeed(task, f.now(), f.now().Add(time.Minute))
			f.status.inject(func(s *fakeStatus) { s.failWrites = 1 })
			if _, err := f.app.SweepPools(t.Context(), timerRequest()); err == nil {
				t.Fatalf("SweepPools succeeded despite the failed record write")
			}
			if string(f.output("a.mp3")) != "mp3 of "+task || !f.staged(task) {
				t.Fatalf("after the first settle: staged %v, a.mp3 %q; want promoted and the staged MP3 kept", f.staged(task), f.output("a.mp3"))
			}
			if stagedGone {
				f.blobs.remove("output", plan.StagingName(task))
			}
			wantNoAnswer(t, f, "m-1")
			f.sweep(t)
			ev := wantAnswer(t, f, "m-1", "", results.StatusSucceeded)
			if ev.Output == nil || ev.Output.Blob != "a.mp3" || f.entry(t, "input", "a.mp4", "m-1").MP3Size != int64(len("mp3 of "+task)) {
				t.Errorf("answer output %+v, entry %+v", ev.Output, f.entry(t, "input", "a.mp4", "m-1"))
			}
			if f.blobs.copies != 1 || f.staged(task) {
				t.Errorf("%d copies, staged %v; want 1 copy and the staged MP3 deleted", f.blobs.copies, f.staged(task))
			}
		})
	}
}

// TestOlderVersionNeverReplacesNewerMP3: an MP3 made from an older
// version of the input (proven by its MD5, since the blob has changed)
// does not replace the MP3 of a newer version already at the output.
//
// Last-Modified has a resolution of one second, so the newer version may
// carry the very second the old task started: the old MP3 loses the tie.
func TestOlderVersionNeverReplacesNewerMP3(t *testing.T) {
	tests := []struct {
		name string
		// newerAt is when the newer version is written, after the old task
		// started at the fixture's now + 300 ms.
		newerAt time.Duration
	}{
		{"an hour later", time.Hour},
		{"within the second the old task started", 600 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.submit(t, message{id: "m-old", body: arrivalJSON("input", "a.mp4", "0x1", `,"contentMD5":"`+md5A+`"`)})
			old := f.entry(t, "input", "a.mp4", "m-old").TaskID
			start := f.now().Add(300 * time.Millisecond)
			// The newer version 0x2 is written, transcoded and promoted first.
			f.clock.advance(tc.newerAt)
			written := f.now().Truncate(time.Second)
			f.submit(t, message{id: "m-new", body: arrivalJSON("input", "a.mp4", "0x2", "")})
			newer := f.entry(t, "input", "a.mp4", "m-new").TaskID
			f.succeed(newer, f.now(), f.now().Add(time.Second))
			f.writeInput("input", "a.mp4", "0x2", written)
			f.sweep(t)
			if string(f.output("a.mp3")) != "mp3 of "+newer {
				t.Fatalf("a.mp3 = %q, want the newer version's", f.output("a.mp3"))
			}
			wantAnswer(t, f, "m-new", "", results.StatusSucceeded)
			// The old task, which read 0x1 (its MD5 says so), is settled last.
			f.succeed(old, start, start.Add(100*time.Millisecond))
			f.writeInput("input", "a.mp4", "0x2", written)
			f.sweep(t)
			ev := wantAnswer(t, f, "m-old", "", results.StatusFailed)
			if ev.Failure.Code != results.CodeInputChanged || !strings.Contains(ev.Failure.Message, "newer version") {
				t.Errorf("old version's failure = %+v", ev.Failure)
			}
			if string(f.output("a.mp3")) != "mp3 of "+newer || f.staged(old) {
				t.Errorf("a.mp3 = %q, old staged %v; want the newer version's MP3 and the old one deleted", f.output("a.mp3"), f.staged(old))
			}
		})
	}
}

// TestSharedTaskPromotedOnce: requests sharing a task (the same work) all
// get its MP3 at their common output, from one copy.
func TestSharedTaskPromotedOnce(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t,
		message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"contentMD5":"`+md5A+`"`)},
		message{id: "m-2", body: arrivalJSON("input", "a.mp4", "0x2", `,"contentMD5":"`+md5A+`"`)},
	)
	task := f.entry(t, "input", "a.mp4", "m-1").TaskID
	if e := f.entry(t, "input", "a.mp4", "m-2"); e.TaskID != task || e.SharedWith != "m-1" {
		t.Fatalf("m-2 = %+v, want sharing m-1's task", e)
	}
	f.succeed(task, f.now(), f.now().Add(time.Minute))
	// The identical re-upload 0x2 is the blob's version now.
	f.writeInput("input", "a.mp4", "0x2", f.now().Add(time.Second))
	f.sweep(t)
	for _, id := range []string{"m-1", "m-2"} {
		if ev := wantAnswer(t, f, id, "", results.StatusSucceeded); ev.Output == nil || ev.Output.Blob != "a.mp3" {
			t.Errorf("%s output = %+v", id, ev.Output)
		}
	}
	if f.blobs.copies != 1 || string(f.output("a.mp3")) != "mp3 of "+task {
		t.Errorf("%d copies, a.mp3 %q; want one copy of task %s's MP3", f.blobs.copies, f.output("a.mp3"), task)
	}
}

// TestPromotedOutputMetadata: the promoted MP3 names its task and the
// input version it was made from, the order key of later promotions.
func TestPromotedOutputMetadata(t *testing.T) {
	f := newFixture(t, nil)
	modified := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	task := f.entry(t, "input", "a.mp4", "m-1").TaskID
	f.succeed(task, f.now(), f.now().Add(time.Minute))
	f.writeInput("input", "a.mp4", "0x1", modified)
	f.sweep(t)
	p, err := f.blobs.GetProperties(t.Context(), "output", "a.mp3")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*string{metaTask: to.Ptr(task), metaSource: to.Ptr(request.FileKey("input", "a.mp4")),
		metaSourceETag: to.Ptr("0x1"), metaSourceTime: to.Ptr(modified.Format(time.RFC3339Nano))}
	for k, v := range want {
		if got := metaValue(p.Metadata, k); got != *v {
			t.Errorf("metadata %s = %q, want %q", k, got, *v)
		}
	}
}

// TestSettleOfAnEarlierAttempt: a task of an earlier attempt that
// completes after its request moved on (resubmitted as attempt 1) leaves
// no MP3 behind and does not answer the request.
func TestSettleOfAnEarlierAttempt(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	first := f.entry(t, "input", "a.mp4", "m-1").TaskID
	f.clock.advance(f.cfg.OrphanGrace + time.Minute)
	saved := f.batch.tasks[strings.ToLower(first)]
	f.batch.lose(first)
	f.sweep(t) // lost: resubmitted as attempt 1
	if e := f.entry(t, "input", "a.mp4", "m-1"); e.Attempt != 1 {
		t.Fatalf("record %+v, want attempt 1 after the lost task", e)
	}
	f.batch.mu.Lock()
	f.batch.tasks[strings.ToLower(first)] = saved // it ran after all
	f.batch.mu.Unlock()
	f.succeed(first, f.now(), f.now().Add(time.Second))
	f.writeInput("input", "a.mp4", "0x1", f.now().Add(-time.Hour))
	f.sweep(t)
	wantNoAnswer(t, f, "m-1")
	if f.staged(first) || f.output("a.mp3") != nil {
		t.Errorf("staged %v, a.mp3 %q; want the earlier attempt's MP3 deleted and not promoted", f.staged(first), f.output("a.mp3"))
	}
}

// TestRefusalRepeatedAfterACrash: a settle that refused a task's MP3 and
// died before recording decides the same when it runs again (the staged
// MP3 is kept until the answer is recorded), rather than taking the MP3
// for lost.
func TestRefusalRepeatedAfterACrash(t *testing.T) {
	f := newFixture(t, nil)
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0xDEADBEEF", "")})
	task := f.entry(t, "input", "a.mp4", "m-1").TaskID
	f.succeed(task, f.now(), f.now().Add(time.Minute))
	f.writeInput("input", "a.mp4", "0x8DD1", f.now().Add(-time.Hour))
	f.status.inject(func(s *fakeStatus) { s.failWrites = 1 })
	if _, err := f.app.SweepPools(t.Context(), timerRequest()); err == nil {
		t.Fatalf("SweepPools succeeded despite the failed record write")
	}
	f.sweep(t)
	ev := wantAnswer(t, f, "m-1", "", results.StatusFailed)
	if ev.Failure == nil || ev.Failure.Code != results.CodeVersionNotFound || f.staged(task) || len(f.arrivals.scheduled) != 0 {
		t.Errorf("failure %+v, staged %v, %d resubmissions; want version_not_found, the MP3 deleted, no resubmission", ev.Failure, f.staged(task), len(f.arrivals.scheduled))
	}
}
