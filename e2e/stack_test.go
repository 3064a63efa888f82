package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// waitTimeout bounds every wait for the pipeline in these tests.
const waitTimeout = 90 * time.Second

// fastSettings make the pipeline's timers short enough for tests.
var fastSettings = map[string]string{
	"FFBATCH_SWEEP_SCHEDULE":    "*/1 * * * * *",
	"FFBATCH_POOL_IDLE_TIMEOUT": "3s",
	"FFBATCH_RESUBMIT_BACKOFF":  "1s",
	"FFBATCH_MAX_TASK_RETRIES":  "0",
	"FFBATCH_LOG_LEVEL":         "debug",
}

// pipeline is a running stack and clients for it.
type pipeline struct {
	t      *testing.T
	stack  *localstack.Stack
	ep     localstack.Endpoints
	blobs  *azblob.Client
	batch  *batch.Client
	sb     *azservicebus.Client
	status *lifecycle.Store
}

// startPipeline starts a stack on free ports with fastSettings plus extra;
// each mod may change the options further.
func startPipeline(t *testing.T, extra map[string]string, mods ...func(*localstack.Options)) *pipeline {
	t.Helper()
	settings := maps.Clone(fastSettings)
	maps.Copy(settings, extra)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	opts := &localstack.Options{
		StateDir: dir, BinDir: binDir, RepoDir: repoDir, FreePorts: true,
		Settings: settings, BatchConcurrency: 2, BlobPoll: 200 * time.Millisecond, StopGrace: 5 * time.Second,
	}
	for _, mod := range mods {
		mod(opts)
	}
	st, err := localstack.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start the local stack: %v", err)
	}
	p := &pipeline{t: t, stack: st, ep: st.Endpoints}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stop the local stack: %v", err)
		}
		if t.Failed() {
			dumpLogs(t, st.Logs)
		}
	})
	if p.blobs, err = azblob.NewClientFromConnectionString(p.ep.StorageConnection, nil); err != nil {
		t.Fatal(err)
	}
	cred, err := batch.NewSharedKeyCredential(p.ep.BatchAccount, p.ep.BatchKey)
	if err != nil {
		t.Fatal(err)
	}
	bo := &batch.ClientOptions{}
	bo.InsecureAllowCredentialWithHTTP = true
	if p.batch, err = batch.NewSharedKeyClient(p.ep.BatchEndpoint, cred, bo); err != nil {
		t.Fatal(err)
	}
	if p.sb, err = azservicebus.NewClientFromConnectionString(p.ep.ServiceBus, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.sb.Close(context.Background()) })
	p.status = lifecycle.NewStore(p.blobs.ServiceClient().NewContainerClient(p.ep.StatusContainer), nil)
	return p
}

// dumpLogs keeps the components' logs of a failed test in a directory
// that outlives the test and prints the end of each.
func dumpLogs(t *testing.T, dir string) {
	t.Helper()
	keep, err := os.MkdirTemp("", "ffbatch-e2e-logs-"+strings.ReplaceAll(t.Name(), "/", "_")+"-*")
	if err != nil {
		t.Logf("keep logs: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if keep != "" {
			_ = os.WriteFile(filepath.Join(keep, e.Name()), b, 0o644)
		}
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("---- %s (end) ----\n%s", e.Name(), b)
	}
	if keep != "" {
		t.Logf("full logs kept in %s", keep)
	}
}

// context returns a context bounded by waitTimeout.
func (p *pipeline) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	p.t.Cleanup(cancel)
	return ctx
}

// upload puts data as the blob name in the input container and returns
// the ETag (without quotes).
func (p *pipeline) upload(name string, data []byte) string {
	p.t.Helper()
	resp, err := p.blobs.UploadBuffer(p.ctx(), p.ep.InputContainer, name, data, nil)
	if err != nil {
		p.t.Fatalf("upload %q: %v", name, err)
	}
	return arrival.NormalizeETag(string(*resp.ETag))
}

