package sbemu_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/emulators/sbemu"
)

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg, err := sbemu.LoadConfig([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	first := newEnv(t, &sbemu.Options{DataDir: dir, Config: cfg})
	send(t, first.sender(t, "q1"), &azservicebus.Message{Body: []byte("durable"), MessageID: ptr("d1")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first.client.Close(ctx)
	if err := first.srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := newEnv(t, &sbemu.Options{DataDir: dir, Config: cfg})
	r := second.receiver(t, "q1", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	got := receiveN(t, r, 1)[0]
	if string(got.Body) != "durable" || got.MessageID != "d1" {
		t.Fatalf("after restart got %q id %q", got.Body, got.MessageID)
	}
}

func TestCloseWithConnectedClients(t *testing.T) {
	e := newEnv(t, nil)
	r := e.receiver(t, "q1", nil)
	type result struct {
		n   int
		err error
	}
	recvDone := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ms, err := r.ReceiveMessages(ctx, 1, nil)
		recvDone <- result{len(ms), err}
	}()
	time.Sleep(100 * time.Millisecond) // let the receive park on the broker
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := e.srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Close took %v", el)
	}
	// The client sees amqp:connection:forced, which azservicebus treats as
	// recoverable: the pending receive ends early with no messages.
	select {
	case res := <-recvDone:
		if res.n != 0 {
			t.Fatalf("receive on a closed server returned %d messages", res.n)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("receive still blocked after server Close")
	}
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer scancel()
	if err := e.sender(t, "q1").SendMessage(sctx, &azservicebus.Message{Body: []byte("x")}, nil); err == nil {
		t.Fatal("send to a closed server succeeded")
	}
	if err := e.srv.ServeAMQP(mustListen(t)); !errors.Is(err, sbemu.ErrServerClosed) {
		t.Fatalf("ServeAMQP after Close = %v, want ErrServerClosed", err)
	}
}

func mustListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestManagementSettlementOfDeferred(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t, 20*time.Second)
	s := e.sender(t, "t1")
	send(t, s, &azservicebus.Message{Body: []byte("x")}, &azservicebus.Message{Body: []byte("y")})
	r := e.subReceiver(t, "t1", "all", nil)
	ms := receiveN(t, r, 2)
	for _, m := range ms {
		if err := r.DeferMessage(ctx, m, nil); err != nil {
			t.Fatalf("DeferMessage: %v", err)
		}
	}
	deferred, err := r.ReceiveDeferredMessages(ctx, []int64{*ms[0].SequenceNumber, *ms[1].SequenceNumber}, nil)
	if err != nil || len(deferred) != 2 {
		t.Fatalf("ReceiveDeferredMessages = %d, %v", len(deferred), err)
	}
	// Deferred messages settle through $management update-disposition.
	if err := r.DeadLetterMessage(ctx, deferred[0], &azservicebus.DeadLetterOptions{Reason: ptr("why")}); err != nil {
		t.Fatalf("dead-letter deferred: %v", err)
	}
	if err := r.AbandonMessage(ctx, deferred[1], nil); err != nil {
		t.Fatalf("abandon deferred: %v", err)
	}
	dlq := e.subReceiver(t, "t1", "all", &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
	dm := receiveN(t, dlq, 1)[0]
	if string(dm.Body) != "x" || *dm.DeadLetterReason != "why" {
		t.Fatalf("subscription DLQ message %q reason %v", dm.Body, dm.DeadLetterReason)
	}
	// An abandoned deferred message stays deferred.
	again, err := r.ReceiveDeferredMessages(ctx, []int64{*ms[1].SequenceNumber}, nil)
	if err != nil || len(again) != 1 || again[0].DeliveryCount < 2 {
		t.Fatalf("re-receive abandoned deferred = %v, %v", again, err)
	}
	if err := r.CompleteMessage(ctx, again[0], nil); err != nil {
		t.Fatal(err)
	}
	if err := r.CompleteMessage(ctx, again[0], nil); !isCode(err, azservicebus.CodeLockLost) {
		t.Fatalf("completing twice via $management = %v, want lock lost", err)
	}
}
