package funchost

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// fakeReceiver is an in-memory messageReceiver that records settlements.
type fakeReceiver struct {
	mu             sync.Mutex // guards the fields below
	queue          []*azservicebus.ReceivedMessage
	asked          []int // maxMessages of each ReceiveMessages call that returned messages
	completed      []string
	abandoned      []string
	renewed        int
	outstanding    int
	maxOutstanding int
	wake           chan struct{}
}

var _ messageReceiver = (*fakeReceiver)(nil)

func newFakeReceiver() *fakeReceiver { return &fakeReceiver{wake: make(chan struct{}, 1)} }

func (f *fakeReceiver) push(msgs ...*azservicebus.ReceivedMessage) {
	f.mu.Lock()
	f.queue = append(f.queue, msgs...)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fakeReceiver) ReceiveMessages(ctx context.Context, n int, _ *azservicebus.ReceiveMessagesOptions) ([]*azservicebus.ReceivedMessage, error) {
	for {
		f.mu.Lock()
		if len(f.queue) > 0 {
			k := min(n, len(f.queue))
			out := f.queue[:k:k]
			f.queue = f.queue[k:]
			f.asked = append(f.asked, n)
			f.outstanding += k
			f.maxOutstanding = max(f.maxOutstanding, f.outstanding)
			f.mu.Unlock()
			return out, nil
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *fakeReceiver) CompleteMessage(_ context.Context, m *azservicebus.ReceivedMessage, _ *azservicebus.CompleteMessageOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completed = append(f.completed, m.MessageID)
	f.outstanding--
	return nil
}

func (f *fakeReceiver) AbandonMessage(_ context.Context, m *azservicebus.ReceivedMessage, _ *azservicebus.AbandonMessageOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.abandoned = append(f.abandoned, m.MessageID)
	f.outstanding--
	return nil
}

func (f *fakeReceiver) RenewMessageLock(context.Context, *azservicebus.ReceivedMessage, *azservicebus.RenewMessageLockOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renewed++
	return nil
}

func (f *fakeReceiver) Close(context.Context) error { return nil }

func (f *fakeReceiver) settled() (completed, abandoned []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.completed...), append([]string{}, f.abandoned...)
}

func ptr[T any](v T) *T { return &v }

// testMessage is a message as azservicebus hands it to the trigger.
func testMessage(id string, seq int64, body string) *azservicebus.ReceivedMessage {
	enq := time.Date(2026, 11, 27, 12, 0, 0, 123000000, time.UTC)
	return &azservicebus.ReceivedMessage{
		MessageID:             id,
		Body:                  []byte(body),
		ContentType:           ptr("application/json"),
		CorrelationID:         ptr("corr-" + id),
		Subject:               ptr("arrival"),
		DeliveryCount:         1,
		SequenceNumber:        &seq,
		EnqueuedTime:          &enq,
		ExpiresAt:             ptr(enq.Add(14 * 24 * time.Hour)),
		LockedUntil:           ptr(time.Now().Add(time.Minute)),
		LockToken:             [16]byte{0x4e, 0x77, 0x35, 0x54, 0xf6, 0xb7, 0x4e, 0xa2, 0xb0, 0x7d, 0x4c, 0x5f, 0xd5, 0xab, byte(seq), 0x41},
		ApplicationProperties: map[string]any{"source": "test", "attempt": int64(1)},
	}
}

func startServiceBusHost(t *testing.T, hostJSON, fn string, rcv *fakeReceiver, config string) (*testApp, *Host) {
	t.Helper()
	a := newTestApp(t, hostJSON, map[string]string{"OnArrivals": fn}, nil)
	a.setConfig(t, config)
	opts := testOptions(a, newLogCapture())
	opts.Now = fixedClock(testNow)
	opts.newReceiver = func(*function) (messageReceiver, sbClientInfo, error) {
		return rcv, sbClientInfo{FullyQualifiedNamespace: "ffbatch.servicebus.windows.net", Identifier: "ffbatch.servicebus.windows.net-0a6c5d44-fc61-4b0b-9a8e-1b63e1fba0b8"}, nil
	}
	return a, startHost(t, opts)
}

func TestServiceBusSingleMessage(t *testing.T) {
	fn := `{"bindings": [{"name": "msg", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection"}]}`
	rcv := newFakeReceiver()
	a, _ := startServiceBusHost(t, basicHostJSON, fn, rcv, `{"status": {"OnArrivals": 200}}`)
	rcv.push(testMessage("m1", 7, `{"container":"input","blob":"a.mp4","size":10,"nested":{"x":1},"list":[1]}`))
	waitFor(t, "the message to be completed", 5*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 1 })
	reqs := a.requests(t, "/OnArrivals")
	if len(reqs) != 1 {
		t.Fatalf("got %d invocations, want 1", len(reqs))
	}
	checkGolden(t, "servicebus_single", reqs[0].Body)
}

