package e2e

import "testing"

// TestReuploadIdenticalContent: uploading the same bytes again (a new ETag
// but identical content) gives no second task and no second MP3.
func TestReuploadIdenticalContent(t *testing.T) {
	p := startPipeline(t, nil)
	const blob = "same.mp4"
	data := sample(t, "tone2s.mp4")
	etag := p.upload(blob, data)
	p.waitDone(map[string]string{blob: etag})
	p.waitEvents(map[string]int{blob: 1})
	first := p.outputs()["same.mp3"]
	if etag2 := p.upload(blob, data); etag2 == etag {
		t.Fatalf("re-upload kept etag %s; the test needs a new version", etag)
	}
	settle()
	evs := p.waitEvents(map[string]int{blob: 1})[blob]
	if len(evs) != 1 {
		t.Errorf("identical re-upload: %d result events, want 1: %s", len(evs), summarize(evs))
	}
	if got := p.outputs()["same.mp3"]; got != first {
		t.Errorf("identical re-upload wrote the MP3 again (etag %s -> %s)", first, got)
	}
}
