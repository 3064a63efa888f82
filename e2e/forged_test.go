package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/google/uuid"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestForgedEventsRefused: a local process without the stack's keys
// cannot drive the pipeline through the host stand-in: forged Event Grid
// events (a made-up ETag and size for a file already done, a file never
// uploaded) and admin invocations are answered 401 and change nothing: no
// new status, no new task, no new result event, the MP3 untouched.
func TestForgedEventsRefused(t *testing.T) {
	p := startPipeline(t, nil)
	const blob, unknown = "forged/clip.mp4", "forged/never-uploaded.mp4"
	data := sample(t, "tone2s.mp4")
	etag := p.upload(blob, data)
	if st := p.waitDone(map[string]string{blob: etag})[blob]; st.State != results.StateSucceeded {
		t.Fatalf("state %s (failure %+v), want succeeded", st.State, st.Failure)
	}
	p.waitEvents(map[string]int{blob: 1})
	mp3, tasks := p.outputs()["forged/clip.mp3"], p.taskCount()

	wrongKeys := map[string]string{"no key": "", "a made-up key": "forged", "the host's function key": p.ep.FunctionsKey, "the dashboard key": p.ep.DashboardKey}
	for name, key := range wrongKeys {
		for _, target := range []struct{ function, container, blob string }{
			{"BlobCreated", p.ep.InputContainer, blob},
			{"BlobCreated", p.ep.InputContainer, unknown},
			{"TaskFinished", p.ep.OutputContainer, "forged/clip.mp3"},
		} {
			body := forgedEvent(t, p.ep.BlobEndpoint, target.container, target.blob)
			u := p.ep.FunctionsURL + "/runtime/webhooks/eventgrid?functionName=" + target.function
			if key != "" {
				u += "&code=" + url.QueryEscape(key)
			}
			p.wantStatus(http.MethodPost, u, "", body, http.StatusUnauthorized, "webhook "+target.function+" with "+name)
			admin, _ := json.Marshal(map[string]string{"input": string(body)})
			p.wantStatus(http.MethodPost, p.ep.FunctionsURL+"/admin/functions/"+target.function, key, admin, http.StatusUnauthorized, "admin invoke with "+name)
		}
		p.wantStatus(http.MethodGet, p.ep.FunctionsURL+"/admin/host/status", key, nil, http.StatusUnauthorized, "host status with "+name)
	}
	p.wantStatus(http.MethodGet, p.ep.FunctionsURL+"/admin/host/status", p.ep.FunctionsMasterKey, nil, http.StatusOK, "host status with the master key")

	settle()
	if rec, err := p.status.Get(p.ctx(), p.ep.InputContainer, blob); err != nil || rec.Current() == nil || rec.Current().ETag != etag {
		t.Errorf("status of %s after forged events: %+v, %v; want still etag %s", blob, rec, err, etag)
	}
	if _, err := p.status.Get(p.ctx(), p.ep.InputContainer, unknown); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("status of a never-uploaded blob after a forged event: err %v, want not found", err)
	}
	evs := p.events()
	if len(evs) != 1 {
		t.Errorf("%d result events after forged events, want the 1 real one: %s", len(evs), summarize(evs))
	}
	if got := p.outputs()["forged/clip.mp3"]; got != mp3 {
		t.Errorf("forged/clip.mp3 rewritten after forged events (etag %s -> %s)", mp3, got)
	}
	if n := p.taskCount(); n != tasks {
		t.Errorf("%d tasks after forged events, want the %d before", n, tasks)
	}
}

