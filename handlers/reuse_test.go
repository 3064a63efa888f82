package handlers

import (
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

const md5A = "1B2M2Y8AsgTpgAmY7PhCfg=="

// transcode submits msg, completes its task successfully and sweeps; it
// returns the task id.
func transcode(t *testing.T, f *fixture, container, blob string, msg message) string {
	t.Helper()
	f.submit(t, msg)
	task := f.entry(t, container, blob, msg.id).TaskID
	if task == "" {
		t.Fatalf("request %s got no task", msg.id)
	}
	f.succeed(task, f.now(), f.now().Add(time.Second))
	f.sweep(t)
	return task
}

// TestSubmitTasksReusesDoneWork: a request for work already done (the same
// content, preset and output) is answered at once with the existing MP3
// and adds no task, unless it asks for force.
func TestSubmitTasksReusesDoneWork(t *testing.T) {
	first := message{id: "m-first", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-first","contentMD5":"`+md5A+`"`)}
	tests := []struct {
		name     string
		msg      message
		id       string // the request id ("" means msg.id)
		corr     string
		wantTask bool
	}{
		{"same version, own correlation", message{id: "m-up", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"order-7"`)}, "", "order-7", false},
		{"same version, explicit default preset and output", message{id: "m-up", body: arrivalJSON("input", "a.mp4", "0x1", `,"preset":"mp3-192k-cbr","output":"a.mp3"`)}, "", "", false},
		{"same content, new version", message{id: "m-up", body: arrivalJSON("input", "a.mp4", "0x2", `,"contentMD5":"`+md5A+`","correlation":"order-8"`)}, "", "order-8", false},
		{"named request", message{id: "m-up", body: arrivalJSON("input", "a.mp4", "0x1", `,"request":"order-9-req","correlation":"order-9"`)}, "order-9-req", "order-9", false},
		{"force", message{id: "m-up", body: arrivalJSON("input", "a.mp4", "0x1", `,"force":true,"correlation":"order-7"`)}, "", "order-7", true},
		{"new version without a hash", message{id: "m-up", body: arrivalJSON("input", "a.mp4", "0x2", `,"correlation":"order-7"`)}, "", "order-7", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			firstTask := transcode(t, f, "input", "a.mp4", first)
			firstAnswer := wantAnswer(t, f, "m-first", "c-first", results.StatusSucceeded)
			id := tc.id
			if id == "" {
				id = tc.msg.id
			}
			f.clock.advance(time.Hour)
			f.submit(t, tc.msg)
			ids := f.batch.addedIDs()
			if !tc.wantTask {
				if len(ids) != 1 {
					t.Fatalf("%d tasks in all, want only the first", len(ids))
				}
				ev := wantAnswer(t, f, id, tc.corr, results.StatusSucceeded)
				if ev.Reused == nil || ev.Reused.Request != "m-first" || ev.Reused.TaskID != firstTask || ev.TaskID != "" {
					t.Errorf("reused = %+v, task %q; want m-first's task %s", ev.Reused, ev.TaskID, firstTask)
				}
				if ev.Output == nil || *ev.Output != *firstAnswer.Output || ev.Request.Source != string(request.SourceMessage) {
					t.Errorf("answer output %+v, source %q; want %+v from a message", ev.Output, ev.Request.Source, firstAnswer.Output)
				}
				if e := f.entry(t, "input", "a.mp4", id); e.State != results.StateSucceeded || e.Reused == nil {
					t.Errorf("record = %+v", e)
				}
				return
			}
			if len(ids) != 2 || ids[1] == firstTask {
				t.Fatalf("tasks %v, want a second, new task", ids)
			}
			wantNoAnswer(t, f, id)
			f.succeed(ids[1], f.now(), f.now().Add(time.Second))
			f.sweep(t)
			ev := wantAnswer(t, f, id, tc.corr, results.StatusSucceeded)
			if ev.Reused != nil || ev.TaskID != ids[1] || ev.Output.Blob != "a.mp3" {
				t.Errorf("answer = %+v, want the new task's own MP3", ev)
			}
		})
	}
}

// TestSubmitTasksPresetOutputName: an arrival with another preset and no
// output gets "<base>.<preset>.mp3", never the default preset's MP3, and
// owns that name.
func TestSubmitTasksPresetOutputName(t *testing.T) {
	tests := []struct {
		blob, preset string
		wantOutput   string
	}{
		{"a.mp4", "mp3-v2-vbr", "a.mp3-v2-vbr.mp3"},
		{"shows/ep.1.MP4", "mp3-320k-cbr", "shows/ep.1.mp3-320k-cbr.mp3"},
		{"a.mp4", defaultPreset, "a.mp3"},
	}
	for _, tc := range tests {
		t.Run(tc.blob+"/"+tc.preset, func(t *testing.T) {
			f := newFixture(t, nil)
			defaultOut := map[string]string{"a.mp4": "a.mp3", "shows/ep.1.MP4": "shows/ep.1.mp3"}[tc.blob]
			transcode(t, f, "input", tc.blob, message{id: "m-default", body: arrivalJSON("input", tc.blob, "0x1", "")})
			msg := message{id: "m-preset", body: arrivalJSON("input", tc.blob, "0x1", `,"preset":"`+tc.preset+`"`)}
			f.submit(t, msg)
			if e := f.entry(t, "input", tc.blob, "m-preset"); e.Output != tc.wantOutput {
				t.Errorf("recorded output %q, want %q", e.Output, tc.wantOutput)
			}
			added := f.batch.added
			if tc.preset == defaultPreset {
				if len(added) != 1 {
					t.Errorf("the default preset named explicitly added a task: %d in all", len(added))
				}
				wantAnswer(t, f, "m-preset", "", results.StatusSucceeded)
				return
			}
			if len(added) != 2 {
				t.Fatalf("%d tasks, want 2", len(added))
			}
			if got := f.taskFile(added[1].ID).Output; got != tc.wantOutput {
				t.Errorf("task writes %q, want %q (the default preset's MP3 is %q)", got, tc.wantOutput, defaultOut)
			}
			f.succeed(added[1].ID, f.now(), f.now().Add(time.Second))
			f.sweep(t)
			if o := f.status.owner(tc.wantOutput); o.Blob != tc.blob || o.Preset != tc.preset {
				t.Errorf("owner of %s = %+v", tc.wantOutput, o)
			}
			if o := f.status.owner(defaultOut); o.Preset != defaultPreset {
				t.Errorf("owner of the default MP3 %s changed to %+v", defaultOut, o)
			}
			if ev := wantAnswer(t, f, "m-preset", "", results.StatusSucceeded); ev.Output.Blob != tc.wantOutput || ev.Preset != tc.preset {
				t.Errorf("answer output %s preset %s, want %s %s", ev.Output.Blob, ev.Preset, tc.wantOutput, tc.preset)
			}
		})
	}
}
