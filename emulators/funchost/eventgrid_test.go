package funchost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
)

const eventGridFunction = `{"bindings": [{"name": "event", "type": "eventGridTrigger", "direction": "in"}]}`

// blobEvent is the part of a delivered invocation the tests look at.
type blobEvent struct {
	Data struct {
		Event struct {
			ID      string `json:"id"`
			Subject string `json:"subject"`
			Data    struct {
				API  string `json:"api"`
				ETag string `json:"eTag"`
			} `json:"data"`
		} `json:"event"`
	} `json:"Data"`
}

func deliveredEvents(t *testing.T, a *testApp) []blobEvent {
	t.Helper()
	var out []blobEvent
	for _, r := range a.requests(t, "/OnBlobCreated") {
		var ev blobEvent
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func subjects(evs []blobEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, strings.TrimPrefix(e.Data.Event.Subject, "/blobServices/default/containers/"))
	}
	return out
}

func TestEventGridBlobWatcher(t *testing.T) {
	t.Parallel()
	az := azuritetest.Start(t)
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"input", "poison", "oddnames"} {
		if _, err := client.CreateContainer(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	upload := func(container, name, content string) {
		t.Helper()
		if _, err := client.UploadBuffer(ctx, container, name, []byte(content), nil); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}

	t.Run("delivers once per blob version and survives restarts", func(t *testing.T) {
		a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction}, map[string]string{
			"InputStorage":             az.ConnectionString,
			"FUNCHOST_EVENTGRID_BLOBS": "OnBlobCreated=InputStorage:input",
		})
		opts := testOptions(a, newLogCapture())
		opts.Now = fixedClock(testNow)
		h, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Start(ctx); err != nil {
			t.Fatal(err)
		}
		upload("input", "a.mp4", "first version")
		waitFor(t, "the BlobCreated event for a.mp4", 5*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) == 1 })
		checkGolden(t, "eventgrid_blob_created", a.requests(t, "/OnBlobCreated")[0].Body)

		// A block list upload, and a blob with only uncommitted blocks.
		bb := client.ServiceClient().NewContainerClient("input").NewBlockBlobClient("big.mp4")
		id := base64.StdEncoding.EncodeToString([]byte("block-0001"))
		if _, err := bb.StageBlock(ctx, id, streamOf("block data"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := bb.CommitBlockList(ctx, []string{id}, nil); err != nil {
			t.Fatal(err)
		}
		pending := client.ServiceClient().NewContainerClient("input").NewBlockBlobClient("pending.mp4")
		if _, err := pending.StageBlock(ctx, id, streamOf("never committed"), nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the event for big.mp4", 5*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) == 2 })
		evs := deliveredEvents(t, a)
		if got := evs[1].Data.Event.Data.API; got != "PutBlockList" {
			t.Errorf("big.mp4 api = %q, want PutBlockList", got)
		}
		if got := evs[0].Data.Event.Data.API; got != "PutBlob" {
			t.Errorf("a.mp4 api = %q, want PutBlob", got)
		}

		// A new version of a.mp4 is a new event; nothing else repeats.
		upload("input", "a.mp4", "second version")
		waitFor(t, "the event for the new version of a.mp4", 5*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) == 3 })
		time.Sleep(5 * opts.BlobPollInterval)
		evs = deliveredEvents(t, a)
		if got, want := subjects(evs), []string{"input/blobs/a.mp4", "input/blobs/big.mp4", "input/blobs/a.mp4"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		if evs[0].Data.Event.Data.ETag == evs[2].Data.Event.Data.ETag {
			t.Errorf("both versions of a.mp4 carry ETag %s", evs[0].Data.Event.Data.ETag)
		}

		// Restart: nothing is replayed, new blobs still arrive once.
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := h.Close(closeCtx); err != nil {
			t.Fatal(err)
		}
		startHost(t, opts)
		time.Sleep(5 * opts.BlobPollInterval)
		if n := len(a.requests(t, "/OnBlobCreated")); n != 3 {
			t.Fatalf("after a restart %d events were delivered, want still 3 (no replay)", n)
		}
		upload("input", "c.mp4", "after restart")
		waitFor(t, "the event for c.mp4", 5*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) == 4 })
		time.Sleep(5 * opts.BlobPollInterval)
		if got := subjects(deliveredEvents(t, a)); len(got) != 4 || got[3] != "input/blobs/c.mp4" {
			t.Errorf("delivered %q, want c.mp4 once at the end", got)
		}
	})

	t.Run("a missing container is reported once and picked up when created", func(t *testing.T) {
		a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction}, map[string]string{
			"AzureWebJobsStorage": az.ConnectionString,
		})
		logs := newLogCapture()
		opts := testOptions(a, logs)
		opts.EventGridBlobSources = []EventGridBlobSource{{Function: "OnBlobCreated", Container: "later"}}
		startHost(t, opts)
		waitFor(t, "the listing error", 5*time.Second, func() bool { return len(logs.find("list blobs failed")) > 0 })
		time.Sleep(6 * opts.BlobPollInterval)
		if got := logs.find("list blobs failed", "ContainerNotFound"); len(got) != 1 {
			t.Errorf("%d 'list blobs failed' lines, want exactly 1; logs:\n%s", len(got), logs.dump())
		}
		if _, err := client.CreateContainer(ctx, "later", nil); err != nil {
			t.Fatal(err)
		}
		upload("later", "x.mp4", "x")
		waitFor(t, "the event from the new container", 5*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) == 1 })
		if n := len(logs.find("list blobs recovered")); n != 1 {
			t.Errorf("%d recovery lines, want 1; logs:\n%s", n, logs.dump())
		}
	})

	t.Run("the subscription's subject filters leave other blobs out", func(t *testing.T) {
		if _, err := client.CreateContainer(ctx, "filtered", nil); err != nil {
			t.Fatal(err)
		}
		a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction}, map[string]string{
			"AzureWebJobsStorage":      az.ConnectionString,
			"LOGS":                     "logs/",
			"FUNCHOST_EVENTGRID_BLOBS": "OnBlobCreated=filtered/%LOGS%*/stderr.txt",
		})
		opts := testOptions(a, newLogCapture())
		startHost(t, opts)
		for _, n := range []string{"a.mp3", "logs/t-1/stdout.txt", "logs/t-1/stderr.txt", "other/t-2/stderr.txt", "logs/t-3/stderr.txt.bak", "logs/t-3/stderr.txt"} {
			upload("filtered", n, "x")
		}
		waitFor(t, "the events of the two matching blobs", 5*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) >= 2 })
		time.Sleep(5 * opts.BlobPollInterval)
		got := subjects(deliveredEvents(t, a))
		slices.Sort(got)
		want := []string{"filtered/blobs/logs/t-1/stderr.txt", "filtered/blobs/logs/t-3/stderr.txt"}
		if !slices.Equal(got, want) {
			t.Errorf("delivered %q, want only the blobs the filters let through: %q", got, want)
		}
	})

	t.Run("a blob whose name cannot be listed is skipped and reported once", func(t *testing.T) {
		a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction}, map[string]string{
			"AzureWebJobsStorage":      az.ConnectionString,
			"FUNCHOST_EVENTGRID_BLOBS": "OnBlobCreated=oddnames",
		})
		logs := newLogCapture()
		opts := testOptions(a, logs)
		startHost(t, opts)
		// Azurite answers List Blobs with 500 once these are in the page.
		for _, n := range []string{"a.mp4", "odd\x01name.mp4", "odd\x1b[31mred.mp4", "z.mp4"} {
			upload("oddnames", n, "x")
		}
		waitFor(t, "the events of the listable blobs", 30*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) >= 2 })
		upload("oddnames", "later.mp4", "x")
		waitFor(t, "the event of a blob uploaded after them", 30*time.Second, func() bool { return len(a.requests(t, "/OnBlobCreated")) >= 3 })
		time.Sleep(5 * opts.BlobPollInterval)
		got := subjects(deliveredEvents(t, a))
		slices.Sort(got)
		want := []string{"oddnames/blobs/a.mp4", "oddnames/blobs/later.mp4", "oddnames/blobs/z.mp4"}
		if !slices.Equal(got, want) {
			t.Errorf("delivered %q, want each listable blob once: %q", got, want)
		}
		if got := logs.find("cannot be listed", `blob_prefix="odd"`); len(got) != 1 {
			t.Errorf("%d log lines report the names starting odd, want 1; logs:\n%s", len(got), logs.dump())
		}
	})

	t.Run("failed deliveries are retried then recorded as poison", func(t *testing.T) {
		a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction}, map[string]string{
			"AzureWebJobsStorage":      az.ConnectionString,
			"FUNCHOST_EVENTGRID_BLOBS": "OnBlobCreated=poison",
		})
		a.setConfig(t, `{"status": {"OnBlobCreated": 500}}`)
		logs := newLogCapture()
		opts := testOptions(a, logs)
		opts.EventGridMaxAttempts = 3
		startHost(t, opts)
		upload("poison", "bad.mp4", "x")
		poisonFile := filepath.Join(a.state, "eventgrid", "poison.jsonl")
		waitFor(t, "the poison record", 5*time.Second, func() bool { _, err := os.Stat(poisonFile); return err == nil })
		time.Sleep(5 * opts.BlobPollInterval)
		if n := len(a.requests(t, "/OnBlobCreated")); n != 3 {
			t.Errorf("%d delivery attempts, want EventGridMaxAttempts = 3", n)
		}
		raw, err := os.ReadFile(poisonFile)
		if err != nil {
			t.Fatal(err)
		}
		var recs []poisonRecord
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			var r poisonRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		if len(recs) != 1 || recs[0].Attempts != 3 || recs[0].Function != "OnBlobCreated" || !strings.Contains(recs[0].LastError, "500") ||
			recs[0].Event["subject"] != "/blobServices/default/containers/poison/blobs/bad.mp4" {
			t.Errorf("poison records = %+v", recs)
		}
		waitFor(t, "the poison log line", 5*time.Second, func() bool { return len(logs.find("recorded as poison", "bad.mp4")) > 0 })
	})
}

