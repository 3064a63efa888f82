package handlers

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// clock is the fixture's time. mu guards t.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testConfig() *config.Config {
	return &config.Config{
		InputContainer: "input", UpstreamContainers: []string{"upstream"}, OutputContainer: "output", StatusContainer: "ffbatch-status", LogsPrefix: "logs/",
		SASQueueing: 2 * time.Hour, ArrivalsQueue: "arrivals", ResultsTopic: "results",
		PoolID: "ffbatch-pool", JobID: "ffbatch-job", VMSize: "Standard_D2s_v3", TaskSlotsPerNode: 2,
		DedicatedMin: 0, DedicatedMax: 1, SpotMin: 0, SpotMax: 2, Scaling: config.ScalingAutoscale, AutoscaleInterval: 5 * time.Minute,
		ImagePublisher: "Canonical", ImageOffer: "ubuntu-24_04-lts", ImageSKU: "server", ImageVersion: "latest", NodeAgentSKU: "batch.node.ubuntu 24.04",
		PoolIdleTimeout: 15 * time.Minute, DefaultPreset: "mp3-192k-cbr", MaxTaskRetries: 2, MaxResubmits: 2,
		ResubmitBackoff: time.Minute, MinWallClock: 10 * time.Minute, WallClockPerGiB: 20 * time.Minute,
		OrphanGrace: 15 * time.Minute,
	}
}

// fixture is an App over the fakes.
type fixture struct {
	app      *App
	cfg      *config.Config
	batch    *fakeBatch
	arrivals *fakeSender
	results  *fakeSender
	blobs    *fakeBlobs
	status   *fakeStatus
	dlq      *fakeDeadLetters
	clock    *clock
}

func newFixture(t *testing.T, mutate func(*config.Config)) *fixture {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(cfg)
	}
	clk := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	f := &fixture{cfg: cfg, batch: newFakeBatch(), arrivals: &fakeSender{}, results: &fakeSender{},
		blobs: &fakeBlobs{blobs: map[string][]byte{}}, status: newFakeStatus(clk.Now), dlq: &fakeDeadLetters{}, clock: clk}
	f.app = f.newApp()
	return f
}

// newApp returns another App (another function instance) over the same
// fakes.
func (f *fixture) newApp() *App {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(f.cfg, log, Deps{Batch: f.batch, Arrivals: f.arrivals, Results: f.results, Signer: fakeSigner{}, Blobs: f.blobs, Status: f.status, DeadLetters: f.dlq},
		&Options{Now: f.clock.Now})
}

func (f *fixture) now() time.Time { return f.clock.Now() }

// message is one arrivals-queue message as the host hands it over.
type message struct {
	id, correlation, body string
}

// arrivalJSON is an arrival body for a blob in container, size 10, with
// extra fields (",\"preset\":...") appended.
func arrivalJSON(container, blob, etag, extra string) string {
	return fmt.Sprintf(`{"container":%q,"blob":%q,"etag":%q,"size":10%s}`, container, blob, etag, extra)
}

// submitRequest builds a cardinality-many Service Bus invocation in the
// host's shape: Data is a JSON string holding an array of strings, and the
// metadata *Array keys are JSON strings holding arrays (null for a message
// without a correlation id).
func submitRequest(msgs ...message) *customhandler.InvokeRequest {
	bodies := make([]string, len(msgs))
	ids := make([]string, len(msgs))
	corrs := make([]*string, len(msgs))
	counts := make([]int, len(msgs))
	for i, m := range msgs {
		bodies[i], ids[i], counts[i] = m.body, m.id, 1
		if m.correlation != "" {
			corrs[i] = &m.correlation
		}
	}
	enc := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		s, _ := json.Marshal(string(b))
		return s
	}
	return &customhandler.InvokeRequest{
		Data: map[string]json.RawMessage{bindingArrivals: enc(bodies)},
		Metadata: map[string]json.RawMessage{"MessageIdArray": enc(ids), "CorrelationIdArray": enc(corrs), "DeliveryCountArray": enc(counts),
			"sys": json.RawMessage(`{"MethodName":"SubmitTasks"}`)},
	}
}

// eventRequest is a BlobCreated invocation for a blob committed by api.
func eventRequest(api, container, blob, etag string, size int64) *customhandler.InvokeRequest {
	ev := map[string]any{
		"topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct", "subject": "/blobServices/default/containers/" + container + "/blobs/" + blob,
		"eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-11-27T12:00:00Z", "id": "ev-1",
		"data":        map[string]any{"api": api, "eTag": etag, "contentLength": size, "blobType": "BlockBlob", "url": "https://acct.blob.core.windows.net/x"},
		"dataVersion": "", "metadataVersion": "1",
	}
	b, _ := json.Marshal(ev)
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingEvent: b}, Metadata: map[string]json.RawMessage{}}
}

