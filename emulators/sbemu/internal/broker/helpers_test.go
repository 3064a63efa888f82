package broker

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testConfig has a queue "q" (lock 30s, max delivery 3, TTL 1h,
// dead-lettering on expiry, duplicate detection 1m), a plain queue
// "plain", and a topic "t" with subscriptions "all" (default rule), "red"
// (correlation filter on color) and "big" (SQL filter size > 10).
func testConfig() *Config {
	qp := DefaultProperties()
	qp.LockDuration = 30 * time.Second
	qp.DeadLetteringOnMessageExpiration = true
	qp.RequiresDuplicateDetection = true
	qp.DuplicateDetectionHistoryTimeWindow = time.Minute
	sp := DefaultProperties()
	sp.DuplicateDetectionHistoryTimeWindow = 0
	return &Config{
		Namespace: NamespaceName,
		Queues: []QueueConfig{
			{Name: "q", Properties: qp},
			{Name: "plain", Properties: DefaultProperties()},
		},
		Topics: []TopicConfig{{
			Name:       "t",
			Properties: DefaultProperties(),
			Subscriptions: []SubscriptionConfig{
				{Name: "all", Properties: sp},
				{Name: "red", Properties: sp, Rules: []RuleConfig{{Name: "red", FilterType: FilterCorrelation,
					Correlation: &CorrelationFilter{Properties: map[string]any{"color": "red"}}}}},
				{Name: "big", Properties: sp, Rules: []RuleConfig{{Name: "big", FilterType: FilterSQL, SQL: "size > 10"}}},
			},
		}},
	}
}

func newTestBroker(t *testing.T, cfg *Config, dir string) (*Broker, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	b, err := New(cfg, &Options{Now: clk.Now, DataDir: dir, MaxMessageSize: 1024})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b, clk
}

func msg(id string) *Message {
	return &Message{MessageID: id, Raw: []byte("body-" + id)}
}

func mustSend(t *testing.T, b *Broker, path string, msgs ...*Message) []int64 {
	t.Helper()
	seqs, err := b.Send(path, msgs)
	if err != nil {
		t.Fatalf("Send(%s): %v", path, err)
	}
	return seqs
}

func mustAcquire(t *testing.T, b *Broker, path string, mode ReceiveMode, max int) []*Message {
	t.Helper()
	got, err := b.Acquire(path, mode, max)
	if err != nil {
		t.Fatalf("Acquire(%s): %v", path, err)
	}
	return got
}

// acquireOne acquires exactly one message with the wanted ID.
func acquireOne(t *testing.T, b *Broker, path, wantID string) *Message {
	t.Helper()
	got := mustAcquire(t, b, path, PeekLock, 10)
	if len(got) != 1 || got[0].MessageID != wantID {
		t.Fatalf("Acquire(%s) = %v, want exactly message %q", path, ids(got), wantID)
	}
	return got[0]
}

func ids(ms []*Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.MessageID
	}
	return out
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func statsOf(t *testing.T, b *Broker, name string) EntityStats {
	t.Helper()
	for _, s := range b.Stats() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stats for %q", name)
	return EntityStats{}
}
