package handlers_test

// Integration: each function invoked over HTTP, with payloads shaped like
// the Functions host's, against Azurite, the Batch emulator and the Service
// Bus emulator running in-process. This file is test-only, so importing
// the emulators does not break the import rules for production code.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
	"github.com/ffbatch/ffbatch/emulators/sbemu"
	"github.com/ffbatch/ffbatch/handlers"
	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
	"github.com/ffbatch/ffbatch/internal/statusapi"
	"github.com/ffbatch/ffbatch/internal/statusapi/schematest"
)

type stack struct {
	app      *handlers.App
	cfg      *config.Config
	handler  *httptest.Server
	blobs    *azblob.Client
	batch    *batch.Client
	sb       *azservicebus.Client
	arrivals *azservicebus.Receiver
	results  *azservicebus.Receiver
	inputs   *azservicebus.Sender
}

// serveLoopback runs serve on a free loopback port until the test ends,
// then closes the server.
func serveLoopback(t testing.TB, serve func(net.Listener) error, closeServer func(context.Context) error) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = closeServer(ctx)
	})
	return ln
}

func startStack(t testing.TB, mutate func(*config.Config)) *stack {
	t.Helper()
	az := azuritetest.Start(t)

	bsrv, err := batchemu.NewServer(&batchemu.Options{
		Storage: &batchemu.StorageAccount{BlobEndpoint: az.BlobEndpoint, AccountName: az.AccountName, AccountKey: az.AccountKey},
	})
	if err != nil {
		t.Fatalf("batch emulator: %v", err)
	}
	bln := serveLoopback(t, bsrv.Serve, bsrv.Close)

	ssrv, err := sbemu.NewServer(nil)
	if err != nil {
		t.Fatalf("service bus emulator: %v", err)
	}
	sln := serveLoopback(t, ssrv.ServeAMQP, ssrv.Close)
	sbConn := fmt.Sprintf("Endpoint=sb://%s;SharedAccessKeyName=%s;SharedAccessKey=%s;UseDevelopmentEmulator=true;", sln.Addr(), sbemu.DefaultKeyName, sbemu.DefaultKey)

	cfg := &config.Config{
		InputContainer: "input", OutputContainer: "output", StatusContainer: "ffbatch-status", LogsPrefix: "logs/",
		StorageConn: az.ConnectionString, SASQueueing: time.Hour,
		ServiceBusConn: sbConn, ArrivalsQueue: "arrivals", ResultsTopic: "results",
		BatchEndpoint: "http://" + bln.Addr().String(), BatchAuth: config.BatchAuthSharedKey,
		BatchAccount: batchemu.DefaultAccountName, BatchAccountKey: batchemu.DefaultAccountKey,
		PoolID: "ffbatch-pool", JobID: "ffbatch-job", VMSize: "Standard_D2s_v3", TaskSlotsPerNode: 2,
		DedicatedMin: 0, DedicatedMax: 1, SpotMin: 0, SpotMax: 1, Scaling: config.ScalingManaged, AutoscaleInterval: 5 * time.Minute,
		ImagePublisher: "Canonical", ImageOffer: "ubuntu-24_04-lts", ImageSKU: "server", ImageVersion: "latest", NodeAgentSKU: "batch.node.ubuntu 24.04",
		PoolIdleTimeout: 0, DefaultPreset: "mp3-128k-cbr", MaxTaskRetries: 1, MaxResubmits: 2,
		ResubmitBackoff: time.Second, MinWallClock: 10 * time.Minute, WallClockPerGiB: 20 * time.Minute, LogLevel: slog.LevelInfo,
		UpstreamContainers: []string{"upstream"}, OrphanGrace: 15 * time.Minute,
	}
	if mutate != nil {
		mutate(cfg)
	}
	deps, closeDeps, err := handlers.Connect(cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(closeDeps)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("FFBATCH_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	app := handlers.New(cfg, log, deps, nil)
	mux := customhandler.NewMux(log, nil)
	app.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	s := &stack{app: app, cfg: cfg, handler: srv}
	if s.blobs, err = azblob.NewClientFromConnectionString(az.ConnectionString, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.blobs.CreateContainer(context.Background(), "input", nil); err != nil {
		t.Fatal(err)
	}
	sk, err := batch.NewSharedKeyCredential(batchemu.DefaultAccountName, batchemu.DefaultAccountKey)
	if err != nil {
		t.Fatal(err)
	}
	bopts := &batch.ClientOptions{}
	bopts.InsecureAllowCredentialWithHTTP = true
	if s.batch, err = batch.NewSharedKeyClient(cfg.BatchEndpoint, sk, bopts); err != nil {
		t.Fatal(err)
	}
	if s.sb, err = azservicebus.NewClientFromConnectionString(sbConn, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.sb.Close(context.Background()) })
	if s.arrivals, err = s.sb.NewReceiverForQueue("arrivals", nil); err != nil {
		t.Fatal(err)
	}
	if s.results, err = s.sb.NewReceiverForSubscription("results", "all", nil); err != nil {
		t.Fatal(err)
	}
	if s.inputs, err = s.sb.NewSender("arrivals", nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// invoke POSTs a host-shaped invocation and returns the status and body.
func (s *stack) invoke(t testing.TB, function string, body any) (int, customhandler.InvokeResponse) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.handler.URL+"/"+function, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-Azure-Functions-InvocationId", fmt.Sprintf("inv-%d", time.Now().UnixNano()))
	req.Header.Set("User-Agent", "Azure-Functions-Host/4.1037.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", function, ct)
	}
	var out customhandler.InvokeResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode response: %v", function, err)
	}
	return resp.StatusCode, out
}

// drain waits for the handler's background folds of SubmitTasks' journals.
func (s *stack) drain(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.app.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// blobCreatedEvent is the eventGridTrigger payload for an uploaded blob,
// with the event as a JSON string (one of the host's two shapes).
func blobCreatedEvent(container, name, etag string, size int64) map[string]any {
	ev, _ := json.Marshal(map[string]any{
		"topic":   "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
		"subject": "/blobServices/default/containers/" + container + "/blobs/" + name, "eventType": "Microsoft.Storage.BlobCreated",
		"eventTime": time.Now().UTC().Format(time.RFC3339Nano), "id": fmt.Sprintf("ev-%d", time.Now().UnixNano()),
		"data":        map[string]any{"api": "PutBlob", "eTag": etag, "contentLength": size, "blobType": "BlockBlob", "contentType": "video/mp4"},
		"dataVersion": "", "metadataVersion": "1",
	})
	return map[string]any{"Data": map[string]any{"event": string(ev)}, "Metadata": map[string]any{"sys": map[string]any{"MethodName": "BlobCreated"}}}
}

// serviceBusBatch is the serviceBusTrigger (cardinality many, dataType
// string) payload the host builds from received messages.
func serviceBusBatch(msgs []*azservicebus.ReceivedMessage) map[string]any {
	var bodies, ids, enq []string
	var corrs []*string
	var counts, seqs []int64
	for _, m := range msgs {
		bodies = append(bodies, string(m.Body))
		ids = append(ids, m.MessageID)
		corrs = append(corrs, m.CorrelationID)
		counts = append(counts, int64(m.DeliveryCount))
		seqs = append(seqs, *m.SequenceNumber)
		enq = append(enq, m.EnqueuedTime.UTC().Format("2006-01-02T15:04:05.999"))
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return map[string]any{
		"Data": map[string]any{"arrivals": enc(bodies)},
		"Metadata": map[string]any{
			"MessageIdArray": enc(ids), "CorrelationIdArray": enc(corrs), "DeliveryCountArray": enc(counts), "SequenceNumberArray": enc(seqs), "EnqueuedTimeUtcArray": enc(enq),
			"MessageReceiver": map[string]any{}, "MessageActions": map[string]any{}, "Client": map[string]any{"FullyQualifiedNamespace": "sbemulatorns"},
			"sys": map[string]any{"MethodName": "SubmitTasks", "UtcNow": time.Now().UTC().Format(time.RFC3339Nano)},
		},
	}
}

func timerPayload() map[string]any {
	return map[string]any{"Data": map[string]any{"timer": map[string]any{"Schedule": map[string]any{"AdjustForDST": true}, "ScheduleStatus": nil, "IsPastDue": false}},
		"Metadata": map[string]any{"sys": map[string]any{"MethodName": "SweepPools"}}}
}

func statusPayload(blob string) map[string]any {
	q := map[string]any{}
	if blob != "" {
		q["blob"] = blob
	}
	return map[string]any{"Data": map[string]any{"req": map[string]any{"Url": "http://localhost:7071/api/status", "Method": "GET", "Query": q,
		"Headers": map[string]any{"Accept": []string{"application/json"}}, "Params": map[string]any{}, "Identities": []any{}}},
		"Metadata": map[string]any{"sys": map[string]any{"MethodName": "Status"}}}
}

// receiveAll drains up to want messages (or until a quiet period).
func receiveAll(t *testing.T, r *azservicebus.Receiver, want int, quiet time.Duration) []*azservicebus.ReceivedMessage {
	t.Helper()
	var out []*azservicebus.ReceivedMessage
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		msgs, err := r.ReceiveMessages(ctx, want-len(out), nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("receive: %v", err)
		}
		if len(msgs) == 0 {
			break
		}
		out = append(out, msgs...)
	}
	return out
}

func complete(t *testing.T, r *azservicebus.Receiver, msgs []*azservicebus.ReceivedMessage) {
	t.Helper()
	for _, m := range msgs {
		if err := r.CompleteMessage(context.Background(), m, nil); err != nil {
			t.Fatalf("complete: %v", err)
		}
	}
}

func (s *stack) upload(t *testing.T, name string, data []byte) (etag string) {
	t.Helper()
	resp, err := s.blobs.UploadBuffer(context.Background(), "input", name, data, nil)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return string(*resp.ETag)
}

func (s *stack) waitTasksDone(t *testing.T, n int32) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		c, err := s.batch.GetTaskCounts(context.Background(), s.cfg.JobID)
		if err == nil && c.TaskCounts.Completed >= n && c.TaskCounts.Active+c.TaskCounts.Running == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c, err := s.batch.GetTaskCounts(context.Background(), s.cfg.JobID)
	t.Fatalf("tasks not done in time: %+v %v", c, err)
}

// received is one result message from the topic and its event.
type received struct {
	msg *azservicebus.ReceivedMessage
	ev  results.Event
}

// takeResults receives up to want result events and checks the contract
// of each message: MessageId = event id = request.ResultID(request id),
// CorrelationId = the request's correlation, and no id twice (the topic's
// duplicate detection drops a repeated answer).
func (s *stack) takeResults(t *testing.T, want int, quiet time.Duration) []received {
	t.Helper()
	msgs := receiveAll(t, s.results, want, quiet)
	complete(t, s.results, msgs)
	var out []received
	for _, m := range msgs {
		var ev results.Event
		if err := json.Unmarshal(m.Body, &ev); err != nil {
			t.Fatalf("result body: %v", err)
		}
		out = append(out, received{m, ev})
	}
	checkResults(t, out)
	return out
}

func checkResults(t *testing.T, got []received) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range got {
		ev, m := r.ev, r.msg
		if ev.Request == nil || ev.ID != request.ResultID(ev.Request.ID) || m.MessageID != ev.ID {
			t.Errorf("event %s (MessageId %s) does not answer its request %+v by id", ev.ID, m.MessageID, ev.Request)
			continue
		}
		corr := ""
		if m.CorrelationID != nil {
			corr = *m.CorrelationID
		}
		if corr != ev.Request.Correlation {
			t.Errorf("request %s: CorrelationId %q, body correlation %q", ev.Request.ID, corr, ev.Request.Correlation)
		}
		if seen[ev.ID] {
			t.Errorf("request %s answered twice", ev.Request.ID)
		}
		seen[ev.ID] = true
	}
}

