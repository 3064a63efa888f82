package broker

import (
	"slices"
	"testing"
	"time"
)

// reopen closes b and opens a new broker on the same directory and clock.
func reopen(t *testing.T, b *Broker, dir string, clk *fakeClock) *Broker {
	t.Helper()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	nb, err := New(testConfig(), &Options{Now: clk.Now, DataDir: dir, MaxMessageSize: 1024})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { nb.Close() })
	return nb
}

func TestPersistenceRestoresEverything(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	b, err := New(testConfig(), &Options{Now: clk.Now, DataDir: dir, MaxMessageSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, b, "q",
		&Message{MessageID: "completed"},
		&Message{MessageID: "deferred", ApplicationProperties: map[string]any{"n": int32(7), "at": clk.Now(), "u": [16]byte{1}}},
		&Message{MessageID: "dead"},
		&Message{MessageID: "locked-at-crash", Raw: []byte{0, 1, 2, 255}, CorrelationID: "c", Subject: "s", TimeToLive: time.Minute},
		&Message{MessageID: "abandoned"},
	)
	got := mustAcquire(t, b, "q", PeekLock, 5)
	if err := b.Complete("q", got[0].LockToken); err != nil {
		t.Fatal(err)
	}
	if err := b.Defer("q", got[1].LockToken, map[string]any{"reason": "later", "count": uint16(2)}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeadLetter("q", got[2].LockToken, "Poison", "cannot parse", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Abandon("q", got[4].LockToken, map[string]any{"tries": 1.5}); err != nil {
		t.Fatal(err)
	}
	sched, err := b.Schedule("q", []*Message{msg("scheduled")}, clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	topicSched, err := b.Schedule("t", []*Message{msg("topic-scheduled")}, clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, b, "t", &Message{MessageID: "fanned", ApplicationProperties: map[string]any{"color": "red"}})
	mustSend(t, b, "plain", msg("rd1"), msg("rd2"))
	if rd := mustAcquire(t, b, "plain", ReceiveAndDelete, 1); len(rd) != 1 {
		t.Fatal("receive-and-delete returned nothing")
	}
	before := b.Stats()

	b = reopen(t, b, dir, clk)

	if after := b.Stats(); !slices.Equal(before, fixLocked(after, before)) {
		t.Errorf("stats after restart:\n got %+v\nwant %+v (locks released)", after, before)
	}
	// The messages that were locked or abandoned are available again; the
	// lock held at the crash did not count as a delivery attempt.
	avail := mustAcquire(t, b, "q", PeekLock, 10)
	if !slices.Equal(ids(avail), []string{"locked-at-crash", "abandoned"}) {
		t.Fatalf("available after restart: %v", ids(avail))
	}
	l := avail[0]
	if l.DeliveryCount != 0 || string(l.Raw) != "\x00\x01\x02\xff" || l.CorrelationID != "c" || l.Subject != "s" ||
		l.TimeToLive != time.Minute || !l.ExpiresAt.Equal(l.EnqueuedTime.Add(time.Minute)) || l.SequenceNumber != 4 {
		t.Errorf("restored message %+v", l)
	}
	if a := avail[1]; a.DeliveryCount != 1 || a.PropertiesModified["tries"] != 1.5 {
		t.Errorf("abandoned message dc=%d props=%v, want 1 and tries=1.5", a.DeliveryCount, a.PropertiesModified)
	}
	// Deferred, with property types intact.
	def, err := b.ReceiveDeferred("q", PeekLock, []int64{2})
	if err != nil {
		t.Fatalf("ReceiveDeferred after restart: %v", err)
	}
	d := def[0]
	if d.PropertiesModified["count"] != uint16(2) || d.ApplicationProperties["n"] != int32(7) ||
		!d.ApplicationProperties["at"].(time.Time).Equal(clk.Now()) || d.ApplicationProperties["u"] != [16]byte{1} {
		t.Errorf("deferred message properties %v / %v", d.ApplicationProperties, d.PropertiesModified)
	}
	// Dead-lettered.
	dl := acquireOne(t, b, "q/$deadletterqueue", "dead")
	if dl.DeadLetterReason != "Poison" || dl.DeadLetterDescription != "cannot parse" {
		t.Errorf("dead letter %q %q", dl.DeadLetterReason, dl.DeadLetterDescription)
	}
	// Scheduled (queue and topic) come due after the restart; cancelling
	// still works.
	if err := b.CancelScheduled("t", topicSched); err != nil {
		t.Fatalf("CancelScheduled after restart: %v", err)
	}
	acquireOne(t, b, "t/subscriptions/red", "fanned")
	acquireOne(t, b, "t/subscriptions/all", "fanned")
	// Receive-and-delete was durable.
	acquireOne(t, b, "plain", "rd2")
	// Sequence numbers continue; duplicate detection survived.
	seqs := mustSend(t, b, "q", msg("new"), msg("dead"))
	if seqs[0] != 7 || seqs[1] != 0 {
		t.Errorf("after restart sequence numbers %v, want [7 0] (dead is a duplicate)", seqs)
	}
	clk.Advance(time.Hour)
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	s := acquireOne(t, b, "q", "scheduled")
	if s.SequenceNumber != sched[0] {
		t.Errorf("scheduled seq %d, want %d", s.SequenceNumber, sched[0])
	}
	if got := mustAcquire(t, b, "t/subscriptions/all", PeekLock, 10); len(got) != 0 {
		t.Errorf("all got %v, want nothing (topic-scheduled was cancelled)", ids(got))
	}
}

// fixLocked returns got with the Locked counts of want, since locks do
// not survive a restart.
func fixLocked(got, want []EntityStats) []EntityStats {
	out := slices.Clone(got)
	for i := range out {
		if i < len(want) {
			out[i].Locked = want[i].Locked
		}
	}
	return out
}

func TestPersistenceTimedTransitions(t *testing.T) {
	// Lock expiry, TTL dead-lettering and MaxDeliveryCount moves made by
	// the clock are persisted too.
	dir := t.TempDir()
	clk := newFakeClock()
	b, err := New(testConfig(), &Options{Now: clk.Now, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, b, "q", &Message{MessageID: "expires", TimeToLive: time.Minute}, msg("lock-expires"))
	got := mustAcquire(t, b, "q", PeekLock, 2)
	if got[1].MessageID != "lock-expires" {
		t.Fatalf("acquired %v", ids(got))
	}
	if err := b.Complete("q", got[0].LockToken); err != nil {
		t.Fatal(err)
	}
	mustSend(t, b, "q", &Message{MessageID: "ttl", TimeToLive: 10 * time.Second})
	clk.Advance(31 * time.Second)
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	b = reopen(t, b, dir, clk)
	m := acquireOne(t, b, "q", "lock-expires")
	if m.DeliveryCount != 1 {
		t.Errorf("DeliveryCount after persisted lock expiry = %d, want 1", m.DeliveryCount)
	}
	d := acquireOne(t, b, "q/$deadletterqueue", "ttl")
	if d.DeadLetterReason != ReasonTTLExpired {
		t.Errorf("reason %q", d.DeadLetterReason)
	}
}

func TestPersistenceUnconfiguredEntityIsKept(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	b, err := New(testConfig(), &Options{Now: clk.Now, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, b, "plain", msg("kept"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Queues = cfg.Queues[:1] // "plain" removed
	b, err = New(cfg, &Options{Now: clk.Now, DataDir: dir})
	if err != nil {
		t.Fatalf("open with fewer entities: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = New(testConfig(), &Options{Now: clk.Now, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	acquireOne(t, b, "plain", "kept")
}

func TestStoreRejectsSecondOpen(t *testing.T) {
	dir := t.TempDir()
	b, err := New(testConfig(), &Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b2, err := New(testConfig(), &Options{DataDir: dir}); err == nil {
		b2.Close()
		t.Fatal("a second broker opened the same data directory")
	}
}

func TestStoreFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	b, err := New(testConfig(), &Options{Now: clk.Now, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustSend(t, b, "plain", msg("a"))
	m := acquireOne(t, b, "plain", "a")
	// Break the store underneath the broker.
	if err := b.store.db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send("plain", []*Message{msg("b")}); err == nil {
		t.Fatal("Send succeeded although the store is closed")
	}
	// Every later operation reports the failure, even ones that would not
	// write.
	if _, err := b.Peek("plain", 1, 10); err == nil {
		t.Fatal("Peek succeeded after a store failure")
	}
	if err := b.Complete("plain", m.LockToken); err == nil {
		t.Fatal("Complete succeeded after a store failure")
	}
}
