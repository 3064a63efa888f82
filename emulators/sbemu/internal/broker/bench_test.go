package broker

import (
	"fmt"
	"testing"
)

func benchBroker(b *testing.B, disk bool) *Broker {
	b.Helper()
	p := DefaultProperties()
	cfg := &Config{Namespace: NamespaceName, Queues: []QueueConfig{{Name: "q", Properties: p}}}
	dir := ""
	if disk {
		dir = b.TempDir()
	}
	br, err := New(cfg, &Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	return br
}

func benchBatch(n, size int) []*Message {
	body := make([]byte, size)
	batch := make([]*Message, n)
	for i := range batch {
		batch[i] = &Message{MessageID: fmt.Sprint(i), Raw: body, ApplicationProperties: map[string]any{"k": "v"}}
	}
	return batch
}

// BenchmarkSendBatch sends batches of 100 1-KiB messages (one store
// transaction per batch with a data directory).
func BenchmarkSendBatch(b *testing.B) {
	for _, disk := range []bool{false, true} {
		b.Run(map[bool]string{false: "memory", true: "disk"}[disk], func(b *testing.B) {
			br := benchBroker(b, disk)
			batch := benchBatch(100, 1024)
			b.SetBytes(100 * 1024)
			b.ResetTimer()
			for range b.N {
				if _, err := br.Send("q", batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkAcquireComplete acquires and completes one message at a time
// from a pre-filled queue.
func BenchmarkAcquireComplete(b *testing.B) {
	for _, disk := range []bool{false, true} {
		b.Run(map[bool]string{false: "memory", true: "disk"}[disk], func(b *testing.B) {
			br := benchBroker(b, disk)
			batch := benchBatch(500, 1024)
			for sent := 0; sent < b.N; sent += len(batch) {
				if _, err := br.Send("q", batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				msgs, err := br.Acquire("q", PeekLock, 1)
				if err != nil || len(msgs) != 1 {
					b.Fatalf("Acquire = %d messages, %v", len(msgs), err)
				}
				if err := br.Complete("q", msgs[0].LockToken); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