func timerRequest() *customhandler.InvokeRequest {
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingTimer: json.RawMessage(`{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}`)}}
}

// submit runs SubmitTasks and fails the test on an error.
func (f *fixture) submit(t *testing.T, msgs ...message) *customhandler.InvokeResponse {
	t.Helper()
	resp, err := f.app.SubmitTasks(context.Background(), submitRequest(msgs...))
	if err != nil {
		t.Fatalf("SubmitTasks: %v", err)
	}
	f.drain(t, f.app)
	return resp
}

// drain waits for app's background folds (a generous deadline, not a
// timing assertion).
func (f *fixture) drain(t *testing.T, app *App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := app.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// drop runs BlobCreated for a PutBlob into the input container.
func (f *fixture) drop(t *testing.T, blob, etag string) {
	t.Helper()
	if _, err := f.app.BlobCreated(context.Background(), eventRequest("PutBlob", "input", blob, etag, 10)); err != nil {
		t.Fatalf("BlobCreated: %v", err)
	}
}

// sweep runs SweepPools and fails the test on an error.
func (f *fixture) sweep(t *testing.T) *customhandler.InvokeResponse {
	t.Helper()
	resp, err := f.app.SweepPools(context.Background(), timerRequest())
	if err != nil {
		t.Fatalf("SweepPools: %v", err)
	}
	return resp
}

// deliver hands arrival messages to SubmitTasks, as the host does.
func (f *fixture) deliver(t *testing.T, ms []*azservicebus.Message) {
	t.Helper()
	if len(ms) == 0 {
		return
	}
	msgs := make([]message, len(ms))
	for i, m := range ms {
		msgs[i] = message{id: *m.MessageID, body: string(m.Body)}
		if m.CorrelationID != nil {
			msgs[i].correlation = *m.CorrelationID
		}
	}
	f.submit(t, msgs...)
}

// forward delivers the arrivals sent so far and the scheduled ones now due.
func (f *fixture) forward(t *testing.T) {
	t.Helper()
	f.deliver(t, append(f.arrivals.takeSent(), f.arrivals.takeDue(f.now())...))
}

// record returns the status record of container/blob.
func (f *fixture) record(t *testing.T, container, blob string) *lifecycle.Record {
	t.Helper()
	rec, err := f.status.Get(context.Background(), container, blob)
	if err != nil {
		t.Fatalf("status of %s/%s: %v", container, blob, err)
	}
	return rec
}

// entry returns request id's entry in the record of container/blob.
func (f *fixture) entry(t *testing.T, container, blob, id string) *lifecycle.Entry {
	t.Helper()
	e := f.record(t, container, blob).Find(id)
	if e == nil {
		t.Fatalf("status of %s/%s has no request %s", container, blob, id)
	}
	return e
}

func i32(v int32) *int32 { return &v }

// succeed completes task id with exit code 0, running from start to end,
// as a task that read its request's version leaves it: the input blob
// holds that version (written before the request), the MP3 is at the task's staging name and stdout.txt
// reports the input's MD5 (the request's contentMD5, if any) and the MP3's
// length.
func (f *fixture) succeed(id string, start, end time.Time) {
	tf := f.taskFile(id)
	f.writeInput(tf.Container, tf.Blob, unquote(tf.ETag), tf.SubmittedAt.Add(-time.Second))
	sum, _ := base64.StdEncoding.DecodeString(tf.ContentMD5)
	if len(sum) != md5.Size {
		s := md5.Sum([]byte(tf.ETag))
		sum = s[:]
	}
	f.stage(id, []byte("mp3 of "+id), fmt.Sprintf("%x  input.mp4\n", sum))
	f.batch.complete(id, batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0), StartTime: start, EndTime: end})
}

// stage uploads what task id leaves in the output container: mp3 at its
// staging name, and stdout.txt with report followed by ffmpeg's final
// progress block (the MP3's length).
func (f *fixture) stage(id string, mp3 []byte, report string) {
	f.blobs.put("output", plan.StagingName(id), mp3, nil)
	report += fmt.Sprintf("total_size=%d\nprogress=end\n", len(mp3))
	f.blobs.put("output", plan.LogsPath(f.cfg.LogsPrefix, id)+"/stdout.txt", []byte(report), nil)
}