// publicBatchKey, publicSASKey and publicStorageKey are the emulators'
// and Azurite's built-in development keys, which are public: the stack
// must not accept them.
const (
	publicBatchKey   = "9I9wKQ78HF84MlYcGNCytO34fQfvfE4pnZKEAiQ7yyOdKoFeoghlTipV4jW92nT2bxAXn0JEwvMDMz1k/CB99Q=="
	publicSASKey     = "SAS_KEY_VALUE"
	publicStorageKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// TestEmulatorsClosed: the running stack's Batch emulator refuses a task
// added with a Bearer token or signed with the public development key, its
// Service Bus emulator refuses the public SAS key and Azurite its public
// account key; the stack's own keys (from stack.json) work.
func TestEmulatorsClosed(t *testing.T) {
	p := startPipeline(t, nil)
	task := []byte(`{"id": "forged", "commandLine": "/bin/sh -c id"}`)
	u := p.ep.BatchEndpoint + "/jobs/" + url.PathEscape(p.ep.JobID) + "/tasks?api-version=2024-07-01.20.0"
	for name, authz := range map[string]string{"a made-up token": "Bearer eyJhbGciOiJub25lIn0.e30.", "any string": "Bearer emulator"} {
		req, err := http.NewRequestWithContext(p.ctx(), http.MethodPost, u, bytes.NewReader(task))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json; odata=minimalmetadata")
		req.Header.Set("Authorization", authz)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("add task with %s: %s, want 403", name, resp.Status)
		}
	}
	// PoolExists is a HEAD: the refusal is the status alone.
	var re *azcore.ResponseError
	if ok, err := batchWithKey(t, p.ep, publicBatchKey).PoolExists(p.ctx(), p.ep.PoolID); !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Errorf("Batch with the public development key: %v, %v; want 403", ok, err)
	}
	if _, err := batchWithKey(t, p.ep, p.ep.BatchKey).PoolExists(p.ctx(), p.ep.PoolID); err != nil {
		t.Errorf("Batch with the stack's key: %v", err)
	}
	if n := p.taskCount(); n != 0 {
		t.Errorf("%d tasks after forged adds, want 0", n)
	}

	if err := storageWithKey(p, publicStorageKey); err == nil {
		t.Error("Azurite accepted its public development key")
	}
	if err := storageWithKey(p, connField(p.ep.StorageConnection, "AccountKey")); err != nil {
		t.Errorf("storage with the stack's key: %v", err)
	}

	public := strings.Replace(p.ep.ServiceBus, "SharedAccessKey="+connField(p.ep.ServiceBus, "SharedAccessKey"), "SharedAccessKey="+publicSASKey, 1)
	if public == p.ep.ServiceBus {
		t.Fatalf("the stack's Service Bus key is the public one")
	}
	for name, conn := range map[string]string{"the public key": public, "the stack's key": p.ep.ServiceBus} {
		c, err := azservicebus.NewClientFromConnectionString(conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.NewReceiverForQueue(p.ep.ArrivalsQueue, nil)
		if err == nil {
			_, err = r.PeekMessages(p.ctx(), 1, nil)
		}
		_ = c.Close(p.ctx())
		if wantOK := conn == p.ep.ServiceBus; (err == nil) != wantOK {
			t.Errorf("peek the arrivals queue with %s: %v, want success %v", name, err, wantOK)
		}
	}
}

// storageWithKey lists the input container with the stack's storage
// connection string, its key replaced by key.
func storageWithKey(p *pipeline, key string) error {
	conn := strings.Replace(p.ep.StorageConnection, "AccountKey="+connField(p.ep.StorageConnection, "AccountKey"), "AccountKey="+key, 1)
	c, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		return err
	}
	_, err = c.NewListBlobsFlatPager(p.ep.InputContainer, nil).NextPage(p.ctx())
	return err
}

// batchWithKey is a Batch client for the stack's endpoint and account
// signing with key.
func batchWithKey(t *testing.T, ep localstack.Endpoints, key string) *batch.Client {
	t.Helper()
	cred, err := batch.NewSharedKeyCredential(ep.BatchAccount, key)
	if err != nil {
		t.Fatal(err)
	}
	o := &batch.ClientOptions{}
	o.InsecureAllowCredentialWithHTTP = true
	c, err := batch.NewSharedKeyClient(ep.BatchEndpoint, cred, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forgedEvent is a BlobCreated event with a made-up ETag and size.
func forgedEvent(t *testing.T, blobEndpoint, container, blob string) []byte {
	t.Helper()
	b, err := json.Marshal([]map[string]any{{
		"id": uuid.NewString(), "subject": "/blobServices/default/containers/" + container + "/blobs/" + blob,
		"eventType": "Microsoft.Storage.BlobCreated", "eventTime": time.Now().UTC().Format(time.RFC3339Nano),
		"dataVersion": "", "metadataVersion": "1",
		"data": map[string]any{"api": "PutBlob", "eTag": "0xDEADBEEF", "contentLength": 123456, "blobType": "BlockBlob",
			"url": blobEndpoint + "/" + container + "/" + url.PathEscape(blob)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantStatus sends one request (with key in x-functions-key when set)
// and checks its status.
func (p *pipeline) wantStatus(method, u, key string, body []byte, want int, what string) {
	p.t.Helper()
	req, err := http.NewRequestWithContext(p.ctx(), method, u, bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("aeg-event-type", "Notification")
	if key != "" {
		req.Header.Set("x-functions-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		p.t.Errorf("%s: %s, want %d", what, resp.Status, want)
	}
}
