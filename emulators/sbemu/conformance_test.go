package sbemu_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/go-amqp"
)

func ptr[T any](v T) *T { return &v }

// conformance is the suite that any Service Bus namespace holding the
// entities of testConfig must pass, driven by azservicebus: TestConformance
// runs it against the emulator, TestAzureServiceBus against a real
// namespace (azure_test.go). Tests that need the emulator's clock or
// internals are separate Test functions.
var conformance = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"SendReceiveComplete", testSendReceiveComplete},
	{"BatchSend", testBatchSend},
	{"BatchBudgetAndOversize", testBatchBudgetAndOversize},
	{"PeekLockSettlement", testPeekLockSettlement},
	{"ReceiveAndDelete", testReceiveAndDelete},
	{"DuplicateDetection", testDuplicateDetection},
	{"PeekOrder", testPeekOrder},
	{"TopicSubscriptions", testTopicSubscriptions},
	{"Errors", testErrors},
	{"ConcurrentSendersReceivers", testConcurrentSendersReceivers},
}

// runConformance runs every conformance test on a fresh env from newEnv.
func runConformance(t *testing.T, newEnv func(t *testing.T) *env) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t)) })
	}
}

// TestConformance runs the suite against an in-process emulator.
func TestConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) *env { return newEnv(t, nil) })
}

func testSendReceiveComplete(t *testing.T, e *env) {
	s := e.sender(t, "q1")
	send(t, s, &azservicebus.Message{Body: []byte("hello"), MessageID: ptr("m1"), CorrelationID: ptr("c1"),
		ContentType: ptr("text/plain"), To: ptr("to"), ReplyTo: ptr("rt"), TimeToLive: ptr(time.Minute),
		ApplicationProperties: map[string]any{"k": "v", "n": int64(3), "f": 1.5, "b": true}, Subject: ptr("subj")})
	r := e.receiver(t, "q1", nil)
	got := receiveN(t, r, 1)[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"body", string(got.Body), "hello"},
		{"message id", got.MessageID, "m1"},
		{"correlation id", *got.CorrelationID, "c1"},
		{"content type", *got.ContentType, "text/plain"},
		{"to", *got.To, "to"},
		{"reply to", *got.ReplyTo, "rt"},
		{"subject", *got.Subject, "subj"},
		{"ttl", *got.TimeToLive, time.Minute},
		{"app prop string", got.ApplicationProperties["k"], "v"},
		{"app prop long", got.ApplicationProperties["n"], int64(3)},
		{"app prop double", got.ApplicationProperties["f"], 1.5},
		{"app prop bool", got.ApplicationProperties["b"], true},
		{"delivery count", got.DeliveryCount, uint32(1)},
		{"sequence number set", got.SequenceNumber != nil && *got.SequenceNumber > 0, true},
		{"enqueued time set", got.EnqueuedTime != nil && time.Since(*got.EnqueuedTime) < time.Minute, true},
		{"locked until in future", got.LockedUntil != nil && got.LockedUntil.After(time.Now()), true},
		{"state", got.State, azservicebus.MessageStateActive},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := r.CompleteMessage(ctxT(t, 5*time.Second), got, nil); err != nil {
		t.Fatalf("CompleteMessage: %v", err)
	}
	expectNone(t, r, 300*time.Millisecond)
}

func isCondition(err error, cond amqp.ErrCond) bool {
	var aErr *amqp.Error
	return errors.As(err, &aErr) && aErr.Condition == cond
}

func isCode(err error, code azservicebus.Code) bool {
	var sbErr *azservicebus.Error
	return errors.As(err, &sbErr) && sbErr.Code == code
}