func TestServiceBusAbandonsOnFailure(t *testing.T) {
	fn := `{"bindings": [{"name": "msg", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection", "dataType": "binary"}]}`
	rcv := newFakeReceiver()
	a, _ := startServiceBusHost(t, basicHostJSON, fn, rcv, `{"failTimes": {"OnArrivals": 1}}`)
	rcv.push(testMessage("m1", 1, "\x00\x01binary"))
	waitFor(t, "the failed message to be abandoned", 5*time.Second, func() bool { _, ab := rcv.settled(); return len(ab) == 1 })
	// The broker would redeliver it; the second delivery succeeds.
	again := testMessage("m1", 1, "\x00\x01binary")
	again.DeliveryCount = 2
	rcv.push(again)
	waitFor(t, "the redelivered message to be completed", 5*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 1 })
	var body struct {
		Data     map[string]string
		Metadata map[string]any
	}
	reqs := a.requests(t, "/OnArrivals")
	if err := json.Unmarshal(reqs[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	if got := body.Data["msg"]; got != "AAFiaW5hcnk=" {
		t.Errorf("binary Data.msg = %q, want base64 of the body", got)
	}
	if got := body.Metadata["DeliveryCount"]; got != "2" {
		t.Errorf("DeliveryCount = %v, want \"2\"", got)
	}
}

func TestServiceBusAutoCompleteOff(t *testing.T) {
	fn := `{"bindings": [{"name": "msg", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection", "autoCompleteMessages": false}]}`
	rcv := newFakeReceiver()
	a, _ := startServiceBusHost(t, basicHostJSON, fn, rcv, `{}`)
	rcv.push(testMessage("m1", 1, "x"))
	waitFor(t, "the invocation", 5*time.Second, func() bool { return len(a.requests(t, "/OnArrivals")) == 1 })
	time.Sleep(100 * time.Millisecond)
	if c, ab := rcv.settled(); len(c)+len(ab) != 0 {
		t.Errorf("settled %v / %v, want nothing with autoCompleteMessages false", c, ab)
	}
}

func TestServiceBusConcurrencyLimit(t *testing.T) {
	t.Parallel()
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"serviceBus": {"maxConcurrentCalls": 2}}}`
	fn := `{"bindings": [{"name": "msg", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection"}]}`
	rcv := newFakeReceiver()
	startServiceBusHost(t, hostJSON, fn, rcv, `{"sleep": {"OnArrivals": "400ms"}}`)
	for i := range 6 {
		rcv.push(testMessage("m"+string(rune('a'+i)), int64(i+1), "x"))
	}
	waitFor(t, "six completions", 10*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 6 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.maxOutstanding != 2 {
		t.Errorf("at most %d messages were in flight, want exactly maxConcurrentCalls = 2", rcv.maxOutstanding)
	}
}

func TestServiceBusBatch(t *testing.T) {
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"serviceBus": {"maxMessageBatchSize": 2}}}`
	fn := `{"bindings": [{"name": "msgs", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection", "cardinality": "many", "dataType": "string"}]}`
	rcv := newFakeReceiver()
	a, _ := startServiceBusHost(t, hostJSON, fn, rcv, `{}`)
	m2 := testMessage("m2", 8, `{"blob":"b.mp4"}`)
	m2.ContentType, m2.CorrelationID, m2.Subject = nil, nil, nil
	m2.ExpiresAt = nil // no time to live
	rcv.push(testMessage("m1", 7, `{"blob":"a.mp4"}`), m2, testMessage("m3", 9, `{"blob":"c.mp4"}`))
	waitFor(t, "three completions", 5*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 3 })
	reqs := a.requests(t, "/OnArrivals")
	if len(reqs) != 2 {
		t.Fatalf("got %d invocations, want 2 (batches of at most 2)", len(reqs))
	}
	checkGolden(t, "servicebus_batch", reqs[0].Body)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for _, n := range rcv.asked {
		if n != 2 {
			t.Errorf("ReceiveMessages asked for %d messages, want maxMessageBatchSize 2", n)
		}
	}
}

func TestServiceBusBatchWaitsForMinimum(t *testing.T) {
	t.Parallel()
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}},
	  "extensions": {"serviceBus": {"maxMessageBatchSize": 10, "minMessageBatchSize": 3, "maxBatchWaitTime": "00:00:02"}}}`
	fn := `{"bindings": [{"name": "msgs", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection", "cardinality": "many", "dataType": "string"}]}`
	rcv := newFakeReceiver()
	a, _ := startServiceBusHost(t, hostJSON, fn, rcv, `{}`)
	rcv.push(testMessage("m1", 1, "a"))
	time.Sleep(100 * time.Millisecond)
	rcv.push(testMessage("m2", 2, "b"), testMessage("m3", 3, "c"))
	waitFor(t, "one batch of three", 5*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 3 })
	if n := len(a.requests(t, "/OnArrivals")); n != 1 {
		t.Errorf("got %d invocations, want 1 batch holding all three", n)
	}
	// A lone message is sent after maxBatchWaitTime.
	start := time.Now()
	rcv.push(testMessage("m4", 4, "d"))
	waitFor(t, "the lone message", 5*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 4 })
	if waited := time.Since(start); waited < 1900*time.Millisecond {
		t.Errorf("a batch below minMessageBatchSize was sent after %s, want about maxBatchWaitTime (2s)", waited)
	}
}

func TestServiceBusRenewsLockWhileRunning(t *testing.T) {
	t.Parallel()
	fn := `{"bindings": [{"name": "msg", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection"}]}`
	rcv := newFakeReceiver()
	startServiceBusHost(t, basicHostJSON, fn, rcv, `{"sleep": {"OnArrivals": "1500ms"}}`)
	m := testMessage("m1", 1, "x")
	m.LockedUntil = ptr(testNow.Add(2 * time.Second)) // on the host clock: renewed every second
	rcv.push(m)
	waitFor(t, "the completion", 5*time.Second, func() bool { c, _ := rcv.settled(); return len(c) == 1 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.renewed < 1 {
		t.Errorf("lock renewed %d times during a 1.5s invocation with a 2s lock, want at least once", rcv.renewed)
	}
}
