package handlers

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func TestBlobCreated(t *testing.T) {
	rawEvent := func(s string) *customhandler.InvokeRequest {
		return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingEvent: json.RawMessage(s)}}
	}
	tests := []struct {
		name string
		req  *customhandler.InvokeRequest
		// blob is the input blob the event is a request for ("" for
		// events that are not requests: no record, nothing sent).
		blob       string
		wantSent   bool
		wantStatus results.Status // the answer published at once, if any
		wantReason string
	}{
		{"put blob", eventRequest("PutBlob", "input", "a.mp4", "0x1", 10), "a.mp4", true, "", ""},
		{"block list, nested, spaces, uppercase", eventRequest("PutBlockList", "input", "shows/ep 1.MP4", "0x2", 10), "shows/ep 1.MP4", true, "", ""},
		{"copy", eventRequest("CopyBlob", "input", "c.Mp4", "0x3", 10), "c.Mp4", true, "", ""},
		{"flush with close", eventRequest("FlushWithClose", "input", "d.mp4", "0x4", 10), "d.mp4", true, "", ""},
		{"not an mp4: ignored", eventRequest("PutBlob", "input", "notes.txt", "0x1", 10), "notes.txt", false, results.StatusIgnored, string(arrival.ReasonBadExtension)},
		{"mp4 in the middle: ignored", eventRequest("PutBlob", "input", "a.mp4.part", "0x1", 10), "a.mp4.part", false, results.StatusIgnored, string(arrival.ReasonBadExtension)},
		{"empty mp4: rejected", eventRequest("PutBlob", "input", "empty.mp4", "0x1", 0), "empty.mp4", false, results.StatusRejected, string(arrival.ReasonEmptyBlob)},
		{"dot segment: rejected", eventRequest("PutBlob", "input", "a/../b.mp4", "0x1", 5), "a/../b.mp4", false, results.StatusRejected, string(arrival.ReasonDotSegment)},
		{"control character in an mp4's name: rejected", eventRequest("PutBlob", "input", "odd\x01name.mp4", "0x1", 5), "odd\x01name.mp4", false, results.StatusRejected, string(arrival.ReasonInvalidName)},
		{"escape in an mp4's name: rejected", eventRequest("PutBlob", "input", "odd\x1b[31m.mp4", "0x1", 5), "odd\x1b[31m.mp4", false, results.StatusRejected, string(arrival.ReasonInvalidName)},
		{"control character, not an mp4: ignored", eventRequest("PutBlob", "input", "odd\x01.txt", "0x1", 5), "odd\x01.txt", false, results.StatusIgnored, string(arrival.ReasonBadExtension)},
		{"uncommitted api: not a request", eventRequest("PutBlock", "input", "a.mp4", "0x1", 10), "", false, "", ""},
		{"other container: not a request", eventRequest("PutBlob", "output", "a.mp4", "0x1", 10), "", false, "", ""},
		{"upstream container: not watched", eventRequest("PutBlob", "upstream", "a.mp4", "0x1", 10), "", false, "", ""},
		{"other event type: not a request", rawEvent(`{"eventType":"Microsoft.Storage.BlobDeleted","subject":"/blobServices/default/containers/input/blobs/a.mp4","data":{}}`), "", false, "", ""},
		{"undecodable event: not a request", rawEvent(`"hello"`), "", false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			resp, err := f.app.BlobCreated(ctx, tc.req)
			if err != nil {
				t.Fatalf("BlobCreated: %v", err)
			}
			if len(resp.Logs) == 0 {
				t.Errorf("no log line")
			}
			if got := len(f.arrivals.sent); got != map[bool]int{true: 1}[tc.wantSent] {
				t.Fatalf("sent %d arrivals, want sent=%v", got, tc.wantSent)
			}
			if tc.blob == "" {
				if _, writes, _ := f.status.counts(); writes != 0 || len(f.results.sent) != 0 {
					t.Errorf("an event that is not a request wrote %d records and %d answers", writes, len(f.results.sent))
				}
				return
			}
			rec := f.record(t, "input", tc.blob)
			if len(rec.Requests) != 1 {
				t.Fatalf("record has %d requests, want 1", len(rec.Requests))
			}
			e := rec.Current()
			if e.Source != request.SourceDrop || e.Preset != f.cfg.DefaultPreset {
				t.Errorf("recorded request = %+v, want a drop with the default preset", e.Request)
			}
			if tc.wantStatus != "" {
				ev := wantAnswer(t, f, e.ID, "", tc.wantStatus)
				if ev.Rejection == nil || ev.Rejection.Reason != tc.wantReason || e.Rejection == nil || e.Rejection.Reason != tc.wantReason {
					t.Errorf("event rejection %+v, recorded %+v; want reason %s in both", ev.Rejection, e.Rejection, tc.wantReason)
				}
				if ev.File == nil || ev.File.Container != "input" || ev.File.Blob != tc.blob || ev.File.ETag == "" {
					t.Errorf("answer to a committed blob does not name it: file = %+v", ev.File)
				}
				if string(e.State) != string(tc.wantStatus) {
					t.Errorf("recorded state %s, want %s", e.State, tc.wantStatus)
				}
				if len(f.results.sent) != 1 {
					t.Errorf("%d result messages, want 1", len(f.results.sent))
				}
				return
			}
			if len(f.results.sent) != 0 || e.State != results.StateQueued {
				t.Errorf("%d answers, state %s; want none and queued", len(f.results.sent), e.State)
			}
			m := f.arrivals.sent[0]
			arr, err := arrival.Parse(m.Body)
			if err != nil {
				t.Fatalf("sent arrival does not parse: %v", err)
			}
			if arr.Blob != tc.blob || arr.Container != "input" || arr.Size != 10 || arr.Request != e.ID || arr.Output != e.Output {
				t.Errorf("arrival = %+v, want request %s for %s", arr, e.ID, tc.blob)
			}
			if m.MessageID == nil || *m.MessageID != e.ID || *m.MessageID != arr.MessageID() {
				t.Errorf("MessageId = %v, want the request id %s", m.MessageID, e.ID)
			}
		})
	}
}