func byStatus(got []received) map[results.Status][]results.Event {
	out := map[results.Status][]results.Event{}
	for _, r := range got {
		out[r.ev.Status] = append(out[r.ev.Status], r.ev)
	}
	return out
}

// send puts an arrival on the queue as an upstream system would.
func (s *stack) send(t *testing.T, id, correlation, body string) {
	t.Helper()
	m := &azservicebus.Message{Body: []byte(body), MessageID: &id}
	if correlation != "" {
		m.CorrelationID = &correlation
	}
	if err := s.inputs.SendMessage(context.Background(), m, nil); err != nil {
		t.Fatalf("send arrival: %v", err)
	}
}

// submitQueued hands the queued arrivals to SubmitTasks and completes them.
func (s *stack) submitQueued(t *testing.T, want int) []*azservicebus.ReceivedMessage {
	t.Helper()
	msgs := receiveAll(t, s.arrivals, want, 2*time.Second)
	if len(msgs) != want {
		t.Fatalf("received %d arrivals, want %d", len(msgs), want)
	}
	if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != http.StatusOK {
		t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
	}
	s.drain(t)
	complete(t, s.arrivals, msgs)
	return msgs
}

func sampleMP4(t *testing.T) []byte {
	t.Helper()
	mp4 := filepath.Join(t.TempDir(), "in.mp4")
	if err := media.GenerateMP4(context.Background(), mp4, &media.SampleOptions{Duration: time.Second}); err != nil {
		t.Fatalf("generate mp4: %v", err)
	}
	data, err := os.ReadFile(mp4)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mp3s lists the MP3s in the output container.
func (s *stack) mp3s(t *testing.T) []string {
	t.Helper()
	var out []string
	pager := s.blobs.NewListBlobsFlatPager("output", nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			if strings.HasSuffix(*b.Name, ".mp3") {
				out = append(out, *b.Name)
			}
		}
	}
	return out
}

func TestPipelineEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := startStack(t, nil)
	data := sampleMP4(t)
	names := []string{"shows/ep 1.mp4", `odd 'quotes' "and" ;$(id).MP4`, "musique/été.v2.mp4"}
	etags := map[string]string{}
	for _, n := range names {
		etags[n] = s.upload(t, n, data)
	}

	// 1. BlobCreated, each event delivered twice (Event Grid is at least once).
	for _, n := range names {
		for range 2 {
			code, resp := s.invoke(t, handlers.FuncBlobCreated, blobCreatedEvent("input", n, etags[n], int64(len(data))))
			if code != http.StatusOK {
				t.Fatalf("BlobCreated %s: %d %v", n, code, resp.Logs)
			}
		}
	}
	// A blob that is not an MP4 is answered "ignored" at once.
	notes := s.upload(t, "notes.txt", []byte("not a video"))
	if code, resp := s.invoke(t, handlers.FuncBlobCreated, blobCreatedEvent("input", "notes.txt", notes, 11)); code != http.StatusOK {
		t.Fatalf("BlobCreated notes.txt: %d %v", code, resp.Logs)
	}
	// An event for another container is not a request: a log line only.
	if code, resp := s.invoke(t, handlers.FuncBlobCreated, blobCreatedEvent("elsewhere", "x.mp4", "0x1", 5)); code != 200 || !strings.Contains(strings.Join(resp.Logs, ""), "ignored") {
		t.Errorf("foreign container: %d %v", code, resp.Logs)
	}
	// An upstream system sends an invalid arrival directly.
	s.send(t, "bad-1", "order-bad", `{"container":"input","blob":"../escape.mp4","etag":"0x1","size":5}`)

	// Duplicate detection leaves one message per blob plus the bad one; the
	// host delivers the batch twice (as after a lost lock): still one task
	// per file.
	msgs := receiveAll(t, s.arrivals, 10, 2*time.Second)
	if len(msgs) != len(names)+1 {
		t.Fatalf("received %d arrivals, want %d (duplicates must be dropped)", len(msgs), len(names)+1)
	}
	for range 2 {
		if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != http.StatusOK {
			t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
		}
	}
	s.drain(t)
	complete(t, s.arrivals, msgs)

	code, resp := s.invoke(t, handlers.FuncStatus, statusPayload(names[0]))
	if body := httpBody(t, resp); code != 200 || !strings.Contains(body, `"state":"submitted"`) && !strings.Contains(body, `"state":"running"`) {
		t.Errorf("status before completion: %d %s", code, body)
	}
	s.waitTasksDone(t, int32(len(names)))

	// 2. SweepPools answers each drop; the rejection and the ignored blob
	// were answered already (the repeat of the rejection by the redelivered
	// batch is dropped by the topic).
	if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
		t.Fatalf("SweepPools: %d %v", code, resp.Logs)
	}
	got := byStatus(s.takeResults(t, 10, 2*time.Second))
	if len(got[results.StatusSucceeded]) != len(names) || len(got[results.StatusRejected]) != 1 || len(got[results.StatusIgnored]) != 1 || len(got[results.StatusFailed]) != 0 {
		t.Fatalf("results by status: %+v", got)
	}
	if ev := got[results.StatusRejected][0]; ev.Rejection.Reason != string(arrival.ReasonDotSegment) || ev.Request.ID != "bad-1" || ev.Request.Correlation != "order-bad" {
		t.Errorf("rejection = %+v of %+v", ev.Rejection, ev.Request)
	}
	if ev := got[results.StatusIgnored][0]; ev.File == nil || ev.File.Blob != "notes.txt" || ev.Rejection.Reason != string(arrival.ReasonBadExtension) {
		t.Errorf("ignored = %+v", ev)
	}
	outputs := map[string]string{} // input blob → MP3
	for _, ev := range got[results.StatusSucceeded] {
		want := plan.OutputName(ev.File.Blob, s.cfg.DefaultPreset, s.cfg.DefaultPreset)
		if ev.Output.Blob != want || strings.Contains(ev.Output.URL, "?") || ev.Request.Source != string(request.SourceDrop) {
			t.Errorf("answer = %+v, want blob %s without SAS, from a drop", ev.Output, want)
		}
		outputs[ev.File.Blob] = want
		out := filepath.Join(t.TempDir(), "out.mp3")
		dl, err := s.blobs.DownloadStream(ctx, "output", want, nil)
		if err != nil {
			t.Fatalf("download %s: %v", want, err)
		}
		b, _ := io.ReadAll(dl.Body)
		dl.Body.Close()
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := media.Probe(ctx, out)
		if err != nil {
			t.Fatalf("probe %s: %v", want, err)
		}
		if info.FormatName != "mp3" || info.Duration < 500*time.Millisecond {
			t.Errorf("%s: format %q duration %v, want a ~1s MP3", want, info.FormatName, info.Duration)
		}
	}
	if n := len(s.mp3s(t)); n != len(names) {
		t.Errorf("%d MP3s in the output container, want %d", n, len(names))
	}

	// 3. An upstream system asks for a version already transcoded: answered
	// at once with the existing MP3, no task.
	s.send(t, "reuse-1", "order-reuse", fmt.Sprintf(`{"container":"input","blob":%q,"etag":%q,"size":%d,"correlation":"order-reuse"}`, names[0], etags[names[0]], len(data)))
	s.submitQueued(t, 1)
	reused := s.takeResults(t, 1, 2*time.Second)
	if len(reused) != 1 || reused[0].ev.Status != results.StatusSucceeded || reused[0].ev.Reused == nil || reused[0].ev.Request.ID != "reuse-1" ||
		reused[0].ev.Output.Blob != outputs[names[0]] {
		t.Fatalf("reused answer = %+v", reused)
	}
	if c, err := s.batch.GetTaskCounts(ctx, s.cfg.JobID); err != nil || c.TaskCounts.Active+c.TaskCounts.Running != 0 {
		t.Errorf("task counts after a reused answer: %+v, %v", c, err)
	}

	code, resp = s.invoke(t, handlers.FuncStatus, statusPayload(names[0]))
	body := httpBody(t, resp)
	var view struct {
		State    string `json:"state"`
		Request  string `json:"request"`
		Requests []struct {
			Request string `json:"request"`
			State   string `json:"state"`
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil || code != 200 || view.State != "succeeded" || view.Request != "reuse-1" || len(view.Requests) != 2 {
		t.Errorf("status after reuse: %d %s (%v)", code, body, err)
	}

	// 4. Idle cleanup (idle timeout 0): the first sweep marks the job idle,
	// the next removes job and pool.
	for range 2 {
		if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
			t.Fatalf("SweepPools: %d %v", code, resp.Logs)
		}
	}
	if _, err := s.batch.GetJob(ctx, s.cfg.JobID, nil); !batch.HasCode(err, batch.CodeJobNotFound) {
		if j, _ := s.batch.GetJob(ctx, s.cfg.JobID, nil); j == nil || j.State != batch.JobStateDeleting {
			t.Errorf("job still there after idle sweep: %v", err)
		}
	}
	p, err := s.batch.GetPool(ctx, s.cfg.PoolID, nil)
	if err == nil && p.State != batch.PoolStateDeleting {
		t.Errorf("pool still active after idle sweep: %+v", p)
	} else if err != nil && !batch.HasCode(err, batch.CodePoolNotFound) {
		t.Errorf("get pool: %v", err)
	}
	code, resp = s.invoke(t, handlers.FuncStatus, statusPayload(""))
	var page statusapi.Page
	body = httpBody(t, resp)
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil {
		t.Fatalf("status page: %d %v %s", code, err, body)
	}
	schematest.Validate(t, []byte(body))
	for _, r := range page.Rows {
		code, resp := s.invoke(t, handlers.FuncStatus, statusPayload(r.Blob))
		if code != 200 {
			t.Fatalf("status of %s: %d", r.Blob, code)
		}
		schematest.Validate(t, []byte(httpBody(t, resp)))
	}
	states := map[results.State]int{}
	for _, r := range page.Rows {
		states[r.State]++
		if r.State == results.StateSucceeded && (r.Links == nil || r.Links.Output == "") {
			t.Errorf("succeeded row %s has no output link", r.Blob)
		}
	}
	if tot := page.Activity.Totals; states[results.StateSucceeded] != 3 || states[results.StateIgnored] != 1 || tot.Succeeded != 3 || tot.Reused != 1 || tot.Refused != 1 {
		t.Errorf("status page: rows by state %v, activity %+v; want 3 succeeded, 1 ignored; 3 transcodes, 1 reused, 1 refused", states, tot)
	}
}