func streamOf(s string) *readSeekCloser { return &readSeekCloser{bytes.NewReader([]byte(s))} }

type readSeekCloser struct{ *bytes.Reader }

func (readSeekCloser) Close() error { return nil }

func TestEventGridWebhook(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction, "Failing": eventGridFunction, "Tick": timerFunction}, nil)
	a.setConfig(t, `{"body": {"OnBlobCreated": "{}"}, "status": {"Failing": 500}}`)
	opts := testOptions(a, newLogCapture())
	opts.Now = fixedClock(testNow)
	h := startHost(t, opts)
	event := `[{"id": "831e1650-001e-001b-66ab-eeb76e069631", "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
	  "subject": "/blobServices/default/containers/input/blobs/a.mp4", "eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-11-27T12:00:00.1234567Z",
	  "data": {"api": "PutBlob", "eTag": "0x8D4BCC2E4835CD0", "contentLength": 524288, "blobType": "BlockBlob", "url": "https://acct.blob.core.windows.net/input/a.mp4"},
	  "dataVersion": "", "metadataVersion": "1"}]`
	tests := []struct {
		name   string
		query  string
		typ    string
		body   string
		status int
		want   string
	}{
		{name: "notification", query: "functionName=OnBlobCreated", typ: "Notification", body: event, status: http.StatusAccepted},
		{name: "validation handshake", query: "functionName=OnBlobCreated", typ: "SubscriptionValidation", body: `[{"data": {"validationCode": "abc"}}]`, status: http.StatusOK, want: `{"validationResponse":"abc"}`},
		{name: "missing event type", query: "functionName=OnBlobCreated", body: event, status: http.StatusBadRequest},
		{name: "failed invocation", query: "functionName=Failing", typ: "Notification", body: event, status: http.StatusInternalServerError},
		{name: "unsubscribe", query: "functionName=OnBlobCreated", typ: "Unsubscribe", body: event, status: http.StatusAccepted},
		{name: "unknown function", query: "functionName=Nope", typ: "Notification", body: event, status: http.StatusNotFound, want: "cannot find function: 'Nope'\n"},
		{name: "not an event grid function", query: "functionName=Tick", typ: "Notification", body: event, status: http.StatusNotFound},
		{name: "body not JSON", query: "functionName=OnBlobCreated", typ: "Notification", body: `nope`, status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "http://"+h.Addr()+"/runtime/webhooks/eventgrid?code="+h.Keys().System[EventGridKeyName]+"&"+tt.query, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.typ != "" {
				req.Header.Set("aeg-event-type", tt.typ)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.status, buf.String())
			}
			if tt.want != "" && buf.String() != tt.want {
				t.Errorf("body = %s, want %s", buf.String(), tt.want)
			}
		})
	}
	reqs := a.requests(t, "/OnBlobCreated")
	if len(reqs) != 1 {
		t.Fatalf("%d invocations, want 1", len(reqs))
	}
	checkGolden(t, "eventgrid_webhook", reqs[0].Body)
}

