package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/emulators/sbemu"
	"github.com/ffbatch/ffbatch/internal/localstack"
)

// TestStorageOutageDeadLettersArrivals reproduces issue 13's storage
// crash: arrivals wait in the queue, Azurite is killed (kill -9), and
// SubmitTasks fails on every arrival until the queue dead-letters them
// all (MaxDeliveryCount 3 here, to keep the test short); then Azurite is
// started again on the same data. SweepPools reads the dead-letter queue
// and sends each arrival again under a new message id, and every file
// ends with exactly one MP3 and one result event. Before, the arrivals
// stayed in the dead-letter queue and the files queued for good.
func TestStorageOutageDeadLettersArrivals(t *testing.T) {
	cfg := strings.Replace(string(sbemu.DefaultConfigJSON), `"MaxDeliveryCount": 10`, `"MaxDeliveryCount": 3`, 1)
	cfgPath := filepath.Join(t.TempDir(), "Config.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPipeline(t, map[string]string{"AzureWebJobs.SubmitTasks.Disabled": "true"},
		func(o *localstack.Options) { o.ServiceBusConfig = cfgPath })
	etags := p.uploadBatch("outage", 8)
	p.waitQueueDepth(len(etags))
	p.waitAzuriteSaved(time.Now())
	if err := p.stack.UpdateSettings(map[string]string{"AzureWebJobs.SubmitTasks.Disabled": ""}); err != nil {
		t.Fatal(err)
	}
	pid, err := p.stack.PID(localstack.Azurite)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill Azurite: %v", err)
	}
	ctx := p.ctx()
	if err := p.stack.Restart(ctx, localstack.Functions, false); err != nil {
		t.Fatalf("restart the Functions host: %v", err)
	}
	p.waitDeadLettered(len(etags))
	if err := p.stack.Restart(ctx, localstack.Azurite, false); err != nil {
		t.Fatalf("start Azurite again: %v", err)
	}
	p.checkExactlyOnce(etags)
}

// waitAzuriteSaved waits until Azurite has saved its metadata after
// since: it keeps it in memory and writes it to disk every 5 seconds, so
// a kill loses what came later.
func (p *pipeline) waitAzuriteSaved(since time.Time) {
	p.t.Helper()
	db := filepath.Join(p.stack.Dir, "data", "azurite", "__azurite_db_blob__.json")
	ctx := p.ctx()
	for {
		if st, err := os.Stat(db); err == nil && st.ModTime().After(since) {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("Azurite did not save %s after %s", db, since)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitDeadLettered waits until the arrivals' dead-letter queue holds n
// messages.
func (p *pipeline) waitDeadLettered(n int) {
	p.t.Helper()
	ctx := p.ctx()
	dlq, err := p.sb.NewReceiverForQueue(p.ep.ArrivalsQueue, &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
	if err != nil {
		p.t.Fatal(err)
	}
	defer dlq.Close(context.Background())
	got := 0
	for {
		msgs, err := dlq.PeekMessages(ctx, 1000, &azservicebus.PeekMessagesOptions{FromSequenceNumber: new(int64)})
		if err == nil {
			got = len(msgs)
		}
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("the dead-letter queue holds %d arrivals, want %d", got, n)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestControlCharacterBlobName: a drop whose name has a control character
// makes Azurite's List Blobs fail for every page holding it. The host
// stand-in's watcher reports it once and keeps delivering: a file dropped
// after it is transcoded.
func TestControlCharacterBlobName(t *testing.T) {
	p := startPipeline(t, nil)
	off := p.logSize(localstack.Functions)
	p.upload("odd\x01name.mp4", sample(t, "tone2s.mp4"))
	p.upload("odd\x1b[31mred.mp4", sample(t, "tone2s.mp4"))
	etags := map[string]string{"normal.mp4": p.upload("normal.mp4", sample(t, "tone2s.mp4"))}
	done := p.waitDone(etags)
	p.waitLog(localstack.Functions, "a blob cannot be listed", off)
	if st := done["normal.mp4"]; st.State != "succeeded" || st.MP3 == nil {
		t.Fatalf("normal.mp4 ended %s, want succeeded", st.State)
	}
	p.checkMP3(done["normal.mp4"].MP3.Blob, 2*time.Second)
	b, _ := os.ReadFile(filepath.Join(p.stack.Logs, localstack.Functions+".log"))
	if n := strings.Count(string(b[off:]), "a blob cannot be listed"); n != 1 {
		t.Errorf("the host log reports the unlistable names %d times, want once", n)
	}
}
