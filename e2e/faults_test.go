package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
)

// uploadBatch uploads n copies of a sample as fault/<prefix>-<i>.mp4.
func (p *pipeline) uploadBatch(prefix string, n int) map[string]string {
	p.t.Helper()
	data := sample(p.t, "tone2s.mp4")
	etags := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("fault/%s-%d.mp4", prefix, i)
		etags[name] = p.upload(name, data)
	}
	return etags
}

// checkExactlyOnce checks the fault invariant: every file ends with
// exactly one MP3 or a recorded failure, and exactly one result event.
func (p *pipeline) checkExactlyOnce(etags map[string]string) {
	p.t.Helper()
	done := p.waitDone(etags)
	outputs := p.outputs()
	want := map[string]int{}
	succeeded := 0
	for blob, st := range done {
		want[blob] = 1
		switch st.State {
		case results.StateSucceeded:
			succeeded++
			if st.Output == nil {
				p.t.Errorf("%s: succeeded without an output", blob)
			} else if _, ok := outputs[st.Output.Blob]; !ok {
				p.t.Errorf("%s: succeeded but %s is not in the output container", blob, st.Output.Blob)
			}
		case results.StateFailed:
			if st.Failure == nil || st.Failure.Category == "" {
				p.t.Errorf("%s: failed without a recorded failure: %+v", blob, st)
			} else {
				p.t.Logf("%s: recorded failure %s %s: %s", blob, st.Failure.Category, st.Failure.Code, st.Failure.Message)
			}
		default:
			p.t.Errorf("%s: ended %s, want succeeded or failed", blob, st.State)
		}
	}
	if len(outputs) != succeeded {
		p.t.Errorf("output container has %d MP3s for %d succeeded files: %v", len(outputs), succeeded, outputs)
	}
	by := p.waitEvents(want)
	settle() // a duplicate event would be published by the next sweeps
	by = p.waitEvents(want)
	for blob := range etags {
		if n := len(by[blob]); n != 1 {
			p.t.Errorf("%s: %d result events, want exactly 1: %s", blob, n, summarize(by[blob]))
		}
	}
}

// waitLog waits until the component's log contains s (after offset) and
// returns quickly; it polls every few milliseconds.
func (p *pipeline) waitLog(component, s string, offset int) {
	p.t.Helper()
	ctx := p.ctx()
	path := filepath.Join(p.stack.Logs, component+".log")
	for {
		b, _ := os.ReadFile(path)
		if len(b) > offset && bytes.Contains(b[offset:], []byte(s)) {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("%s log never showed %q", component, s)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (p *pipeline) logSize(component string) int {
	st, err := os.Stat(filepath.Join(p.stack.Logs, component+".log"))
	if err != nil {
		return 0
	}
	return int(st.Size())
}

// TestHandlerKilledDuringSubmitTasks: the handler process is killed
// (SIGKILL) as soon as the host starts a SubmitTasks invocation; the host
// restarts it, Service Bus redelivers the batch, and the idempotent task ids
// keep it to one task per file.
func TestHandlerKilledDuringSubmitTasks(t *testing.T) {
	p := startPipeline(t, nil)
	off := p.logSize(localstack.Functions)
	etags := p.uploadBatch("kill", 6)
	p.waitLog(localstack.Functions, "Executing 'Functions.SubmitTasks'", off)
	pid, err := p.stack.HandlerPID()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the handler: %v", err)
	}
	p.waitLog(localstack.Functions, "started custom handler", off) // the restart
	p.checkExactlyOnce(etags)
	if b, _ := os.ReadFile(filepath.Join(p.stack.Logs, "funchost.log")); bytes.Contains(b[off:], []byte("Executed 'Functions.SubmitTasks' (Failed")) {
		t.Log("the kill interrupted a SubmitTasks invocation (it failed and was redelivered)")
	} else {
		t.Log("the kill landed between invocations this time")
	}
}

// TestBatchEmulatorRestartedWhileTasksRun: the Batch emulator is stopped
// and started again (same --data) while tasks are running.
func TestBatchEmulatorRestartedWhileTasksRun(t *testing.T) {
	p := startPipeline(t, nil)
	etags := p.uploadBatch("batch", 6)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for running := false; !running; {
		pager := p.batch.NewListTasksPager(p.ep.JobID, &batch.ListOptions{Filter: "state eq 'running'", Select: "id"})
		if pager.More() {
			if page, err := pager.NextPage(ctx); err == nil && len(page.Value) > 0 {
				running = true
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("no task was ever running")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := p.stack.Restart(ctx, localstack.Batch, false); err != nil {
		t.Fatalf("restart the Batch emulator: %v", err)
	}
	p.checkExactlyOnce(etags)
}

// TestServiceBusRestartedWithData: the Service Bus emulator (with --data)
// is stopped and started again while arrivals are queued and in flight.
func TestServiceBusRestartedWithData(t *testing.T) {
	p := startPipeline(t, nil)
	off := p.logSize(localstack.Functions)
	etags := p.uploadBatch("sb", 6)
	p.waitLog(localstack.Functions, "Executing 'Functions.BlobCreated'", off)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := p.stack.Restart(ctx, localstack.ServiceBus, false); err != nil {
		t.Fatalf("restart the Service Bus emulator: %v", err)
	}
	p.checkExactlyOnce(etags)
	if b, _ := os.ReadFile(filepath.Join(p.stack.Logs, "sbemu.log")); strings.Count(string(b), "starting ") < 2 {
		t.Errorf("sbemu log shows no restart")
	}
}