// TestBlobCreatedRetries: Event Grid delivers at least once, and retries
// an invocation that failed; either way the blob is one request with one
// arrival message id or one answer.
func TestBlobCreatedRetries(t *testing.T) {
	failWrite := func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) }
	tests := []struct {
		name   string
		blob   string
		inject func(f *fixture)
		// firstErr is whether the first delivery fails.
		firstErr bool
		// wantStatus is the answer ("" when the arrival is sent).
		wantStatus results.Status
	}{
		{"delivered twice", "a.mp4", func(*fixture) {}, false, ""},
		{"record write fails", "a.mp4", failWrite, true, ""},
		{"arrival send fails", "a.mp4", func(f *fixture) { f.arrivals.failNext = 1 }, true, ""},
		{"ignored blob delivered twice", "a.txt", func(*fixture) {}, false, results.StatusIgnored},
		{"ignored blob, record write fails", "a.txt", failWrite, true, results.StatusIgnored},
		{"ignored blob, publish fails", "a.txt", func(f *fixture) { f.results.failNext = 1 }, true, results.StatusIgnored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			tc.inject(f)
			req := eventRequest("PutBlob", "input", tc.blob, `"0x1"`, 10)
			if _, err := f.app.BlobCreated(ctx, req); (err != nil) != tc.firstErr {
				t.Fatalf("first delivery: err = %v, want failure %v", err, tc.firstErr)
			}
			if _, writes, _ := f.status.counts(); writes == 0 && len(f.arrivals.sent)+len(f.results.sent) > 0 {
				t.Errorf("sent %d arrivals and %d answers without a record", len(f.arrivals.sent), len(f.results.sent))
			}
			f.clock.advance(time.Minute)
			if _, err := f.app.BlobCreated(ctx, req); err != nil {
				t.Fatalf("second delivery: %v", err)
			}
			rec := f.record(t, "input", tc.blob)
			if len(rec.Requests) != 1 {
				t.Fatalf("record has %d requests, want 1", len(rec.Requests))
			}
			id := rec.Current().ID
			if tc.wantStatus != "" {
				wantRepeatedAnswer(t, f, id, "", tc.wantStatus, 2)
				if len(f.arrivals.sent) != 0 {
					t.Errorf("an ignored blob sent %d arrivals", len(f.arrivals.sent))
				}
				return
			}
			if len(f.arrivals.sent) == 0 || len(f.results.sent) != 0 {
				t.Fatalf("sent %d arrivals and %d answers, want arrivals only", len(f.arrivals.sent), len(f.results.sent))
			}
			for _, m := range f.arrivals.sent {
				if *m.MessageID != id {
					t.Errorf("arrival MessageId %s, want the request id %s", *m.MessageID, id)
				}
			}
		})
	}
}