func httpBody(t *testing.T, resp customhandler.InvokeResponse) string {
	t.Helper()
	raw, _ := json.Marshal(resp.Outputs["res"])
	var h customhandler.HTTPResponse
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("http output: %v", err)
	}
	return h.Body
}

// TestAutoscaleFormulaAcceptedByEmulator creates the pool in autoscale mode
// through SubmitTasks and evaluates the formula.
func TestAutoscaleFormulaAcceptedByEmulator(t *testing.T) {
	ctx := context.Background()
	s := startStack(t, func(c *config.Config) { c.Scaling = config.ScalingAutoscale })
	etag := s.upload(t, "a.mp4", []byte("not really an mp4"))
	s.send(t, "m-1", "", fmt.Sprintf(`{"container":"input","blob":"a.mp4","etag":%q,"size":17}`, etag))
	s.submitQueued(t, 1)
	p, err := s.batch.GetPool(ctx, s.cfg.PoolID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.EnableAutoScale || p.AutoScaleRun == nil || p.AutoScaleRun.Error != nil {
		t.Fatalf("pool autoscale = %v, run %+v", p.EnableAutoScale, p.AutoScaleRun)
	}
	run, err := s.batch.EvaluateAutoScale(ctx, s.cfg.PoolID, p.AutoScaleFormula)
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	if run.Error != nil || !strings.Contains(run.Results, "$NodeDeallocationOption=taskcompletion") {
		t.Errorf("evaluation = %+v", run)
	}
}

// resultsAfterSweeps runs SweepPools, forwarding resubmitted arrivals to
// SubmitTasks as the host would, until want result events arrived.
func (s *stack) resultsAfterSweeps(t *testing.T, want int) []results.Event {
	t.Helper()
	var out []results.Event
	deadline := time.Now().Add(60 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
			t.Fatalf("SweepPools: %d %v", code, resp.Logs)
		}
		for _, r := range s.takeResults(t, want-len(out), 500*time.Millisecond) {
			out = append(out, r.ev)
		}
		if msgs := receiveAll(t, s.arrivals, 10, 300*time.Millisecond); len(msgs) > 0 {
			if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != 200 {
				t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
			}
			s.drain(t)
			complete(t, s.arrivals, msgs)
		}
	}
	if len(out) < want {
		t.Fatalf("got %d result events, want %d: %+v", len(out), want, out)
	}
	return out
}