// sample returns the bytes of a generated sample.
func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mediaDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitDone waits until the current request of every blob is answered
// for the given ETag (empty: any version) and returns those requests.
func (p *pipeline) waitDone(etags map[string]string) map[string]*lifecycle.Entry {
	p.t.Helper()
	ctx := p.ctx()
	out := map[string]*lifecycle.Entry{}
	for {
		pending := []string{}
		for blob, etag := range etags {
			rec, err := p.status.Get(ctx, p.ep.InputContainer, blob)
			var st *lifecycle.Entry
			if err == nil {
				st = rec.Current()
			}
			if st != nil && st.State.Terminal() && (etag == "" || st.ETag == etag) {
				out[blob] = st
				continue
			}
			if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
				p.t.Logf("status %q: %v", blob, err)
			}
			state := "none"
			if st != nil {
				state = string(st.State)
			}
			pending = append(pending, fmt.Sprintf("%q (%s)", blob, state))
		}
		if len(pending) == 0 {
			return out
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("files not done after %s: %s", waitTimeout, strings.Join(pending, ", "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// outputs lists the MP3s in the output container (not the task logs
// under FFBATCH_LOGS_PREFIX): name -> ETag.
func (p *pipeline) outputs() map[string]string {
	p.t.Helper()
	out := map[string]string{}
	pager := p.blobs.NewListBlobsFlatPager(p.ep.OutputContainer, nil)
	for pager.More() {
		page, err := pager.NextPage(p.ctx())
		if err != nil {
			p.t.Fatalf("list outputs: %v", err)
		}
		for _, b := range page.Segment.BlobItems {
			if !strings.HasPrefix(*b.Name, "logs/") {
				out[*b.Name] = string(*b.Properties.ETag)
			}
		}
	}
	return out
}

// probeOutput downloads an output blob and runs ffprobe on it.
func (p *pipeline) probeOutput(name string) media.Info {
	p.t.Helper()
	path := filepath.Join(p.t.TempDir(), "out.mp3")
	f, err := os.Create(path)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.blobs.DownloadFile(p.ctx(), p.ep.OutputContainer, name, f, nil); err != nil {
		p.t.Fatalf("download output %q: %v", name, err)
	}
	f.Close()
	info, err := media.Probe(p.ctx(), path)
	if err != nil {
		p.t.Fatalf("probe output %q: %v", name, err)
	}
	return info
}

// checkMP3 checks that the output is an MP3 of about the given length.
func (p *pipeline) checkMP3(name string, want time.Duration) {
	p.t.Helper()
	info := p.probeOutput(name)
	if got := info.AudioCodec(); got != "mp3" {
		p.t.Errorf("output %q: audio codec %q, want mp3 (streams %+v)", name, got, info.Streams)
	}
	if d := info.Duration - want; d < -300*time.Millisecond || d > 300*time.Millisecond {
		p.t.Errorf("output %q: duration %s, want about %s", name, info.Duration, want)
	}
}

// events peeks every result event on the results topic's "all"
// subscription (without consuming them).
func (p *pipeline) events() []results.Event {
	p.t.Helper()
	got, err := localstack.PeekResults(p.ctx(), p.sb, p.ep, "all", 100000)
	if err != nil {
		p.t.Fatalf("peek results: %v", err)
	}
	for _, err := range got.Undecodable {
		p.t.Error(err)
	}
	if got.Truncated {
		p.t.Fatal("100000 or more messages on the results subscription")
	}
	return got.Events
}

// eventKey is the blob an event is about, or "msg:<message id>" for a
// rejection that names no file.
func eventKey(ev results.Event) string {
	switch {
	case ev.File != nil:
		return ev.File.Blob
	case ev.Rejection != nil:
		return "msg:" + ev.Rejection.MessageID
	}
	return "id:" + ev.ID
}

// waitEvents waits until there are at least want[k] events for each key
// (see eventKey) and returns all events by key.
func (p *pipeline) waitEvents(want map[string]int) map[string][]results.Event {
	p.t.Helper()
	ctx := p.ctx()
	for {
		by := map[string][]results.Event{}
		for _, ev := range p.events() {
			k := eventKey(ev)
			by[k] = append(by[k], ev)
		}
		var missing []string
		for k, n := range want {
			if len(by[k]) < n {
				missing = append(missing, fmt.Sprintf("%q (%d of %d)", k, len(by[k]), n))
			}
		}
		if len(missing) == 0 {
			return by
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("result events not published after %s: missing %s", waitTimeout, strings.Join(missing, ", "))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// sendArrival sends a raw arrival message body with the given message id.
func (p *pipeline) sendRaw(body []byte, id string) {
	p.t.Helper()
	s, err := p.sb.NewSender(p.ep.ArrivalsQueue, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	defer s.Close(context.Background())
	ct := "application/json"
	if err := s.SendMessage(p.ctx(), &azservicebus.Message{Body: body, MessageID: &id, ContentType: &ct}, nil); err != nil {
		p.t.Fatalf("send arrival: %v", err)
	}
}

// sendArrival sends the arrival message for an uploaded blob.
func (p *pipeline) sendArrival(blob, etag string, size int) {
	p.t.Helper()
	a := arrival.Arrival{Version: request.Version{Container: p.ep.InputContainer, Blob: blob, ETag: etag, Size: int64(size)}}
	body, err := a.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(body, a.MessageID())
}

// waitPoolGone waits until SweepPools has deleted the pool (and the job).
func (p *pipeline) waitPoolGone() {
	p.t.Helper()
	ctx := p.ctx()
	for {
		exists, err := p.batch.PoolExists(ctx, p.ep.PoolID)
		if err == nil && !exists {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("pool %s still exists %s after the files finished (idle timeout 3s)", p.ep.PoolID, waitTimeout)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// taskCount returns the number of tasks in the job (0 without a job).
func (p *pipeline) taskCount() int {
	p.t.Helper()
	n := 0
	pager := p.batch.NewListTasksPager(p.ep.JobID, &batch.ListOptions{Select: "id"})
	for pager.More() {
		page, err := pager.NextPage(p.ctx())
		if batch.HasCode(err, "JobNotFound") {
			return 0
		}
		if err != nil {
			p.t.Fatalf("list tasks: %v", err)
		}
		n += len(page.Value)
	}
	return n
}

// blobNames lists every blob of a container, sorted.
func (p *pipeline) blobNames(container string) []string {
	p.t.Helper()
	var out []string
	pager := p.blobs.NewListBlobsFlatPager(container, nil)
	for pager.More() {
		page, err := pager.NextPage(p.ctx())
		if err != nil {
			p.t.Fatalf("list %s: %v", container, err)
		}
		for _, b := range page.Segment.BlobItems {
			out = append(out, *b.Name)
		}
	}
	slices.Sort(out)
	return out
}

// download returns a blob's content.
func (p *pipeline) download(container, name string) []byte {
	p.t.Helper()
	resp, err := p.blobs.DownloadStream(p.ctx(), container, name, nil)
	if err != nil {
		p.t.Fatalf("download %s/%s: %v", container, name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("download %s/%s: %v", container, name, err)
	}
	return b
}

// contentType returns a blob's Content-Type.
func (p *pipeline) contentType(container, name string) string {
	p.t.Helper()
	props, err := p.blobs.ServiceClient().NewContainerClient(container).NewBlobClient(name).GetProperties(p.ctx(), nil)
	if err != nil {
		p.t.Fatalf("properties of %s/%s: %v", container, name, err)
	}
	if props.ContentType == nil {
		return ""
	}
	return *props.ContentType
}
