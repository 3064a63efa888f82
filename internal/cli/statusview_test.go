package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// seededFiles is how many status records the status tests seed: more
// than defaultLimit.
const seededFiles = defaultLimit + 30

func seededName(i int) string { return fmt.Sprintf("shows/%03d.mp4", i) }

// seedStatus records seededFiles requests, every 4th rejected and the
// rest submitted, and 30 answers in the activity summary.
func seedStatus(t *testing.T, c *clients) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	var answered []lifecycle.Entry
	for i := range seededFiles {
		name := seededName(i)
		r := request.Request{ID: fmt.Sprint("r-", i), Version: request.Version{Container: "input", Blob: name, ETag: "0x1", Size: 3},
			Preset: "mp3-192k-cbr", Output: strings.TrimSuffix(name, ".mp4") + ".mp3", Source: request.SourceMessage}
		if _, err := c.store().Update(ctx, "input", name, func(rec *lifecycle.Record) lifecycle.Change {
			if i%4 == 0 {
				return rec.Refuse(r, results.StateRejected, &results.Rejection{Reason: "too-big", Message: "too big"}, now)
			}
			return rec.Submit(r, now)
		}); err != nil {
			t.Fatal(err)
		}
		if len(answered) < 30 {
			answered = append(answered, lifecycle.Entry{Request: r, State: results.StateSucceeded, AnsweredAt: now})
		}
	}
	if err := c.store().RecordActivity(ctx, answered); err != nil {
		t.Fatal(err)
	}
}

// fileLines counts the lines of out that name a seeded file.
func fileLines(out string) int {
	return len(regexp.MustCompile(`(?m)^  \S+ +shows/\d{3}\.mp4 `).FindAllString(out, -1))
}

// Without names, status lists a bounded page (the Status API's: the first
// --limit files by name, and the recent answers) and says what it left
// out and how to see it; --all lists every file; --state reads every row
// to select but lists at most --limit files and counts the rest.
func TestStatusIsBoundedWithoutNames(t *testing.T) {
	c := azuriteClients(t)
	seedStatus(t, c)
	run := func(t *testing.T, opts statusOptions) string {
		t.Helper()
		var out bytes.Buffer
		if err := runStatus(context.Background(), &env{stdout: &out, stderr: &out}, c, opts); err != nil {
			t.Fatalf("status: %v\n%s", err, out.String())
		}
		return out.String()
	}
	t.Run("default", func(t *testing.T) {
		out := run(t, statusOptions{limit: defaultLimit})
		if got := fileLines(out); got != defaultLimit {
			t.Errorf("%d file lines, want %d (the first page):\n%s", got, defaultLimit, out)
		}
		for _, want := range []string{
			"last 60 min: 30 answered (30 succeeded",
			"Most recent answers, newest first:",
			fmt.Sprintf("Not shown: the files after the first %d by name and %d older answer(s) of the last 60 min.", defaultLimit, 30-lifecycle.RecentAnswers),
			"--all lists every file, --state STATE or --since DURATION narrows the list",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, seededName(seededFiles-1)) {
			t.Errorf("the last file by name is listed; the page should end before it:\n%s", out)
		}
	})
	t.Run("all", func(t *testing.T) {
		out := run(t, statusOptions{limit: defaultLimit, all: true})
		if got := fileLines(out); got != seededFiles {
			t.Errorf("%d file lines, want every file (%d):\n%s", got, seededFiles, out)
		}
		if want := fmt.Sprintf("0/%d done", seededFiles); !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
		if strings.Contains(out, "not shown") || strings.Contains(out, "Not shown") {
			t.Errorf("--all says files were left out:\n%s", out)
		}
	})
	t.Run("state", func(t *testing.T) {
		var sel selection
		sel.states = stateList{results.StateSubmitted}
		out := run(t, statusOptions{sel: sel, limit: 10})
		submitted := seededFiles - (seededFiles+3)/4
		if got := fileLines(out); got != 10 {
			t.Errorf("%d file lines, want 10:\n%s", got, out)
		}
		if want := fmt.Sprintf("… %d more file(s) not shown", submitted-10); !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	})
	t.Run("json", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			all      bool
			rows     int
			wantNext bool
		}{
			{"default", false, defaultLimit, true},
			{"all", true, seededFiles, false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var p statusapi.Page
				if err := json.Unmarshal([]byte(run(t, statusOptions{limit: defaultLimit, all: tt.all, asJSON: true})), &p); err != nil {
					t.Fatal(err)
				}
				if len(p.Rows) != tt.rows || (p.Next != "") != tt.wantNext {
					t.Errorf("page of %d rows, next %q; want %d rows, next given %v", len(p.Rows), p.Next, tt.rows, tt.wantNext)
				}
			})
		}
	})
}

// A view limited to n files lists the files in flight first, then the
// finished ones newest first, and still counts every file.
func TestRenderLimit(t *testing.T) {
	now := time.Now()
	files := []fileView{
		{Blob: "a.mp4", State: results.StateRejected, OutputSize: -1, Since: now.Add(-3 * time.Minute)},
		{Blob: "b.mp4", State: results.StateFailed, OutputSize: -1, Since: now.Add(-1 * time.Minute)},
		{Blob: "c.mp4", State: results.StateRunning, OutputSize: -1, Since: now.Add(-5 * time.Minute)},
		{Blob: "d.mp4", State: results.StateSucceeded, OutputBlob: "d.mp3", OutputSize: 5, Since: now.Add(-2 * time.Minute)},
	}
	var got []string
	for _, f := range shownFiles(files, 3) {
		got = append(got, f.Blob)
	}
	if want := "c.mp4 b.mp4 d.mp4"; strings.Join(got, " ") != want {
		t.Errorf("shown %v, want %s", got, want)
	}
	var b bytes.Buffer
	lines := render(&b, snapshot{Files: files, Queue: -1, Nodes: -1}, 0, "pool", false, 3)
	out := b.String()
	for _, want := range []string{"3/4 done", "… 1 more file(s) not shown (--limit 3", "--all lists every file"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "a.mp4") {
		t.Errorf("the oldest finished file is listed:\n%s", out)
	}
	if lines != strings.Count(out, "\n") {
		t.Errorf("render returned %d lines, wrote %d", lines, strings.Count(out, "\n"))
	}
	b.Reset()
	render(&b, snapshot{Files: files, Queue: -1, Nodes: -1}, 0, "pool", false, 0)
	if strings.Contains(b.String(), "not shown") || !strings.Contains(b.String(), "a.mp4") {
		t.Errorf("limit 0 should list every file:\n%s", b.String())
	}
}

// watch's block on a terminal, limited, draws at most limit file lines
// however many files there are, and its bar still counts every file.
func TestLiveViewLimitOnTTY(t *testing.T) {
	var files []fileView
	for i := range 500 {
		files = append(files, fileView{Blob: seededName(i), State: results.StateSucceeded, OutputBlob: "x.mp3", OutputSize: 1})
	}
	files[7].State, files[7].OutputSize = results.StateRunning, -1
	var b bytes.Buffer
	v := &liveView{w: &b, tty: true, limit: 5}
	v.show(snapshot{Files: files, Queue: -1, Nodes: -1}, time.Second)
	out := b.String()
	if got := fileLines(out); got != 5 {
		t.Errorf("%d file lines, want 5:\n%s", got, out)
	}
	for _, want := range []string{"499/500 done", "running    " + seededName(7), "… 495 more file(s) not shown"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
