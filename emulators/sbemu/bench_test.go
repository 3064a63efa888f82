package sbemu_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

var body1K = make([]byte, 1024)

// sendBatched sends n 1 KiB messages in as few batches as the budget allows.
func sendBatched(tb testing.TB, s *azservicebus.Sender, n int) {
	tb.Helper()
	ctx := context.Background()
	for n > 0 {
		batch, err := s.NewMessageBatch(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for n > 0 {
			err := batch.AddMessage(&azservicebus.Message{Body: body1K}, nil)
			if err != nil {
				break // batch full
			}
			n--
		}
		if err := s.SendMessageBatch(ctx, batch, nil); err != nil {
			tb.Fatal(err)
		}
	}
}

// rate runs fn over n messages and returns messages per second.
func rate(n int, fn func()) float64 {
	start := time.Now()
	fn()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkSendBatched reports batched send throughput and its ratio to
// single-message sends measured in the same run.
func BenchmarkSendBatched(b *testing.B) {
	e := newEnv(b, nil)
	s := e.sender(b, "load")
	const baselineN = 200
	single := rate(baselineN, func() {
		for range baselineN {
			if err := s.SendMessage(context.Background(), &azservicebus.Message{Body: body1K}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ResetTimer()
	batched := rate(b.N, func() { sendBatched(b, s, b.N) })
	b.StopTimer()
	b.ReportMetric(batched, "msgs/s")
	b.ReportMetric(batched/single, "x_single_send")
}

// BenchmarkReceiveComplete reports peek-lock receive+complete throughput
// and its ratio to receive-and-delete measured in the same run.
func BenchmarkReceiveComplete(b *testing.B) {
	e := newEnv(b, nil)
	s := e.sender(b, "load")
	const baselineN = 500
	sendBatched(b, s, baselineN)
	rd := e.receiver(b, "load", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	del := rate(baselineN, func() { drain(b, rd, baselineN, false) })
	sendBatched(b, s, b.N)
	r := e.receiver(b, "load", nil)
	b.ResetTimer()
	pl := rate(b.N, func() { drain(b, r, b.N, true) })
	b.StopTimer()
	b.ReportMetric(pl, "msgs/s")
	b.ReportMetric(pl/del, "x_receive_and_delete")
}

func drain(tb testing.TB, r *azservicebus.Receiver, n int, complete bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for got := 0; got < n; {
		ms, err := r.ReceiveMessages(ctx, min(n-got, 500), nil)
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range ms {
			if complete {
				if err := r.CompleteMessage(ctx, m, nil); err != nil {
					tb.Fatal(err)
				}
			}
		}
		got += len(ms)
	}
}

// BenchmarkQueuedMemory reports the heap held by 100,000 queued 1 KiB
// messages, per message and as a ratio to the body bytes. Each iteration
// queues 100,000 messages: run it with -benchtime 1x.
func BenchmarkQueuedMemory(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		e := newEnv(b, nil)
		s := e.sender(b, "load")
		b.StartTimer()
		sendBatched(b, s, n)
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		held := float64(after.HeapInuse) - float64(before.HeapInuse)
		b.ReportMetric(held/n, "heap_B/msg")
		b.ReportMetric(held/(n*float64(len(body1K))), "x_body_bytes")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		e.srv.Close(ctx)
		cancel()
	}
}
