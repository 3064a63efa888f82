package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// answer is one result event with the CorrelationId of its message.
type answer struct {
	results.Event
	CorrelationID string
}

// answers peeks every result event and groups them by request id.
func (p *pipeline) answers() map[string][]answer {
	p.t.Helper()
	got, err := localstack.PeekResults(p.ctx(), p.sb, p.ep, "all", 100000)
	if err != nil {
		p.t.Fatalf("peek results: %v", err)
	}
	by := map[string][]answer{}
	for i, ev := range got.Events {
		id := "(no request)"
		if ev.Request != nil {
			id = ev.Request.ID
		}
		by[id] = append(by[id], answer{Event: ev, CorrelationID: got.CorrelationIDs[i]})
	}
	return by
}

// waitAnswer waits until request id has an answer and returns it.
func (p *pipeline) waitAnswer(id string) answer {
	p.t.Helper()
	ctx := p.ctx()
	for {
		if as := p.answers()[id]; len(as) > 0 {
			return as[0]
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("request %s was never answered", id)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// send sends an arrival body built from fields with message id id.
func (p *pipeline) send(id string, fields map[string]any) {
	p.t.Helper()
	body, err := json.Marshal(fields)
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(body, id)
}

// checkOneAnswerEach fails for every request with more than one answer,
// after waiting for any late duplicate.
func (p *pipeline) checkOneAnswerEach() {
	p.t.Helper()
	settle()
	by := p.answers()
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if n := len(by[id]); n != 1 {
			evs := make([]results.Event, n)
			for i, a := range by[id] {
				evs[i] = a.Event
			}
			p.t.Errorf("request %s: %d answers, want exactly 1: %s", id, n, summarize(evs))
		}
	}
}

// wantAnswer checks an answer's status, correlation (in the body and as
// the CorrelationId), and, for a rejection or an ignored drop, reason.
func wantAnswer(t *testing.T, a answer, status results.Status, correlation, reason string) {
	t.Helper()
	if a.Status != status {
		t.Errorf("request %s: %s (failure %+v, rejection %+v), want %s", a.Request.ID, a.Status, a.Failure, a.Rejection, status)
	}
	if a.Request.Correlation != correlation || a.CorrelationID != correlation {
		t.Errorf("request %s: correlation %q in the body and %q as CorrelationId, want %q in both", a.Request.ID, a.Request.Correlation, a.CorrelationID, correlation)
	}
	if reason != "" && (a.Rejection == nil || a.Rejection.Reason != reason) {
		t.Errorf("request %s: rejection %+v, want reason %s", a.Request.ID, a.Rejection, reason)
	}
}

// TestOneAnswerPerRequest: every request (a drop, an upstream message, a
// repeat of either) gets exactly one result event carrying its
// correlation, and no request overwrites an MP3 it does not own.
func TestOneAnswerPerRequest(t *testing.T) {
	p := startPipeline(t, map[string]string{"FFBATCH_UPSTREAM_CONTAINERS": "upstream"})
	data := sample(t, "tone2s.mp4")
	in := p.ep.InputContainer
	etagA := p.upload("r/a.mp4", data)
	p.waitDone(map[string]string{"r/a.mp4": etagA})
	mp3A := p.outputs()["r/a.mp3"]
	arrivalOf := func(blob, etag string, extra map[string]any) map[string]any {
		f := map[string]any{"container": in, "blob": blob, "etag": etag, "size": len(data)}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}

	t.Run("already transcoded: reused, or transcoded again with force", func(t *testing.T) {
		p.send("up-reuse", arrivalOf("r/a.mp4", etagA, map[string]any{"correlation": "order-1"}))
		a := p.waitAnswer("up-reuse")
		wantAnswer(t, a, results.StatusSucceeded, "order-1", "")
		if a.Reused == nil || a.Output == nil || a.Output.Blob != "r/a.mp3" {
			t.Errorf("answer %+v: want the existing r/a.mp3, reused", a.Event)
		}
		if got := p.outputs()["r/a.mp3"]; got != mp3A {
			t.Errorf("a reused answer rewrote r/a.mp3")
		}
		p.send("up-force", arrivalOf("r/a.mp4", etagA, map[string]any{"correlation": "order-2", "force": true}))
		a = p.waitAnswer("up-force")
		wantAnswer(t, a, results.StatusSucceeded, "order-2", "")
		if a.Reused != nil || a.TaskID == "" {
			t.Errorf("forced request answered %+v: want a new transcode", a.Event)
		}
	})

	t.Run("another preset without output gets its own name", func(t *testing.T) {
		before := p.outputs()["r/a.mp3"]
		p.send("up-preset", arrivalOf("r/a.mp4", etagA, map[string]any{"preset": "mp3-v5-vbr", "correlation": "order-3"}))
		a := p.waitAnswer("up-preset")
		wantAnswer(t, a, results.StatusSucceeded, "order-3", "")
		if a.Output == nil || a.Output.Blob != "r/a.mp3-v5-vbr.mp3" {
			t.Errorf("output %+v, want r/a.mp3-v5-vbr.mp3", a.Output)
		}
		if got := p.outputs()["r/a.mp3"]; got != before {
			t.Errorf("the mp3-v5-vbr request overwrote the default preset's r/a.mp3")
		}
	})

	t.Run("identical requests racing share one task", func(t *testing.T) {
		etag := p.upload("r/b.mp4", data)
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.send(fmt.Sprint("up-race-", i), arrivalOf("r/b.mp4", etag, map[string]any{"correlation": fmt.Sprint("race-", i)}))
			}()
		}
		wg.Wait()
		drop := request.DefaultID(request.Version{Container: in, Blob: "r/b.mp4", ETag: etag}, "", "", "", false, false)
		tasks := map[string]bool{}
		for i, id := range []string{drop, "up-race-0", "up-race-1", "up-race-2"} {
			a := p.waitAnswer(id)
			corr := ""
			if i > 0 {
				corr = fmt.Sprint("race-", i-1)
			}
			wantAnswer(t, a, results.StatusSucceeded, corr, "")
			if a.Reused == nil {
				tasks[a.TaskID] = true
			}
		}
		if len(tasks) != 1 {
			t.Errorf("4 identical requests ran %d tasks (%v), want 1", len(tasks), tasks)
		}
	})

	t.Run("an output owned by another input is refused unless overwrite", func(t *testing.T) {
		etag := p.upload("r/c.mp4", data)
		p.waitDone(map[string]string{"r/c.mp4": etag})
		before := p.outputs()["r/a.mp3"]
		p.send("up-steal", arrivalOf("r/c.mp4", etag, map[string]any{"output": "r/a.mp3", "correlation": "order-4"}))
		wantAnswer(t, p.waitAnswer("up-steal"), results.StatusRejected, "order-4", "output_taken")
		if got := p.outputs()["r/a.mp3"]; got != before {
			t.Errorf("a refused request wrote r/a.mp3")
		}
		p.send("up-overwrite", arrivalOf("r/c.mp4", etag, map[string]any{"output": "r/a.mp3", "overwrite": true, "correlation": "order-5"}))
		a := p.waitAnswer("up-overwrite")
		wantAnswer(t, a, results.StatusSucceeded, "order-5", "")
		if a.Output == nil || a.Output.Blob != "r/a.mp3" {
			t.Errorf("output %+v, want r/a.mp3", a.Output)
		}
	})

	t.Run("two inputs differing in case do not share an MP3", func(t *testing.T) {
		etags := map[string]string{"coll/song.mp4": p.upload("coll/song.mp4", data)}
		p.waitDone(etags)
		etags["coll/song.MP4"] = p.upload("coll/song.MP4", data)
		done := p.waitDone(etags)
		if st := done["coll/song.MP4"]; st.State != results.StateRejected || st.Rejection.Reason != "output_taken" {
			t.Errorf("coll/song.MP4 ended %s (%+v), want rejected: output_taken (coll/song.mp3 belongs to coll/song.mp4)", st.State, st.Rejection)
		}
	})

	t.Run("a drop that is not an MP4 is ignored, with a reason", func(t *testing.T) {
		etag := p.upload("r/notes.txt", []byte("not a video"))
		done := p.waitDone(map[string]string{"r/notes.txt": etag})
		if st := done["r/notes.txt"]; st.State != results.StateIgnored || st.Rejection == nil || !strings.Contains(st.Rejection.Message, ".mp4") {
			t.Errorf("r/notes.txt: %s %+v, want ignored with a reason", st.State, st.Rejection)
		}
		drop := request.DefaultID(request.Version{Container: in, Blob: "r/notes.txt", ETag: etag}, "", "", "", false, false)
		wantAnswer(t, p.waitAnswer(drop), results.StatusIgnored, "", "unsupported_extension")
	})

	t.Run("containers: only the input and upstream ones", func(t *testing.T) {
		p.send("up-other", map[string]any{"container": "elsewhere", "blob": "x.mp4", "etag": "0x1", "size": 5, "correlation": "order-6"})
		wantAnswer(t, p.waitAnswer("up-other"), results.StatusRejected, "order-6", "container_not_allowed")
		if _, err := p.blobs.CreateContainer(p.ctx(), "upstream", nil); err != nil {
			t.Fatal(err)
		}
		resp, err := p.blobs.UploadBuffer(p.ctx(), "upstream", "u.mp4", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		etag := strings.Trim(string(*resp.ETag), `"`)
		p.send("up-upstream", map[string]any{"container": "upstream", "blob": "u.mp4", "etag": etag, "size": len(data), "correlation": "order-7"})
		a := p.waitAnswer("up-upstream")
		wantAnswer(t, a, results.StatusSucceeded, "order-7", "")
		if a.Output == nil || a.Output.Blob != "u.mp3" {
			t.Errorf("output %+v, want u.mp3", a.Output)
		}
	})

	t.Run("a redelivered message is one request", func(t *testing.T) {
		etag := p.upload("r/d.mp4", data)
		for range 3 {
			p.send("up-repeat", arrivalOf("r/d.mp4", etag, map[string]any{"correlation": "order-8"}))
		}
		wantAnswer(t, p.waitAnswer("up-repeat"), results.StatusSucceeded, "order-8", "")
	})

	p.checkOneAnswerEach()
	for _, a := range p.answers()["up-upstream"] {
		if a.File == nil || a.File.Container != "upstream" {
			t.Errorf("upstream answer names %+v", a.File)
		}
	}
	for id, as := range p.answers() {
		if id != "up-upstream" && as[0].File != nil && as[0].File.Container == "upstream" {
			t.Errorf("request %s transcoded the upstream blob too: the automatic path must not", id)
		}
	}
}
