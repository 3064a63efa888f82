package handlers

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestSubmitTasksOutputOwnership: an output belongs to one input blob and
// preset; a request naming an output another pair owns is rejected
// (output_taken) when its MP3 would be promoted, which leaves the output
// as it was and deletes the refused MP3, unless it sets "overwrite", which
// hands the output over.
func TestSubmitTasksOutputOwnership(t *testing.T) {
	tests := []struct {
		name      string
		container string
		blob      string
		extra     string
		wantTask  bool
	}{
		{"another blob", "input", "b.mp4", `,"output":"a.mp3"`, false},
		{"another preset of the same blob", "input", "a.mp4", `,"output":"a.mp3","preset":"mp3-v2-vbr"`, false},
		{"the same blob name in another container", "upstream", "a.mp4", `,"output":"a.mp3"`, false},
		{"a new version of the same blob and preset", "input", "a.mp4", `,"output":"a.mp3","etag":"0x2"`, true},
		{"another blob with overwrite", "input", "b.mp4", `,"output":"a.mp3","overwrite":true`, true},
		{"another preset with overwrite", "input", "a.mp4", `,"output":"a.mp3","preset":"mp3-v2-vbr","overwrite":true`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			transcode(t, f, "input", "a.mp4", message{id: "m-a", body: arrivalJSON("input", "a.mp4", "0x1", "")})
			body := arrivalJSON(tc.container, tc.blob, "0x1", `,"correlation":"c-2"`+tc.extra)
			if strings.Contains(tc.extra, `"etag"`) {
				body = strings.Replace(body, `"etag":"0x1",`, "", 1)
			}
			f.submit(t, message{id: "m-2", body: body})
			added := f.batch.added
			if len(added) != 2 {
				t.Fatalf("tasks %d, want a second", len(added))
			}
			before := f.blobs.blobs["output/a.mp3"]
			f.succeed(added[1].ID, f.now(), f.now().Add(time.Second))
			f.sweep(t)
			if _, ok := f.blobs.blobs["output/"+plan.StagingName(added[1].ID)]; ok {
				t.Errorf("the staged MP3 of task %s was left behind", added[1].ID)
			}
			if !tc.wantTask {
				if got := f.blobs.blobs["output/a.mp3"]; !bytes.Equal(got, before) {
					t.Errorf("a.mp3 = %q, want the owner's %q", got, before)
				}
				ev := wantAnswer(t, f, "m-2", "c-2", results.StatusRejected)
				if ev.Rejection.Reason != reasonOutputTaken || !strings.Contains(ev.Rejection.Message, "input/a.mp4") || ev.File == nil || ev.File.Blob != tc.blob {
					t.Errorf("answer = %+v, rejection %+v", ev, ev.Rejection)
				}
				if e := f.entry(t, tc.container, tc.blob, "m-2"); e.State != results.StateRejected || e.Rejection.Reason != reasonOutputTaken {
					t.Errorf("record = %+v", e)
				}
				if o := f.status.owner("a.mp3"); o.Blob != "a.mp4" || o.Preset != defaultPreset || o.Container != "input" {
					t.Errorf("owner changed to %+v", o)
				}
				return
			}
			if got := f.blobs.blobs["output/a.mp3"]; string(got) != "mp3 of "+added[1].ID {
				t.Errorf("a.mp3 = %q, want task %s's MP3", got, added[1].ID)
			}
			wantAnswer(t, f, "m-2", "c-2", results.StatusSucceeded)
			if !strings.Contains(tc.extra, "overwrite") {
				return
			}
			// The output is handed over: the first owner is now refused.
			if o := f.status.owner("a.mp3"); o.Blob != tc.blob || o.Request != "m-2" {
				t.Errorf("owner after overwrite = %+v", o)
			}
			transcode(t, f, "input", "a.mp4", message{id: "m-3", body: arrivalJSON("input", "a.mp4", "0x9", "")})
			if ev := wantAnswer(t, f, "m-3", "", results.StatusRejected); ev.Rejection.Reason != reasonOutputTaken {
				t.Errorf("the former owner's next version: %+v", ev.Rejection)
			}
		})
	}
}