// Deliveries are recorded in memory and written together: many deliveries
// cost at most one write per stateFlushEvery. A kill before the write
// forgets them (they are delivered again: at-least-once); a flush keeps
// them across a restart.
func TestEventGridStateCoalescesWrites(t *testing.T) {
	dir := t.TempDir()
	s, err := loadEventGridState(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 1000 {
		if err := s.markDelivered(fmt.Sprintf("fn/c/blob-%d", i), "etag"); err != nil {
			t.Fatal(err)
		}
		if err := s.flush(now, false); err != nil { // a scan ending in the same second
			t.Fatal(err)
		}
	}
	if s.writes != 1 {
		t.Fatalf("1000 deliveries in one interval wrote the state file %d times, want 1", s.writes)
	}
	if err := s.markDelivered("fn/c/late", "etag"); err != nil {
		t.Fatal(err)
	}
	// Killed now: a restart has the first write (the first delivery), not
	// the later ones.
	killed, err := loadEventGridState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !killed.settled("fn/c/blob-0", "etag") || killed.settled("fn/c/blob-999", "etag") || killed.settled("fn/c/late", "etag") {
		t.Fatal("after a kill: want the written deliveries settled and the late one delivered again")
	}
	if err := s.flush(now.Add(stateFlushEvery), false); err != nil {
		t.Fatal(err)
	}
	restarted, err := loadEventGridState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.writes != 2 || !restarted.settled("fn/c/late", "etag") || !restarted.settled("fn/c/blob-999", "etag") {
		t.Fatalf("after the next interval's flush (%d writes): want the late delivery settled", s.writes)
	}
}