func TestPipelineFailures(t *testing.T) {
	t.Run("ffmpeg rejects the input: permanent", func(t *testing.T) {
		s := startStack(t, nil)
		etag := s.upload(t, "broken.mp4", []byte("this is not a video"))
		s.send(t, "m-broken", "order-7", fmt.Sprintf(`{"container":"input","blob":"broken.mp4","etag":%q,"size":19,"correlation":"order-7"}`, etag))
		s.submitQueued(t, 1)
		s.waitTasksDone(t, 1)
		ev := s.resultsAfterSweeps(t, 1)[0]
		if ev.Status != results.StatusFailed || ev.Failure.Category != results.CategoryFFmpeg || ev.Failure.Transient ||
			ev.Failure.ExitCode == nil || *ev.Failure.ExitCode == 0 || ev.Failure.Stderr == "" || ev.Request.ID != "m-broken" || ev.Request.Correlation != "order-7" {
			t.Errorf("event = %+v, failure %+v", ev, ev.Failure)
		}
		if ev.Attempts.Retries != 1 {
			t.Errorf("retries = %d, want 1 (FFBATCH_MAX_TASK_RETRIES)", ev.Attempts.Retries)
		}
	})
	t.Run("expired SAS: transient, resubmitted until the limit", func(t *testing.T) {
		// A SAS that has expired before the node downloads the input: the
		// queueing allowance cancels the 1-byte file's attempts but 1 ns.
		s := startStack(t, func(c *config.Config) {
			attempts := plan.URLLifetime(1, 0, plan.TaskOptions{MaxTaskRetries: c.MaxTaskRetries, MinWallClock: c.MinWallClock, WallClockPerGiB: c.WallClockPerGiB})
			c.SASQueueing = time.Nanosecond - attempts
			c.MaxResubmits = 1
		})
		etag := s.upload(t, "late.mp4", []byte("x"))
		s.send(t, "m-late", "", fmt.Sprintf(`{"container":"input","blob":"late.mp4","etag":%q,"size":1}`, etag))
		s.submitQueued(t, 1)
		ev := s.resultsAfterSweeps(t, 1)[0]
		if ev.Status != results.StatusFailed || !ev.Failure.Transient || ev.Failure.Category != results.CategoryDownload || ev.Attempts.Resubmits != 1 || ev.Request.ID != "m-late" {
			t.Errorf("event = %+v, failure %+v, attempts %+v", ev, ev.Failure, ev.Attempts)
		}
	})
}