// taskFile is the request task id was added for.
func (f *fixture) taskFile(id string) plan.TaskFile {
	f.batch.mu.Lock()
	t := f.batch.tasks[strings.ToLower(id)]
	f.batch.mu.Unlock()
	tf, err := plan.FileOf(t)
	if err != nil {
		panic(err)
	}
	return tf
}

// failTransiently completes task id as preempted.
func (f *fixture) failTransiently(id string) {
	f.batch.complete(id, batch.TaskExecutionInfo{Result: batch.TaskExecutionResultFailure,
		FailureInfo: &batch.FailureInfo{Category: batch.ErrorCategoryServerError, Code: "NodePreempted"}})
}

// published is one message on the results topic and its event.
type published struct {
	msg *azservicebus.Message
	ev  results.Event
}

// published decodes every result message sent so far.
func (f *fixture) published(t *testing.T) []published {
	t.Helper()
	f.results.mu.Lock()
	defer f.results.mu.Unlock()
	out := make([]published, len(f.results.sent))
	for i, m := range f.results.sent {
		out[i].msg = m
		if err := json.Unmarshal(m.Body, &out[i].ev); err != nil {
			t.Fatalf("result message %d: %v", i, err)
		}
	}
	return out
}

// answersTo returns the result messages that answer request id.
func (f *fixture) answersTo(t *testing.T, id string) []published {
	t.Helper()
	var out []published
	for _, p := range f.published(t) {
		if p.ev.Request != nil && p.ev.Request.ID == id {
			out = append(out, p)
		}
	}
	return out
}

// wantAnswer checks that request id was answered by exactly one result
// message, with status, and returns its event.
func wantAnswer(t *testing.T, f *fixture, id, correlation string, status results.Status) results.Event {
	t.Helper()
	got := f.answersTo(t, id)
	if len(got) != 1 {
		t.Fatalf("request %s: %d result messages, want exactly 1", id, len(got))
	}
	checkAnswer(t, got[0], id, correlation, status)
	return got[0].ev
}

// wantRepeatedAnswer checks that request id has one answer, sent at most
// times times under the same message id and body (a retry repeating it,
// which duplicate detection on the topic drops), and returns it.
func wantRepeatedAnswer(t *testing.T, f *fixture, id, correlation string, status results.Status, times int) results.Event {
	t.Helper()
	got := f.answersTo(t, id)
	if len(got) == 0 || len(got) > times {
		t.Fatalf("request %s: %d result messages, want 1 to %d", id, len(got), times)
	}
	for _, p := range got {
		checkAnswer(t, p, id, correlation, status)
		if string(p.msg.Body) != string(got[0].msg.Body) {
			t.Errorf("request %s: repeated answer differs:\n%s\n%s", id, p.msg.Body, got[0].msg.Body)
		}
	}
	return got[0].ev
}

// checkAnswer checks one result message: its id is the request's result
// id, its correlation the request's (as CorrelationId and in the body),
// its status in the subject and the application properties.
func checkAnswer(t *testing.T, p published, id, correlation string, status results.Status) {
	t.Helper()
	m, ev := p.msg, p.ev
	if ev.Status != status {
		t.Errorf("request %s: status %s, want %s (event %+v)", id, ev.Status, status, ev)
	}
	if want := request.ResultID(id); ev.ID != want || m.MessageID == nil || *m.MessageID != want {
		t.Errorf("request %s: event id %s, MessageId %v; want both %s", id, ev.ID, m.MessageID, want)
	}
	gotCorr := ""
	if m.CorrelationID != nil {
		gotCorr = *m.CorrelationID
	}
	if gotCorr != correlation || ev.Request.Correlation != correlation {
		t.Errorf("request %s: CorrelationId %q, body correlation %q; want %q", id, gotCorr, ev.Request.Correlation, correlation)
	}
	if m.Subject == nil || *m.Subject != string(status) || m.ApplicationProperties["status"] != string(status) {
		t.Errorf("request %s: subject %v, properties %v; want status %s", id, m.Subject, m.ApplicationProperties, status)
	}
}

// wantNoAnswer checks that request id has not been answered.
func wantNoAnswer(t *testing.T, f *fixture, id string) {
	t.Helper()
	if got := f.answersTo(t, id); len(got) != 0 {
		t.Errorf("request %s answered %d times (%s), want no answer yet", id, len(got), got[0].ev.Status)
	}
}

// reqFor is the request id for container/blob at etag (size 10) with
// preset and output: enough for request.TaskID.
func reqFor(id, container, blob, etag, preset, output string) request.Request {
	return request.Request{ID: id, Version: request.Version{Container: container, Blob: blob, ETag: etag, Size: 10}, Preset: preset, Output: output}
}