func testBatchSend(t *testing.T, e *env) {
	s := e.sender(t, "q1")
	b, err := s.NewMessageBatch(ctxT(t, 5*time.Second), nil)
	if err != nil {
		t.Fatalf("NewMessageBatch: %v", err)
	}
	for i := range 20 {
		if err := b.AddMessage(&azservicebus.Message{Body: fmt.Appendf(nil, "m%02d", i),
			ApplicationProperties: map[string]any{"i": int64(i)}}, nil); err != nil {
			t.Fatalf("AddMessage %d: %v", i, err)
		}
	}
	if err := s.SendMessageBatch(ctxT(t, 5*time.Second), b, nil); err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	r := e.receiver(t, "q1", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	got := receiveN(t, r, 20)
	var prev int64
	for i, m := range got {
		if want := fmt.Sprintf("m%02d", i); string(m.Body) != want || m.ApplicationProperties["i"] != int64(i) {
			t.Errorf("message %d = %q %v, want %q", i, m.Body, m.ApplicationProperties, want)
		}
		if *m.SequenceNumber <= prev {
			t.Errorf("sequence numbers not increasing: %d after %d", *m.SequenceNumber, prev)
		}
		prev = *m.SequenceNumber
	}
}

func testBatchBudgetAndOversize(t *testing.T, e *env) {
	s := e.sender(t, "q1")
	b, err := s.NewMessageBatch(ctxT(t, 5*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddMessage(&azservicebus.Message{Body: make([]byte, 300*1024)}, nil); !errors.Is(err, azservicebus.ErrMessageTooLarge) {
		t.Fatalf("AddMessage(300 KiB) error = %v, want ErrMessageTooLarge", err)
	}
	err = s.SendMessage(ctxT(t, 5*time.Second), &azservicebus.Message{Body: make([]byte, 300*1024)}, nil)
	if !errors.Is(err, azservicebus.ErrMessageTooLarge) {
		t.Fatalf("SendMessage(300 KiB) error = %v, want ErrMessageTooLarge", err)
	}
	// A message close to the limit is split over several frames and arrives intact.
	big := []byte(strings.Repeat("0123456789abcdef", 200*1024/16))
	send(t, s, &azservicebus.Message{Body: big})
	r := e.receiver(t, "q1", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	if got := receiveN(t, r, 1)[0]; string(got.Body) != string(big) {
		t.Fatalf("big body corrupted: got %d bytes", len(got.Body))
	}
}

func testPeekLockSettlement(t *testing.T, e *env) {
	s := e.sender(t, "q1")
	r := e.receiver(t, "q1", nil)
	ctx := ctxT(t, 20*time.Second)

	t.Run("abandon redelivers with higher delivery count and modified properties", func(t *testing.T) {
		send(t, s, &azservicebus.Message{Body: []byte("a")})
		m := receiveN(t, r, 1)[0]
		if err := r.AbandonMessage(ctx, m, &azservicebus.AbandonMessageOptions{PropertiesToModify: map[string]any{"why": "retry"}}); err != nil {
			t.Fatalf("AbandonMessage: %v", err)
		}
		again := receiveN(t, r, 1)[0]
		if again.DeliveryCount != 2 || again.ApplicationProperties["why"] != "retry" || *again.SequenceNumber != *m.SequenceNumber {
			t.Fatalf("redelivered count=%d props=%v seq=%d, want 2, why=retry, seq %d", again.DeliveryCount,
				again.ApplicationProperties, *again.SequenceNumber, *m.SequenceNumber)
		}
		if err := r.CompleteMessage(ctx, again, nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("dead letter goes to the DLQ with reason and description", func(t *testing.T) {
		send(t, s, &azservicebus.Message{Body: []byte("d")})
		m := receiveN(t, r, 1)[0]
		if err := r.DeadLetterMessage(ctx, m, &azservicebus.DeadLetterOptions{Reason: ptr("bad"), ErrorDescription: ptr("very bad"),
			PropertiesToModify: map[string]any{"extra": int64(7)}}); err != nil {
			t.Fatalf("DeadLetterMessage: %v", err)
		}
		dlq := e.receiver(t, "q1", &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
		dm := receiveN(t, dlq, 1)[0]
		if string(dm.Body) != "d" || *dm.DeadLetterReason != "bad" || *dm.DeadLetterErrorDescription != "very bad" ||
			dm.ApplicationProperties["extra"] != int64(7) {
			t.Fatalf("DLQ message = %q reason=%v desc=%v props=%v", dm.Body, dm.DeadLetterReason, dm.DeadLetterErrorDescription, dm.ApplicationProperties)
		}
		if err := dlq.CompleteMessage(ctx, dm, nil); err != nil {
			t.Fatalf("complete from DLQ: %v", err)
		}
	})

	t.Run("defer then receive deferred and complete", func(t *testing.T) {
		send(t, s, &azservicebus.Message{Body: []byte("f")})
		m := receiveN(t, r, 1)[0]
		if err := r.DeferMessage(ctx, m, nil); err != nil {
			t.Fatalf("DeferMessage: %v", err)
		}
		expectNone(t, r, 200*time.Millisecond)
		got, err := r.ReceiveDeferredMessages(ctx, []int64{*m.SequenceNumber}, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("ReceiveDeferredMessages = %d, %v", len(got), err)
		}
		if string(got[0].Body) != "f" || got[0].State != azservicebus.MessageStateDeferred {
			t.Fatalf("deferred message = %q state %v", got[0].Body, got[0].State)
		}
		if err := r.CompleteMessage(ctx, got[0], nil); err != nil {
			t.Fatalf("complete deferred: %v", err)
		}
		if _, err := r.ReceiveDeferredMessages(ctx, []int64{*m.SequenceNumber}, nil); err == nil {
			t.Fatal("receiving a completed deferred message succeeded")
		}
	})

	t.Run("renew lock extends locked until", func(t *testing.T) {
		send(t, s, &azservicebus.Message{Body: []byte("r")})
		m := receiveN(t, r, 1)[0]
		before := *m.LockedUntil
		time.Sleep(20 * time.Millisecond)
		if err := r.RenewMessageLock(ctx, m, nil); err != nil {
			t.Fatalf("RenewMessageLock: %v", err)
		}
		if !m.LockedUntil.After(before) {
			t.Fatalf("LockedUntil %v not after %v", m.LockedUntil, before)
		}
		if err := r.CompleteMessage(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.RenewMessageLock(ctx, m, nil); !isCode(err, azservicebus.CodeLockLost) {
			t.Fatalf("renew after complete error = %v, want lock lost", err)
		}
	})
}

func testReceiveAndDelete(t *testing.T, e *env) {
	send(t, e.sender(t, "q1"), &azservicebus.Message{Body: []byte("x")}, &azservicebus.Message{Body: []byte("y")})
	r := e.receiver(t, "q1", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	got := receiveN(t, r, 2)
	if string(got[0].Body) != "x" || string(got[1].Body) != "y" {
		t.Fatalf("bodies = %q, %q", got[0].Body, got[1].Body)
	}
	r2 := e.receiver(t, "q1", nil)
	expectNone(t, r2, 200*time.Millisecond)
}

func TestLockExpiryRedeliveryAndMaxDelivery(t *testing.T) {
	e, clk := newClockEnv(t)
	send(t, e.sender(t, "q2"), &azservicebus.Message{Body: []byte("x")})
	r := e.receiver(t, "q2", nil)
	m := receiveN(t, r, 1)[0]
	e.advance(t, clk, 6*time.Second) // q2 lock is 5 s
	if err := r.CompleteMessage(ctxT(t, 5*time.Second), m, nil); !isCode(err, azservicebus.CodeLockLost) {
		t.Fatalf("complete after lock expiry error = %v, want lock lost", err)
	}
	again := receiveN(t, r, 1)[0]
	if again.DeliveryCount != 2 {
		t.Fatalf("redelivery DeliveryCount = %d, want 2", again.DeliveryCount)
	}
	// MaxDeliveryCount 2: one more failed attempt dead-letters it.
	if err := r.AbandonMessage(ctxT(t, 5*time.Second), again, nil); err != nil {
		t.Fatal(err)
	}
	expectNone(t, r, 200*time.Millisecond)
	dlq := e.receiver(t, "q2", &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter,
		ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	dm := receiveN(t, dlq, 1)[0]
	if dm.DeadLetterReason == nil || *dm.DeadLetterReason != "MaxDeliveryCountExceeded" {
		t.Fatalf("DLQ reason = %v, want MaxDeliveryCountExceeded", dm.DeadLetterReason)
	}
}

func TestTTLExpiryToDLQ(t *testing.T) {
	e, clk := newClockEnv(t)
	s := e.sender(t, "ttl")
	send(t, s, &azservicebus.Message{Body: []byte("short"), TimeToLive: ptr(2 * time.Second)},
		&azservicebus.Message{Body: []byte("long")})
	e.advance(t, clk, 3*time.Second)
	r := e.receiver(t, "ttl", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	if got := receiveN(t, r, 1)[0]; string(got.Body) != "long" {
		t.Fatalf("received %q, want the unexpired message", got.Body)
	}
	dlq := e.receiver(t, "ttl", &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
	dm := receiveN(t, dlq, 1)[0]
	if string(dm.Body) != "short" || dm.DeadLetterReason == nil || *dm.DeadLetterReason != "TTLExpiredException" {
		t.Fatalf("DLQ message %q reason %v, want short / TTLExpiredException", dm.Body, dm.DeadLetterReason)
	}
}

func testDuplicateDetection(t *testing.T, e *env) {
	s := e.sender(t, "dedup")
	send(t, s, &azservicebus.Message{Body: []byte("1"), MessageID: ptr("same")},
		&azservicebus.Message{Body: []byte("2"), MessageID: ptr("same")},
		&azservicebus.Message{Body: []byte("3"), MessageID: ptr("other")})
	r := e.receiver(t, "dedup", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	got := receiveN(t, r, 2)
	if string(got[0].Body) != "1" || string(got[1].Body) != "3" {
		t.Fatalf("bodies = %q, %q; want 1, 3", got[0].Body, got[1].Body)
	}
	expectNone(t, r, 200*time.Millisecond)
}

func TestScheduleAndCancel(t *testing.T) {
	e, clk := newClockEnv(t)
	s := e.sender(t, "q1")
	ctx := ctxT(t, 10*time.Second)
	at := clk.Now().Add(time.Minute)
	seqs, err := s.ScheduleMessages(ctx, []*azservicebus.Message{{Body: []byte("later")}, {Body: []byte("cancelled")}}, at, nil)
	if err != nil || len(seqs) != 2 {
		t.Fatalf("ScheduleMessages = %v, %v", seqs, err)
	}
	if err := s.CancelScheduledMessages(ctx, seqs[1:], nil); err != nil {
		t.Fatalf("CancelScheduledMessages: %v", err)
	}
	if err := s.CancelScheduledMessages(ctx, seqs[1:], nil); err == nil {
		t.Fatal("cancelling twice succeeded")
	}
	// A plain send with a future scheduled time is scheduled too.
	send(t, s, &azservicebus.Message{Body: []byte("annotated"), ScheduledEnqueueTime: ptr(at.Add(time.Minute))})

	r := e.receiver(t, "q1", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	peeked, err := r.PeekMessages(ctx, 10, nil)
	if err != nil || len(peeked) != 2 || peeked[0].State != azservicebus.MessageStateScheduled {
		t.Fatalf("PeekMessages = %d messages (%v); want 2 scheduled", len(peeked), err)
	}
	expectNone(t, r, 200*time.Millisecond)
	e.advance(t, clk, time.Minute+time.Second)
	if got := receiveN(t, r, 1)[0]; string(got.Body) != "later" {
		t.Fatalf("got %q, want later", got.Body)
	}
	expectNone(t, r, 200*time.Millisecond)
	e.advance(t, clk, time.Minute)
	if got := receiveN(t, r, 1)[0]; string(got.Body) != "annotated" {
		t.Fatalf("got %q, want annotated", got.Body)
	}
}

func testPeekOrder(t *testing.T, e *env) {
	s := e.sender(t, "q1")
	for i := range 5 {
		send(t, s, &azservicebus.Message{Body: fmt.Appendf(nil, "%d", i)})
	}
	r := e.receiver(t, "q1", nil)
	locked := receiveN(t, r, 1)[0] // locked messages are still peeked
	ctx := ctxT(t, 10*time.Second)
	first, err := r.PeekMessages(ctx, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := r.PeekMessages(ctx, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := append(first, rest...)
	if len(all) != 5 {
		t.Fatalf("peeked %d messages, want 5", len(all))
	}
	for i, m := range all {
		if string(m.Body) != fmt.Sprint(i) || m.LockToken != ([16]byte{}) {
			t.Errorf("peek %d = %q (lock %x)", i, m.Body, m.LockToken)
		}
	}
	if more, err := r.PeekMessages(ctx, 10, nil); err != nil || len(more) != 0 {
		t.Fatalf("peek past the end = %d, %v; want none", len(more), err)
	}
	if err := r.CompleteMessage(ctx, locked, nil); err != nil {
		t.Fatal(err)
	}
}

func testTopicSubscriptions(t *testing.T, e *env) {
	s := e.sender(t, "t1")
	send(t, s, &azservicebus.Message{Body: []byte("red"), ApplicationProperties: map[string]any{"color": "red"}},
		&azservicebus.Message{Body: []byte("blue"), ApplicationProperties: map[string]any{"color": "blue"}})
	all := receiveN(t, e.subReceiver(t, "t1", "all", nil), 2)
	red := e.subReceiver(t, "t1", "red", nil)
	got := receiveN(t, red, 1)
	if string(all[0].Body) != "red" || string(all[1].Body) != "blue" || string(got[0].Body) != "red" {
		t.Fatalf("all = %q %q, red = %q", all[0].Body, all[1].Body, got[0].Body)
	}
	expectNone(t, red, 200*time.Millisecond)
}

func testErrors(t *testing.T, e *env) {
	ctx := ctxT(t, 20*time.Second)
	t.Run("wrong key is unauthorized", func(t *testing.T) {
		c := e.newClient(t, "WRONG_KEY")
		s, err := c.NewSender(e.entity(t, "q1"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		err = s.SendMessage(ctx, &azservicebus.Message{Body: []byte("x")}, nil)
		if !isCode(err, azservicebus.CodeUnauthorizedAccess) {
			t.Fatalf("send with wrong key error = %v, want unauthorized", err)
		}
	})
	t.Run("unknown entity is not found", func(t *testing.T) {
		// The service refuses the $cbs token for a missing entity with 404,
		// which azservicebus reports as CodeNotFound ("the entity you're
		// attempting to connect to doesn't exist"). A refused attach (the
		// raw *amqp.Error amqp:not-found) is covered in pipe_test.go.
		for _, name := range []string{"no-such-queue", "no-such-topic"} {
			err := e.sender(t, name).SendMessage(ctx, &azservicebus.Message{Body: []byte("x")}, nil)
			if !isCode(err, azservicebus.CodeNotFound) {
				t.Errorf("send to %s error = %v, want CodeNotFound", name, err)
			}
		}
		if _, err := e.receiver(t, "no-such-queue", nil).ReceiveMessages(ctx, 1, nil); !isCode(err, azservicebus.CodeNotFound) {
			t.Errorf("receive from an unknown queue error = %v, want CodeNotFound", err)
		}
		if _, err := e.subReceiver(t, "t1", "no-such-subscription", nil).ReceiveMessages(ctx, 1, nil); !isCode(err, azservicebus.CodeNotFound) {
			t.Errorf("receive from an unknown subscription error = %v, want CodeNotFound", err)
		}
	})
	t.Run("send to subscription is not allowed", func(t *testing.T) {
		s := e.sender(t, "t1/Subscriptions/all")
		if err := s.SendMessage(ctx, &azservicebus.Message{Body: []byte("x")}, nil); !isCondition(err, amqp.ErrCondNotAllowed) {
			t.Fatalf("send to a subscription error = %v, want amqp:not-allowed", err)
		}
	})
}

func testConcurrentSendersReceivers(t *testing.T, e *env) {
	load := e.entity(t, "load")
	const senders, perSender, receivers = 4, 50, 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errc := make(chan error, senders+receivers)
	for i := range senders {
		go func() {
			s, err := e.client.NewSender(load, nil)
			if err != nil {
				errc <- err
				return
			}
			defer s.Close(ctx)
			for j := range perSender {
				if err := s.SendMessage(ctx, &azservicebus.Message{Body: fmt.Appendf(nil, "%d-%d", i, j)}, nil); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	seen := make(chan string, senders*perSender*2)
	for range receivers {
		go func() {
			r, err := e.client.NewReceiverForQueue(load, nil)
			if err != nil {
				errc <- err
				return
			}
			defer r.Close(ctx)
			for ctx.Err() == nil {
				ms, err := r.ReceiveMessages(ctx, 10, nil)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					errc <- err
					return
				}
				for _, m := range ms {
					if err := r.CompleteMessage(ctx, m, nil); err != nil {
						errc <- err
						return
					}
					seen <- string(m.Body)
				}
			}
			errc <- nil
		}()
	}
	for range senders {
		if err := <-errc; err != nil {
			t.Fatalf("sender: %v", err)
		}
	}
	got := map[string]int{}
	for len(got) < senders*perSender {
		select {
		case b := <-seen:
			got[b]++
			if got[b] > 1 {
				t.Fatalf("message %s delivered twice", b)
			}
		case <-ctx.Done():
			t.Fatalf("received %d distinct messages, want %d", len(got), senders*perSender)
		}
	}
	cancel()
	for range receivers {
		if err := <-errc; err != nil {
			t.Errorf("receiver: %v", err)
		}
	}
	select {
	case b := <-seen:
		t.Fatalf("extra delivery %s", b)
	default:
	}
}
