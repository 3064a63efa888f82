package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ffbatch/ffbatch/internal/results"
)

// deliverBlobCreated posts one Event Grid BlobCreated event for blob to
// the host's Event Grid webhook, as Event Grid does when it redelivers.
func (p *pipeline) deliverBlobCreated(id, blob, etag string, size int) {
	p.t.Helper()
	p.deliverEvent("BlobCreated", p.ep.InputContainer, id, blob, etag, size)
}

// deliverEvent posts one Event Grid BlobCreated event for container/blob
// to function through the host's Event Grid webhook.
func (p *pipeline) deliverEvent(function, container, id, blob, etag string, size int) {
	p.t.Helper()
	body := p.blobCreatedEvents(container, id, blob, etag, size)
	req, err := http.NewRequestWithContext(p.ctx(), http.MethodPost, p.ep.EventGridWebhookURL(function), bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("aeg-event-type", "Notification")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Errorf("deliver %s: %v", function, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		p.t.Errorf("deliver %s: %s", function, resp.Status)
	}
}

// blobCreatedEvents is the Event Grid delivery (a JSON array) of one
// BlobCreated event for container/blob.
func (p *pipeline) blobCreatedEvents(container, id, blob, etag string, size int) []byte {
	p.t.Helper()
	ev := []map[string]any{{
		"id":              id,
		"topic":           "/subscriptions/local/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
		"subject":         "/blobServices/default/containers/" + container + "/blobs/" + blob,
		"eventType":       "Microsoft.Storage.BlobCreated",
		"eventTime":       time.Now().UTC().Format(time.RFC3339Nano),
		"dataVersion":     "",
		"metadataVersion": "1",
		"data": map[string]any{
			"api": "PutBlob", "eTag": etag, "contentLength": size, "blobType": "BlockBlob",
			"url": p.ep.BlobEndpoint + "/" + container + "/" + url.PathEscape(blob),
		},
	}}
	body, err := json.Marshal(ev)
	if err != nil {
		p.t.Fatal(err)
	}
	return body
}

// settle waits long enough for any duplicate work to show: several sweeps
// and a task run.
func settle() { time.Sleep(4 * time.Second) }

// TestDuplicates: the same blob event delivered three times (on top of the
// watcher's own delivery) and the same arrival message sent three times
// give one task and one MP3; a re-upload with new content gives a new MP3.
func TestDuplicates(t *testing.T) {
	p := startPipeline(t, nil)
	const blob = "dup/clip.mp4"
	data := sample(t, "tone2s.mp4")
	etag := p.upload(blob, data)
	id := uuid.NewString()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); p.deliverBlobCreated(id, blob, etag, len(data)) }()
	}
	wg.Wait()
	for range 3 {
		p.sendArrival(blob, etag, len(data))
	}
	st := p.waitDone(map[string]string{blob: etag})[blob]
	if st.State != results.StateSucceeded {
		t.Fatalf("state %s (failure %+v), want succeeded", st.State, st.Failure)
	}
	p.waitEvents(map[string]int{blob: 1})
	first := p.outputs()["dup/clip.mp3"]
	if first == "" {
		t.Fatalf("dup/clip.mp3 missing from the output container")
	}
	// Late duplicates, after the task was reported and deleted.
	p.deliverBlobCreated(id, blob, etag, len(data))
	p.sendArrival(blob, etag, len(data))
	settle()
	evs := p.waitEvents(map[string]int{blob: 1})[blob]
	if len(evs) != 1 {
		t.Errorf("%d result events for one version delivered 8 times, want 1: %+v", len(evs), evs)
	}
	if got := p.outputs()["dup/clip.mp3"]; got != first {
		t.Errorf("the MP3 was written again by a duplicate (etag %s -> %s)", first, got)
	}

	// New content: a new version, a new MP3.
	etag2 := p.upload(blob, sample(t, "tone3s.mp4"))
	if etag2 == etag {
		t.Fatalf("re-upload kept etag %s", etag)
	}
	st = p.waitDone(map[string]string{blob: etag2})[blob]
	if st.State != results.StateSucceeded {
		t.Fatalf("new version: state %s (failure %+v), want succeeded", st.State, st.Failure)
	}
	evs = p.waitEvents(map[string]int{blob: 2})[blob]
	if len(evs) != 2 || evs[1].File.ETag != etag2 {
		t.Errorf("after new content: events %s, want 2 with the second for etag %s", summarize(evs), etag2)
	}
	if got := p.outputs()["dup/clip.mp3"]; got == first {
		t.Errorf("new content did not produce a new MP3")
	}
	p.checkMP3("dup/clip.mp3", 3*time.Second)
}

func summarize(evs []results.Event) string {
	var b bytes.Buffer
	for _, ev := range evs {
		etag := ""
		if ev.File != nil {
			etag = ev.File.ETag
		}
		fmt.Fprintf(&b, "[%s etag=%s task=%s] ", ev.Status, etag, ev.TaskID)
	}
	return b.String()
}
