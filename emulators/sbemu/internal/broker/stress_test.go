package broker

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentProducersConsumers runs N producers and M consumers (with
// abandons, so messages are redelivered) and checks that every message is
// completed exactly once. Run it with -race.
func TestConcurrentProducersConsumers(t *testing.T) {
	tests := []struct {
		name                string
		disk                bool
		producers, perProd  int
		consumers, maxBatch int
	}{
		{"memory", false, 8, 300, 8, 10},
		{"disk", true, 4, 50, 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultProperties()
			p.MaxDeliveryCount = 10
			cfg := &Config{Namespace: NamespaceName, Queues: []QueueConfig{{Name: "work", Properties: p}}}
			dir := ""
			if tt.disk {
				dir = t.TempDir()
			}
			b, err := New(cfg, &Options{DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			total := tt.producers * tt.perProd

			var mu sync.Mutex
			completed := map[string]int{}
			done := make(chan struct{})
			var closeDone sync.Once

			var wg sync.WaitGroup
			errs := make(chan error, tt.producers+tt.consumers)
			for p := range tt.producers {
				wg.Go(func() {
					for i := 0; i < tt.perProd; {
						n := min(1+rand.IntN(5), tt.perProd-i)
						batch := make([]*Message, n)
						for j := range batch {
							batch[j] = &Message{MessageID: fmt.Sprintf("p%d-%d", p, i+j), Raw: []byte("x")}
						}
						if _, err := b.Send("work", batch); err != nil {
							errs <- err
							return
						}
						i += n
					}
				})
			}
			for range tt.consumers {
				wg.Go(func() {
					for {
						w := b.Wait("work")
						msgs, err := b.Acquire("work", PeekLock, 1+rand.IntN(tt.maxBatch))
						if err != nil {
							errs <- err
							return
						}
						if len(msgs) == 0 {
							select {
							case <-w:
								continue
							case <-done:
								return
							}
						}
						for _, m := range msgs {
							if m.DeliveryCount == 0 && rand.IntN(5) == 0 {
								if err := b.Abandon("work", m.LockToken, nil); err != nil {
									errs <- err
									return
								}
								continue
							}
							if err := b.Complete("work", m.LockToken); err != nil {
								errs <- err
								return
							}
							mu.Lock()
							completed[m.MessageID]++
							if len(completed) == total {
								closeDone.Do(func() { close(done) })
							}
							mu.Unlock()
						}
					}
				})
			}
			select {
			case <-done:
			case err := <-errs:
				closeDone.Do(func() { close(done) })
				wg.Wait()
				t.Fatal(err)
			case <-time.After(30 * time.Second):
				closeDone.Do(func() { close(done) })
				wg.Wait()
				t.Fatalf("timed out with %d of %d messages completed", len(completed), total)
			}
			wg.Wait()
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
			for id, n := range completed {
				if n != 1 {
					t.Errorf("message %s completed %d times", id, n)
				}
			}
			if len(completed) != total {
				t.Errorf("completed %d distinct messages, want %d", len(completed), total)
			}
			if s := statsOf(t, b, "work"); s.Active != 0 || s.DeadLettered != 0 {
				t.Errorf("left over: %+v", s)
			}
		})
	}
}
