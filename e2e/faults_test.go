package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/plan"
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
			if st.MP3 == nil {
				p.t.Errorf("%s: succeeded without an output", blob)
			} else if _, ok := outputs[st.MP3.Blob]; !ok {
				p.t.Errorf("%s: succeeded but %s is not in the output container", blob, st.MP3.Blob)
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
	final := map[string]string{}
	for name, etag := range outputs {
		if !strings.HasPrefix(name, plan.StagingPrefix) {
			final[name] = etag
		}
	}
	if len(final) != succeeded {
		p.t.Errorf("output container has %d MP3s for %d succeeded files: %v", len(final), succeeded, final)
	}
	by := p.waitEvents(want)
	settle() // a duplicate event would be published by the next sweeps
	by = p.waitEvents(want)
	p.waitStagingDrained()
	for blob := range etags {
		if n := len(by[blob]); n != 1 {
			p.t.Errorf("%s: %d result events, want exactly 1: %s", blob, n, summarize(by[blob]))
		}
	}
}

// waitStagingDrained waits until no staged MP3 is left in the output
// container: settling deletes a task's staged MP3 once its requests are
// answered, and a task no request waits on any more (a duplicate of work
// already done) once it completes.
func (p *pipeline) waitStagingDrained() {
	p.t.Helper()
	ctx := p.ctx()
	for {
		left := p.stagedLeft()
		if len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Errorf("staged MP3s never deleted: %v", left)
			return
		case <-time.After(500 * time.Millisecond):
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

// restarts are the two ways a service goes down: stopped (SIGTERM, a
// graceful shutdown) and killed (SIGKILL, a crash).
var restarts = []struct {
	name string
	kill bool
}{{"stopped", false}, {"killed", true}}

// TestBatchEmulatorRestartedWhileTasksRun: the Batch emulator is stopped
// and started again with the same --data while tasks run, gracefully or by
// SIGKILL (it answers a change only once it is durable, so a kill loses
// nothing it acknowledged; see docs/decisions/0027).
func TestBatchEmulatorRestartedWhileTasksRun(t *testing.T) {
	for _, r := range restarts {
		t.Run(r.name, func(t *testing.T) {
			p := startPipeline(t, nil)
			etags := p.uploadBatch("batch", 6)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			p.waitRunningTask(ctx)
			if err := p.stack.Restart(ctx, localstack.Batch, r.kill); err != nil {
				t.Fatalf("restart the Batch emulator: %v", err)
			}
			p.checkExactlyOnce(etags)
		})
	}
}

// waitRunningTask waits until the job has a running task.
func (p *pipeline) waitRunningTask(ctx context.Context) {
	p.t.Helper()
	for {
		pager := p.batch.NewListTasksPager(p.ep.JobID, &batch.ListOptions{Filter: "state eq 'running'", Select: "id"})
		if pager.More() {
			if page, err := pager.NextPage(ctx); err == nil && len(page.Value) > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			p.t.Fatal("no task was ever running")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestServiceBusRestartedWithData: arrivals wait in the queue (SubmitTasks
// switched off) while the Service Bus emulator is stopped (or killed) and
// started again
// with the same --data; they are all still there, and once SubmitTasks is
// switched on every file ends with exactly one MP3 and one result event.
func TestServiceBusRestartedWithData(t *testing.T) {
	for _, r := range restarts {
		t.Run(r.name, func(t *testing.T) {
			p := startPipeline(t, map[string]string{"AzureWebJobs.SubmitTasks.Disabled": "true"})
			etags := p.uploadBatch("sb", 6)
			p.waitQueueDepth(len(etags))
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			if err := p.stack.Restart(ctx, localstack.ServiceBus, r.kill); err != nil {
				t.Fatalf("restart the Service Bus emulator: %v", err)
			}
			if got := p.queueDepth(); got != len(etags) {
				t.Fatalf("after the restart the arrivals queue holds %d messages, want %d", got, len(etags))
			}
			if err := p.stack.UpdateSettings(map[string]string{"AzureWebJobs.SubmitTasks.Disabled": ""}); err != nil {
				t.Fatal(err)
			}
			if err := p.stack.Restart(ctx, localstack.Functions, false); err != nil {
				t.Fatalf("restart the Functions host: %v", err)
			}
			p.checkExactlyOnce(etags)
			if b, _ := os.ReadFile(filepath.Join(p.stack.Logs, "sbemu.log")); strings.Count(string(b), ": starting ") != 2 {
				t.Errorf("sbemu log shows %d starts, want 2", strings.Count(string(b), ": starting "))
			}
		})
	}
}

// queueDepth reads the arrivals queue's active messages from the Service
// Bus emulator's /entities.
func (p *pipeline) queueDepth() int {
	p.t.Helper()
	active, _, err := localstack.QueueDepth(p.ctx(), nil, p.ep, p.ep.ArrivalsQueue)
	if err != nil {
		p.t.Fatal(err)
	}
	return active
}

func (p *pipeline) waitQueueDepth(n int) {
	p.t.Helper()
	ctx := p.ctx()
	for {
		got := p.queueDepth()
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("arrivals queue holds %d messages, want %d", got, n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestHandlerKilledBetweenRecordAndTask: the Batch emulator is frozen
// (SIGSTOP), so SubmitTasks journals the request, its background fold
// records it submitted, and the invocation blocks before its task is
// added; the handler is killed there (SIGKILL)
// and Batch thawed. The redelivered arrival finds the request recorded,
// adds its task, and the request gets exactly one answer.
func TestHandlerKilledBetweenRecordAndTask(t *testing.T) {
	p := startPipeline(t, nil)
	warm := p.uploadBatch("warm", 1)
	p.waitDone(warm)
	thaw := p.freezeBatch()
	etags := p.uploadBatch("frozen", 1)
	blob := "fault/frozen-0.mp4"
	p.waitState(blob, results.StateSubmitted)
	p.killHandlerThen(thaw)
	maps.Copy(etags, warm)
	p.checkExactlyOnce(etags)
}

// waitState waits until the current request of blob is in state.
func (p *pipeline) waitState(blob string, state results.State) {
	p.t.Helper()
	ctx := p.ctx()
	for {
		if rec, err := p.status.Get(ctx, p.ep.InputContainer, blob); err == nil && rec.Current() != nil && rec.Current().State == state {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("%s never reached %s", blob, state)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestHandlerKilledAfterJournalWrite: the Batch emulator is frozen, so
// SubmitTasks writes its journal (the batch's accepted requests) and then
// blocks before its tasks are added; the handler is killed as soon as the
// journal exists, whether or not its background fold has recorded the
// requests yet, and Batch thawed. The redelivered batch journals and adds
// the same task ids, and every file ends with exactly one MP3 and one
// answer.
func TestHandlerKilledAfterJournalWrite(t *testing.T) {
	p := startPipeline(t, nil)
	warm := p.uploadBatch("warm", 1)
	p.waitDone(warm)
	thaw := p.freezeBatch()
	etags := p.uploadBatch("journal", 3)
	p.waitJournal()
	p.killHandlerThen(thaw)
	maps.Copy(etags, warm)
	p.checkExactlyOnce(etags)
}

// freezeBatch stops the Batch emulator (SIGSTOP), so that SubmitTasks
// blocks before its tasks are added, until the returned thaw is called or
// the test ends.
func (p *pipeline) freezeBatch() (thaw func()) {
	p.t.Helper()
	pid, err := p.stack.PID(localstack.Batch)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		p.t.Fatalf("freeze the Batch emulator: %v", err)
	}
	var once sync.Once
	thaw = func() { once.Do(func() { _ = syscall.Kill(pid, syscall.SIGCONT) }) }
	p.t.Cleanup(thaw)
	return thaw
}

// killHandlerThen kills the custom handler (SIGKILL), runs then (thawing
// what the handler was blocked on) and waits until the host has started
// the handler again.
func (p *pipeline) killHandlerThen(then func()) {
	p.t.Helper()
	off := p.logSize(localstack.Functions)
	pid, err := p.stack.HandlerPID()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill the handler: %v", err)
	}
	then()
	p.waitLog(localstack.Functions, "started custom handler", off)
}

// waitJournal waits until a SubmitTasks journal exists in the status
// container.
func (p *pipeline) waitJournal() {
	p.t.Helper()
	ctx := p.ctx()
	for {
		if names, err := p.status.ListJournals(ctx, time.Now().Add(time.Hour), 1); err == nil && len(names) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatal("no journal was ever written")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