// TestPipelineLostTask loses a request's task behind the pipeline's back
// (as someone might on Azure): SweepPools finds it submitted without a task
// after the grace period, resubmits it, and the request still ends with
// exactly one MP3 and one answer.
func TestPipelineLostTask(t *testing.T) {
	tests := []struct {
		name string
		lose func(ctx context.Context, s *stack, taskID string) error
	}{
		{"task deleted", func(ctx context.Context, s *stack, taskID string) error {
			return s.batch.DeleteTask(ctx, s.cfg.JobID, taskID)
		}},
		{"job terminated and deleted with its task active", func(ctx context.Context, s *stack, _ string) error {
			if err := s.batch.TerminateJob(ctx, s.cfg.JobID, "by hand"); err != nil {
				return err
			}
			return s.batch.DeleteJob(ctx, s.cfg.JobID)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			// A long idle timeout: the job must vanish only by tc.lose.
			s := startStack(t, func(c *config.Config) { c.OrphanGrace = 2 * time.Second; c.PoolIdleTimeout = time.Hour })
			data := sampleMP4(t)
			const blob = "lost/ep 1.mp4"
			etag := strings.Trim(s.upload(t, blob, data), `"`)
			s.send(t, "m-lost", "order-9", fmt.Sprintf(`{"container":"input","blob":%q,"etag":%q,"size":%d,"correlation":"order-9"}`, blob, etag, len(data)))
			s.submitQueued(t, 1)
			r := request.Request{ID: "m-lost", Version: request.Version{Container: "input", Blob: blob, ETag: etag}, Preset: s.cfg.DefaultPreset, Output: "lost/ep 1.mp3"}
			if err := tc.lose(ctx, s, request.TaskID(r, 0)); err != nil {
				t.Fatalf("lose the task: %v", err)
			}

			ev := s.resultsAfterSweeps(t, 1)[0]
			if ev.Status != results.StatusSucceeded || ev.Attempts.Resubmits != 1 || ev.Request.ID != "m-lost" || ev.Request.Correlation != "order-9" ||
				ev.TaskID != request.TaskID(r, 1) || ev.Output.Blob != "lost/ep 1.mp3" {
				t.Errorf("event = %+v, attempts %+v", ev, ev.Attempts)
			}
			// Later sweeps publish nothing more and resubmit nothing.
			for range 2 {
				if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
					t.Fatalf("SweepPools: %d %v", code, resp.Logs)
				}
			}
			if extra := receiveAll(t, s.results, 5, time.Second); len(extra) != 0 {
				t.Errorf("%d more result events after the request succeeded", len(extra))
			}
			if extra := receiveAll(t, s.arrivals, 5, time.Second); len(extra) != 0 {
				t.Errorf("%d more arrivals after the request succeeded", len(extra))
			}
			if mp3s := s.mp3s(t); len(mp3s) != 1 || mp3s[0] != "lost/ep 1.mp3" {
				t.Errorf("MP3s in the output container = %q, want exactly lost/ep 1.mp3", mp3s)
			}
			code, resp := s.invoke(t, handlers.FuncStatus, statusPayload(blob))
			if body := httpBody(t, resp); code != 200 || !strings.Contains(body, `"state":"succeeded"`) || !strings.Contains(body, `"resubmit":1`) {
				t.Errorf("status: %d %s", code, body)
			}
		})
	}
}

// countBlobs counts the blobs under prefix in containerName.
func (s *stack) countBlobs(t testing.TB, containerName, prefix string) int {
	t.Helper()
	pager := s.blobs.NewListBlobsFlatPager(containerName, &azblob.ListBlobsFlatOptions{Prefix: &prefix})
	n := 0
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Segment.BlobItems)
	}
	return n
}