func TestBlobCreatedContentMD5(t *testing.T) {
	sum := md5.Sum([]byte("content A"))
	b64 := base64.StdEncoding.EncodeToString(sum[:])
	tests := []struct {
		name    string
		setup   func(f *fixture)
		wantMD5 string
	}{
		{"single-shot upload carries its md5", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x2", 10, sum[:]) }, b64},
		{"block-list upload without md5", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x2", 10, nil) }, ""},
		{"blob changed since the event", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x3", 10, sum[:]) }, ""},
		{"size differs from the event", func(f *fixture) { f.blobs.setProps("input", "a.mp4", "0x2", 11, sum[:]) }, ""},
		{"properties unreadable", func(f *fixture) { f.blobs.propsErr = errors.New("storage down") }, ""},
		{"blob gone", func(*fixture) {}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tc.setup(f)
			f.drop(t, "a.mp4", `"0x2"`)
			if len(f.arrivals.sent) != 1 {
				t.Fatalf("sent %d arrivals, want 1", len(f.arrivals.sent))
			}
			arr, err := arrival.Parse(f.arrivals.sent[0].Body)
			if err != nil {
				t.Fatalf("sent arrival does not parse: %v", err)
			}
			e := f.record(t, "input", "a.mp4").Current()
			if arr.ContentMD5 != tc.wantMD5 || e.ContentMD5 != tc.wantMD5 || arr.ETag != "0x2" {
				t.Errorf("arrival contentMD5 %q (etag %s), recorded %q; want %q", arr.ContentMD5, arr.ETag, e.ContentMD5, tc.wantMD5)
			}
		})
	}
}

// TestBlobCreatedIdenticalContent: an identical re-upload (new ETag, same
// Content-MD5) of work already done is answered at once with the existing
// MP3, and one of work in flight shares its task: neither sends an arrival.
func TestBlobCreatedIdenticalContent(t *testing.T) {
	sum := md5.Sum([]byte("content A"))
	f := newFixture(t, nil)
	f.blobs.setProps("input", "a.mp4", "0x1", 10, sum[:])
	f.drop(t, "a.mp4", "0x1")
	first := f.record(t, "input", "a.mp4").Current().ID
	f.forward(t)
	task := f.entry(t, "input", "a.mp4", first).TaskID

	f.blobs.setProps("input", "a.mp4", "0x2", 10, sum[:])
	f.drop(t, "a.mp4", "0x2")
	second := f.record(t, "input", "a.mp4").Current()
	if len(f.arrivals.sent) != 0 || second.SharedWith != first || second.TaskID != task || second.State != results.StateSubmitted {
		t.Fatalf("re-upload while in flight: %d arrivals, entry %+v; want it to share task %s", len(f.arrivals.sent), second, task)
	}
	f.succeed(task, f.now(), f.now().Add(time.Second))
	f.sweep(t)
	for _, id := range []string{first, second.ID} {
		if ev := wantAnswer(t, f, id, "", results.StatusSucceeded); ev.Output == nil || ev.Output.Blob != "a.mp3" {
			t.Errorf("request %s: output %+v, want a.mp3", id, ev.Output)
		}
	}

	f.blobs.setProps("input", "a.mp4", "0x3", 10, sum[:])
	f.drop(t, "a.mp4", "0x3")
	third := f.record(t, "input", "a.mp4").Current()
	ev := wantAnswer(t, f, third.ID, "", results.StatusSucceeded)
	if len(f.arrivals.sent) != 0 || ev.Reused == nil || ev.Reused.TaskID != task || ev.Output.Blob != "a.mp3" || ev.TaskID != "" {
		t.Errorf("re-upload after success: %d arrivals, answer %+v; want it answered at once with the MP3 of task %s", len(f.arrivals.sent), ev, task)
	}
	if n := len(f.batch.addedIDs()); n != 1 {
		t.Errorf("%d tasks for three identical uploads, want 1", n)
	}
}
