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
	"github.com/ffbatch/ffbatch/internal/results"
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

func startStack(t testing.TB, mutate func(*config.Config)) *stack {
	t.Helper()
	az := azuritetest.Start(t)

	bsrv, err := batchemu.NewServer(&batchemu.Options{
		Storage: &batchemu.StorageAccount{BlobEndpoint: az.BlobEndpoint, AccountName: az.AccountName, AccountKey: az.AccountKey},
	})
	if err != nil {
		t.Fatalf("batch emulator: %v", err)
	}
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go bsrv.Serve(bln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bsrv.Close(ctx)
	})

	ssrv, err := sbemu.NewServer(nil)
	if err != nil {
		t.Fatalf("service bus emulator: %v", err)
	}
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ssrv.ServeAMQP(sln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ssrv.Close(ctx)
	})
	sbConn := fmt.Sprintf("Endpoint=sb://%s;SharedAccessKeyName=%s;SharedAccessKey=%s;UseDevelopmentEmulator=true;", sln.Addr(), sbemu.DefaultKeyName, sbemu.DefaultKey)

	cfg := &config.Config{
		InputContainer: "input", OutputContainer: "output", StatusContainer: "ffbatch-status", LogsPrefix: "logs/",
		StorageConn: az.ConnectionString, SASLifetime: time.Hour,
		ServiceBusConn: sbConn, ArrivalsQueue: "arrivals", ResultsTopic: "results",
		BatchEndpoint: "http://" + bln.Addr().String(), BatchAuth: config.BatchAuthSharedKey,
		BatchAccount: batchemu.DefaultAccountName, BatchAccountKey: batchemu.DefaultAccountKey,
		PoolID: "ffbatch-pool", JobID: "ffbatch-job", VMSize: "Standard_D2s_v3", TaskSlotsPerNode: 2,
		DedicatedMin: 0, DedicatedMax: 1, SpotMin: 0, SpotMax: 1, Scaling: config.ScalingManaged, AutoscaleInterval: 5 * time.Minute,
		ImagePublisher: "Canonical", ImageOffer: "ubuntu-24_04-lts", ImageSKU: "server", ImageVersion: "latest", NodeAgentSKU: "batch.node.ubuntu 24.04",
		PoolIdleTimeout: 0, DefaultPreset: "mp3-128k-cbr", MaxTaskRetries: 1, MaxResubmits: 2,
		ResubmitBackoff: time.Second, MinWallClock: 10 * time.Minute, WallClockPerGiB: 20 * time.Minute, LogLevel: slog.LevelInfo,
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
	t.Cleanup(func() { _ = app.Close(context.Background()) })
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
	var counts, seqs []int64
	for _, m := range msgs {
		bodies = append(bodies, string(m.Body))
		ids = append(ids, m.MessageID)
		counts = append(counts, int64(m.DeliveryCount))
		seqs = append(seqs, *m.SequenceNumber)
		enq = append(enq, m.EnqueuedTime.UTC().Format("2006-01-02T15:04:05.999"))
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return map[string]any{
		"Data": map[string]any{"arrivals": enc(bodies)},
		"Metadata": map[string]any{
			"MessageIdArray": enc(ids), "DeliveryCountArray": enc(counts), "SequenceNumberArray": enc(seqs), "EnqueuedTimeUtcArray": enc(enq),
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

func TestPipelineEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := startStack(t, nil)

	dir := t.TempDir()
	mp4 := filepath.Join(dir, "in.mp4")
	if err := media.GenerateMP4(ctx, mp4, &media.SampleOptions{Duration: time.Second}); err != nil {
		t.Fatalf("generate mp4: %v", err)
	}
	data, err := os.ReadFile(mp4)
	if err != nil {
		t.Fatal(err)
	}
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
	// An event for another container is ignored with a log line.
	if code, resp := s.invoke(t, handlers.FuncBlobCreated, blobCreatedEvent("elsewhere", "x.mp4", "0x1", 5)); code != 200 || !strings.Contains(strings.Join(resp.Logs, ""), "ignored") {
		t.Errorf("foreign container: %d %v", code, resp.Logs)
	}
	// An upstream system sends an invalid arrival directly.
	bad := "{\"container\":\"input\",\"blob\":\"../escape.mp4\",\"etag\":\"0x1\",\"size\":5}"
	if err := s.inputs.SendMessage(ctx, &azservicebus.Message{Body: []byte(bad)}, nil); err != nil {
		t.Fatal(err)
	}

	// Duplicate detection leaves one message per blob plus the bad one.
	msgs := receiveAll(t, s.arrivals, 10, 2*time.Second)
	if len(msgs) != len(names)+1 {
		t.Fatalf("received %d arrivals, want %d (duplicates must be dropped)", len(msgs), len(names)+1)
	}

	// 2. SubmitTasks with the batch; then the host redelivers it (as after a
	// lost lock): still one task per file.
	for range 2 {
		code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs))
		if code != http.StatusOK {
			t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
		}
	}
	complete(t, s.arrivals, msgs)
	if err := s.app.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	code, resp := s.invoke(t, handlers.FuncStatus, statusPayload(names[0]))
	if code != 200 {
		t.Fatalf("Status: %d", code)
	}
	if body := httpBody(t, resp); !strings.Contains(body, `"state":"submitted"`) && !strings.Contains(body, `"state":"running"`) {
		t.Errorf("status before completion: %s", body)
	}

	s.waitTasksDone(t, int32(len(names)))

	// 3. SweepPools publishes one result per file and the rejection.
	if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
		t.Fatalf("SweepPools: %d %v", code, resp.Logs)
	}
	got := receiveAll(t, s.results, 10, 2*time.Second)
	complete(t, s.results, got)
	// The redelivered SubmitTasks batch published its rejection twice; the
	// event id is stable, so subscribers (or duplicate detection on the
	// topic) drop the repeat. Count distinct ids.
	byStatus := map[results.Status][]results.Event{}
	seen := map[string]bool{}
	for _, m := range got {
		var ev results.Event
		if err := json.Unmarshal(m.Body, &ev); err != nil {
			t.Fatalf("result body: %v", err)
		}
		if m.MessageID != ev.ID {
			t.Errorf("message id %s differs from event id %s", m.MessageID, ev.ID)
		}
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		byStatus[ev.Status] = append(byStatus[ev.Status], ev)
	}
	if len(byStatus[results.StatusSucceeded]) != len(names) || len(byStatus[results.StatusRejected]) != 1 || len(byStatus[results.StatusFailed]) != 0 {
		t.Fatalf("results by status: %d succeeded, %d rejected, %d failed; events %+v", len(byStatus[results.StatusSucceeded]),
			len(byStatus[results.StatusRejected]), len(byStatus[results.StatusFailed]), byStatus)
	}
	if r := byStatus[results.StatusRejected][0].Rejection; r.Reason != string(arrival.ReasonDotSegment) {
		t.Errorf("rejection = %+v", r)
	}
	for _, ev := range byStatus[results.StatusSucceeded] {
		want := plan.OutputName(ev.File.Blob)
		if ev.Output.Blob != want || strings.Contains(ev.Output.URL, "?") {
			t.Errorf("output = %+v, want blob %s without SAS", ev.Output, want)
		}
		// The MP3 exists and is audio.
		out := filepath.Join(dir, fmt.Sprintf("out-%d.mp3", time.Now().UnixNano()))
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
	// Exactly one MP3 per input in the output container (plus logs).
	var mp3s int
	pager := s.blobs.NewListBlobsFlatPager("output", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			if strings.HasSuffix(*b.Name, ".mp3") {
				mp3s++
			}
		}
	}
	if mp3s != len(names) {
		t.Errorf("%d MP3s in the output container, want %d", mp3s, len(names))
	}

	code, resp = s.invoke(t, handlers.FuncStatus, statusPayload(names[1]))
	if body := httpBody(t, resp); code != 200 || !strings.Contains(body, `"state":"succeeded"`) {
		t.Errorf("status after sweep: %d %s", code, body)
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
	if body := httpBody(t, resp); code != 200 || !strings.Contains(body, `"succeeded":3`) {
		t.Errorf("summary: %d %s", code, body)
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
	body := fmt.Sprintf(`{"container":"input","blob":"a.mp4","etag":%q,"size":17}`, etag)
	if err := s.inputs.SendMessage(ctx, &azservicebus.Message{Body: []byte(body)}, nil); err != nil {
		t.Fatal(err)
	}
	msgs := receiveAll(t, s.arrivals, 1, 2*time.Second)
	if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != 200 {
		t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
	}
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

// sweepUntil runs SweepPools until want distinct result events arrived.
func (s *stack) resultsAfterSweeps(t *testing.T, want int) []results.Event {
	t.Helper()
	var out []results.Event
	seen := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
			t.Fatalf("SweepPools: %d %v", code, resp.Logs)
		}
		msgs := receiveAll(t, s.results, want-len(out), 500*time.Millisecond)
		complete(t, s.results, msgs)
		for _, m := range msgs {
			var ev results.Event
			if err := json.Unmarshal(m.Body, &ev); err != nil {
				t.Fatal(err)
			}
			if !seen[ev.ID] {
				seen[ev.ID] = true
				out = append(out, ev)
			}
		}
		// Forward resubmitted arrivals, as the host would.
		if msgs := receiveAll(t, s.arrivals, 10, 300*time.Millisecond); len(msgs) > 0 {
			if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != 200 {
				t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
			}
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
		ctx := context.Background()
		s := startStack(t, nil)
		etag := s.upload(t, "broken.mp4", []byte("this is not a video"))
		body := fmt.Sprintf(`{"container":"input","blob":"broken.mp4","etag":%q,"size":19,"correlation":"order-7"}`, etag)
		if err := s.inputs.SendMessage(ctx, &azservicebus.Message{Body: []byte(body)}, nil); err != nil {
			t.Fatal(err)
		}
		msgs := receiveAll(t, s.arrivals, 1, 2*time.Second)
		if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != 200 {
			t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
		}
		complete(t, s.arrivals, msgs)
		s.waitTasksDone(t, 1)
		evs := s.resultsAfterSweeps(t, 1)
		ev := evs[0]
		if ev.Status != results.StatusFailed || ev.Failure.Category != results.CategoryFFmpeg || ev.Failure.Transient ||
			ev.Failure.ExitCode == nil || *ev.Failure.ExitCode == 0 || ev.Failure.Stderr == "" || ev.File.Correlation != "order-7" {
			t.Errorf("event = %+v, failure %+v", ev, ev.Failure)
		}
		if ev.Attempts.Retries != 1 {
			t.Errorf("retries = %d, want 1 (FFBATCH_MAX_TASK_RETRIES)", ev.Attempts.Retries)
		}
	})
	t.Run("expired SAS: transient, resubmitted until the limit", func(t *testing.T) {
		ctx := context.Background()
		// A SAS that has expired before the node downloads the input.
		s := startStack(t, func(c *config.Config) { c.SASLifetime = time.Nanosecond; c.MaxResubmits = 1 })
		etag := s.upload(t, "late.mp4", []byte("x"))
		body := fmt.Sprintf(`{"container":"input","blob":"late.mp4","etag":%q,"size":1}`, etag)
		if err := s.inputs.SendMessage(ctx, &azservicebus.Message{Body: []byte(body)}, nil); err != nil {
			t.Fatal(err)
		}
		msgs := receiveAll(t, s.arrivals, 1, 2*time.Second)
		if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != 200 {
			t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
		}
		complete(t, s.arrivals, msgs)
		evs := s.resultsAfterSweeps(t, 1)
		ev := evs[0]
		if ev.Status != results.StatusFailed || !ev.Failure.Transient || ev.Failure.Category != results.CategoryDownload || ev.Attempts.Resubmits != 1 {
			t.Errorf("event = %+v, failure %+v, attempts %+v", ev, ev.Failure, ev.Attempts)
		}
	})
}

// TestPipelineLostTask loses a file's task behind the pipeline's back (as
// someone might on Azure): SweepPools finds the file submitted without a
// task after the grace period, resubmits it, and the file still ends with
// exactly one MP3 and one result event.
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
			mp4 := filepath.Join(t.TempDir(), "in.mp4")
			if err := media.GenerateMP4(ctx, mp4, &media.SampleOptions{Duration: time.Second}); err != nil {
				t.Fatalf("generate mp4: %v", err)
			}
			data, err := os.ReadFile(mp4)
			if err != nil {
				t.Fatal(err)
			}
			etag := strings.Trim(s.upload(t, "lost/ep 1.mp4", data), `"`)
			body := fmt.Sprintf(`{"container":"input","blob":"lost/ep 1.mp4","etag":%q,"size":%d,"correlation":"order-9"}`, etag, len(data))
			if err := s.inputs.SendMessage(ctx, &azservicebus.Message{Body: []byte(body)}, nil); err != nil {
				t.Fatal(err)
			}
			msgs := receiveAll(t, s.arrivals, 1, 2*time.Second)
			if code, resp := s.invoke(t, handlers.FuncSubmitTasks, serviceBusBatch(msgs)); code != 200 {
				t.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
			}
			complete(t, s.arrivals, msgs)
			if err := s.app.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := tc.lose(ctx, s, plan.TaskID("input", "lost/ep 1.mp4", etag, s.cfg.DefaultPreset, 0)); err != nil {
				t.Fatalf("lose the task: %v", err)
			}

			evs := s.resultsAfterSweeps(t, 1)
			ev := evs[0]
			if ev.Status != results.StatusSucceeded || ev.Attempts.Resubmits != 1 || ev.File.Correlation != "order-9" ||
				ev.TaskID != plan.TaskID("input", "lost/ep 1.mp4", etag, s.cfg.DefaultPreset, 1) || ev.Output.Blob != "lost/ep 1.mp3" {
				t.Errorf("event = %+v, attempts %+v", ev, ev.Attempts)
			}
			// Later sweeps publish nothing more and resubmit nothing.
			for range 2 {
				if code, resp := s.invoke(t, handlers.FuncSweepPools, timerPayload()); code != 200 {
					t.Fatalf("SweepPools: %d %v", code, resp.Logs)
				}
			}
			if extra := receiveAll(t, s.results, 5, time.Second); len(extra) != 0 {
				t.Errorf("%d more result events after the file succeeded", len(extra))
			}
			if extra := receiveAll(t, s.arrivals, 5, time.Second); len(extra) != 0 {
				t.Errorf("%d more arrivals after the file succeeded", len(extra))
			}
			var mp3s []string
			pager := s.blobs.NewListBlobsFlatPager("output", nil)
			for pager.More() {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range page.Segment.BlobItems {
					if strings.HasSuffix(*b.Name, ".mp3") {
						mp3s = append(mp3s, *b.Name)
					}
				}
			}
			if len(mp3s) != 1 || mp3s[0] != "lost/ep 1.mp3" {
				t.Errorf("MP3s in the output container = %q, want exactly lost/ep 1.mp3", mp3s)
			}
			code, resp := s.invoke(t, handlers.FuncStatus, statusPayload("lost/ep 1.mp4"))
			if body := httpBody(t, resp); code != 200 || !strings.Contains(body, `"state":"succeeded"`) || !strings.Contains(body, `"resubmits":1`) {
				t.Errorf("status: %d %s", code, body)
			}
		})
	}
}
