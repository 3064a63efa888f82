package broker

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	cfg := testConfig()
	sess := DefaultProperties()
	sess.RequiresSession = true
	cfg.Queues = append(cfg.Queues, QueueConfig{Name: "sessions", Properties: sess})
	b, _ := newTestBroker(t, cfg, "")
	tests := []struct {
		name    string
		path    string
		want    EntityRef
		wantErr error
	}{
		{"queue", "q", EntityRef{Path: "q", Entity: "q", Kind: KindQueue}, nil},
		{"queue case-insensitive", "Q", EntityRef{Path: "q", Entity: "q", Kind: KindQueue}, nil},
		{"queue dlq as the Go client spells it", "q/$DeadLetterQueue", EntityRef{Path: "q/$deadletterqueue", Entity: "q", Kind: KindQueue, DeadLetter: true}, nil},
		{"topic", "t", EntityRef{Path: "t", Entity: "t", Kind: KindTopic}, nil},
		{"subscription", "t/Subscriptions/red", EntityRef{Path: "t/subscriptions/red", Entity: "t/subscriptions/red", Kind: KindSubscription}, nil},
		{"subscription dlq", "T/subscriptions/RED/$deadletterqueue", EntityRef{Path: "t/subscriptions/red/$deadletterqueue", Entity: "t/subscriptions/red", Kind: KindSubscription, DeadLetter: true}, nil},
		{"unknown queue", "nope", EntityRef{}, ErrEntityNotFound},
		{"unknown subscription", "t/subscriptions/nope", EntityRef{}, ErrEntityNotFound},
		{"topic has no dlq", "t/$deadletterqueue", EntityRef{}, ErrEntityNotFound},
		{"session queue", "sessions", EntityRef{}, ErrSessionsNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Resolve(tt.path)
			if tt.wantErr != nil {
				wantErr(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.path, err)
			}
			if got != tt.want {
				t.Errorf("Resolve(%q) = %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
}

func TestSendAcquireComplete(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	seqs := mustSend(t, b, "q", msg("a"), msg("b"), msg("c"))
	if !slices.Equal(seqs, []int64{1, 2, 3}) {
		t.Fatalf("sequence numbers = %v, want [1 2 3]", seqs)
	}
	got := mustAcquire(t, b, "q", PeekLock, 2)
	if !slices.Equal(ids(got), []string{"a", "b"}) {
		t.Fatalf("acquired %v, want [a b]", ids(got))
	}
	m := got[0]
	if m.SequenceNumber != 1 || m.DeliveryCount != 0 || m.State != StateActive {
		t.Errorf("first message seq=%d dc=%d state=%v, want 1, 0, active", m.SequenceNumber, m.DeliveryCount, m.State)
	}
	if want := clk.Now().Add(30 * time.Second); !m.LockedUntil.Equal(want) {
		t.Errorf("LockedUntil = %v, want %v", m.LockedUntil, want)
	}
	if !m.EnqueuedTime.Equal(clk.Now()) || !m.ExpiresAt.Equal(clk.Now().Add(time.Hour)) || m.TimeToLive != time.Hour {
		t.Errorf("enqueued %v expires %v ttl %v, want now, now+1h, 1h", m.EnqueuedTime, m.ExpiresAt, m.TimeToLive)
	}
	if m.LockToken == got[1].LockToken || m.LockToken == [16]byte{} || m.LockToken[6]>>4 != 4 {
		t.Errorf("lock tokens %x and %x: want distinct version-4 UUIDs", m.LockToken, got[1].LockToken)
	}
	if string(m.Raw) != "body-a" {
		t.Errorf("Raw = %q, want body-a", m.Raw)
	}
	if err := b.Complete("q", m.LockToken); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantErr(t, b.Complete("q", m.LockToken), ErrLockLost)
	wantErr(t, b.Complete("plain", got[1].LockToken), ErrLockLost) // locks are per entity
	if s := statsOf(t, b, "q"); s.Active != 2 || s.Locked != 1 {
		t.Errorf("stats active=%d locked=%d, want 2 and 1", s.Active, s.Locked)
	}
	rest := mustAcquire(t, b, "q", PeekLock, 10)
	if !slices.Equal(ids(rest), []string{"c"}) {
		t.Errorf("acquired %v, want [c]", ids(rest))
	}
}

func TestReceiveAndDelete(t *testing.T) {
	b, _ := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "plain", msg("a"), msg("b"))
	got := mustAcquire(t, b, "plain", ReceiveAndDelete, 10)
	if !slices.Equal(ids(got), []string{"a", "b"}) || got[0].LockToken != [16]byte{} {
		t.Fatalf("acquired %v (lock %x), want [a b] without lock", ids(got), got[0].LockToken)
	}
	if again := mustAcquire(t, b, "plain", PeekLock, 10); len(again) != 0 {
		t.Errorf("after receive-and-delete got %v, want nothing", ids(again))
	}
	if s := statsOf(t, b, "plain"); s.Active != 0 {
		t.Errorf("active = %d, want 0", s.Active)
	}
}

func TestAbandonRedeliversAndDeadLettersAtMaxDeliveryCount(t *testing.T) {
	b, _ := newTestBroker(t, testConfig(), "") // q: MaxDeliveryCount 3
	mustSend(t, b, "q", msg("a"))
	for attempt := range 3 {
		m := acquireOne(t, b, "q", "a")
		if m.DeliveryCount != uint32(attempt) {
			t.Fatalf("attempt %d: DeliveryCount = %d, want %d", attempt, m.DeliveryCount, attempt)
		}
		if err := b.Abandon("q", m.LockToken, map[string]any{"attempt": int64(attempt)}); err != nil {
			t.Fatalf("Abandon: %v", err)
		}
	}
	if got := mustAcquire(t, b, "q", PeekLock, 10); len(got) != 0 {
		t.Fatalf("after 3 abandons got %v from the queue, want nothing", ids(got))
	}
	d := acquireOne(t, b, "q/$deadletterqueue", "a")
	if d.DeadLetterReason != ReasonMaxDeliveryCountExceeded || d.DeadLetterDescription != DescMaxDeliveryCountExceeded {
		t.Errorf("dead-letter reason %q description %q", d.DeadLetterReason, d.DeadLetterDescription)
	}
	if d.SequenceNumber != 1 || d.DeliveryCount != 3 || d.PropertiesModified["attempt"] != int64(2) {
		t.Errorf("dlq message seq=%d dc=%d props=%v, want 1, 3, attempt=2", d.SequenceNumber, d.DeliveryCount, d.PropertiesModified)
	}
	// Messages cannot be dead-lettered from the dead-letter queue, but a
	// failed attempt leaves the lock in place.
	wantErr(t, b.DeadLetter("q/$deadletterqueue", d.LockToken, "r", "d", nil), ErrNotAllowed)
	if err := b.Complete("q/$deadletterqueue", d.LockToken); err != nil {
		t.Fatalf("Complete from DLQ: %v", err)
	}
}

func TestLockExpiryRedelivers(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", msg("a"))
	m := acquireOne(t, b, "q", "a")
	wait := b.Wait("q")
	clk.Advance(29 * time.Second)
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wait:
		t.Fatal("Wait fired before the lock expired")
	default:
	}
	if got := mustAcquire(t, b, "q", PeekLock, 10); len(got) != 0 {
		t.Fatalf("got %v while locked", ids(got))
	}
	wait = b.Wait("q")
	clk.Advance(time.Second)
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wait:
	default:
		t.Fatal("Wait did not fire when the lock expired")
	}
	wantErr(t, b.Complete("q", m.LockToken), ErrLockLost)
	again := acquireOne(t, b, "q", "a")
	if again.DeliveryCount != 1 || again.LockToken == m.LockToken {
		t.Errorf("redelivery dc=%d token %x (old %x), want 1 and a new token", again.DeliveryCount, again.LockToken, m.LockToken)
	}
}

func TestLockExpiryWithoutTick(t *testing.T) {
	// Operations apply due deadlines themselves, so settling an expired
	// lock fails even if no timer has fired yet.
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", msg("a"))
	m := acquireOne(t, b, "q", "a")
	clk.Advance(30 * time.Second)
	wantErr(t, b.Complete("q", m.LockToken), ErrLockLost)
	if _, err := b.RenewLock("q", [][16]byte{m.LockToken}); err == nil {
		t.Fatal("RenewLock of an expired lock succeeded")
	}
}

func TestLockExpiryMaxDeliveryCount(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", msg("a"))
	for range 3 {
		acquireOne(t, b, "q", "a")
		clk.Advance(31 * time.Second)
		if err := b.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	d := acquireOne(t, b, "q/$deadletterqueue", "a")
	if d.DeadLetterReason != ReasonMaxDeliveryCountExceeded {
		t.Errorf("reason = %q, want %q", d.DeadLetterReason, ReasonMaxDeliveryCountExceeded)
	}
}

func TestRelease(t *testing.T) {
	b, _ := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", msg("a"))
	for range 5 {
		m := acquireOne(t, b, "q", "a")
		if m.DeliveryCount != 0 {
			t.Fatalf("DeliveryCount = %d after releases, want 0", m.DeliveryCount)
		}
		if err := b.Release("q", m.LockToken); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRenewLock(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", msg("a"), msg("b"))
	got := mustAcquire(t, b, "q", PeekLock, 2)
	clk.Advance(20 * time.Second)
	until, err := b.RenewLock("q", [][16]byte{got[0].LockToken, got[1].LockToken})
	if err != nil {
		t.Fatalf("RenewLock: %v", err)
	}
	want := clk.Now().Add(30 * time.Second)
	if len(until) != 2 || !until[0].Equal(want) || !until[1].Equal(want) {
		t.Fatalf("RenewLock = %v, want two times %v", until, want)
	}
	clk.Advance(20 * time.Second) // past the original lock, before the renewed one
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	if err := b.Complete("q", got[0].LockToken); err != nil {
		t.Fatalf("Complete after renew: %v", err)
	}
	_, err = b.RenewLock("q", [][16]byte{got[1].LockToken, {1, 2, 3}})
	wantErr(t, err, ErrLockLost)
	clk.Advance(10 * time.Second)
	wantErr(t, b.Complete("q", got[1].LockToken), ErrLockLost)
}

func TestDeadLetterExplicit(t *testing.T) {
	b, _ := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "t", &Message{MessageID: "x", ApplicationProperties: map[string]any{"color": "red"}})
	m := acquireOne(t, b, "t/subscriptions/red", "x")
	if err := b.DeadLetter("t/subscriptions/red", m.LockToken, "BadInput", "could not parse", map[string]any{"k": "v"}); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	d := acquireOne(t, b, "t/subscriptions/red/$DeadLetterQueue", "x")
	if d.DeadLetterReason != "BadInput" || d.DeadLetterDescription != "could not parse" || d.PropertiesModified["k"] != "v" {
		t.Errorf("dlq message reason %q desc %q props %v", d.DeadLetterReason, d.DeadLetterDescription, d.PropertiesModified)
	}
	if s := statsOf(t, b, "t/subscriptions/red"); s.DeadLettered != 1 || s.Active != 0 {
		t.Errorf("stats %+v, want 1 dead-lettered, 0 active", s)
	}
}

func TestDeferAndReceiveDeferred(t *testing.T) {
	b, _ := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", msg("a"), msg("b"))
	a := acquireOne2(t, b, "q")
	if err := b.Defer("q", a.LockToken, map[string]any{"why": "later"}); err != nil {
		t.Fatalf("Defer: %v", err)
	}
	// Deferred messages are not handed out by Acquire.
	rest := mustAcquire(t, b, "q", PeekLock, 10)
	if !slices.Equal(ids(rest), []string{"b"}) {
		t.Fatalf("acquired %v, want [b]", ids(rest))
	}
	_, err := b.ReceiveDeferred("q", PeekLock, []int64{a.SequenceNumber, rest[0].SequenceNumber})
	wantErr(t, err, ErrMessageNotFound) // b is not deferred
	got, err := b.ReceiveDeferred("q", PeekLock, []int64{a.SequenceNumber})
	if err != nil {
		t.Fatalf("ReceiveDeferred: %v", err)
	}
	if len(got) != 1 || got[0].MessageID != "a" || got[0].State != StateDeferred || got[0].LockToken == [16]byte{} || got[0].PropertiesModified["why"] != "later" {
		t.Fatalf("ReceiveDeferred = %+v", got)
	}
	_, err = b.ReceiveDeferred("q", PeekLock, []int64{a.SequenceNumber})
	wantErr(t, err, ErrMessageNotFound) // locked
	// Abandoning a deferred message keeps it deferred.
	if err := b.Abandon("q", got[0].LockToken, nil); err != nil {
		t.Fatal(err)
	}
	if s := statsOf(t, b, "q"); s.Deferred != 1 {
		t.Errorf("deferred = %d, want 1", s.Deferred)
	}
	got, err = b.ReceiveDeferred("q", ReceiveAndDelete, []int64{a.SequenceNumber})
	if err != nil || len(got) != 1 || got[0].DeliveryCount != 1 {
		t.Fatalf("ReceiveDeferred(receive-and-delete) = %v, %v; want a with DeliveryCount 1", got, err)
	}
	if s := statsOf(t, b, "q"); s.Deferred != 0 {
		t.Errorf("deferred = %d after receive-and-delete, want 0", s.Deferred)
	}
}

// acquireOne2 acquires the first available message, whatever its ID.
func acquireOne2(t *testing.T, b *Broker, path string) *Message {
	t.Helper()
	got := mustAcquire(t, b, path, PeekLock, 1)
	if len(got) != 1 {
		t.Fatalf("Acquire(%s) returned %d messages, want 1", path, len(got))
	}
	return got[0]
}

func TestPeek(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "plain", msg("1"), msg("2"), msg("3"), msg("4"))
	if _, err := b.Schedule("plain", []*Message{msg("5")}, clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	locked := acquireOne2(t, b, "plain")                   // 1 locked
	deferred := mustAcquire(t, b, "plain", PeekLock, 1)[0] // 2 deferred
	if err := b.Defer("plain", deferred.LockToken, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		from   int64
		max    int
		want   []string
		states []MessageState
	}{
		{"all in order with locked deferred and scheduled", 1, 10, []string{"1", "2", "3", "4", "5"},
			[]MessageState{StateActive, StateDeferred, StateActive, StateActive, StateScheduled}},
		{"from a sequence number", 3, 10, []string{"3", "4", "5"}, nil},
		{"bounded", 2, 2, []string{"2", "3"}, nil},
		{"past the end", 6, 10, []string{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Peek("plain", tt.from, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); !slices.Equal(g, tt.want) {
				t.Fatalf("Peek(%d, %d) = %v, want %v", tt.from, tt.max, g, tt.want)
			}
			for i, st := range tt.states {
				if got[i].State != st || got[i].LockToken != [16]byte{} {
					t.Errorf("message %s state %v token %x, want %v and no token", got[i].MessageID, got[i].State, got[i].LockToken, st)
				}
			}
		})
	}
	// Peek does not lock: the locked message can still be completed and
	// nothing else changed.
	if err := b.Complete("plain", locked.LockToken); err != nil {
		t.Fatal(err)
	}
}

func TestScheduleAndCancel(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	at := clk.Now().Add(10 * time.Minute)
	seqs, err := b.Schedule("q", []*Message{msg("s1"), msg("s2")}, at)
	if err != nil {
		t.Fatal(err)
	}
	// A Send with ScheduledEnqueueTime in the future schedules too.
	viaSend := mustSend(t, b, "q", &Message{MessageID: "s3", ScheduledEnqueueTime: at})
	if s := statsOf(t, b, "q"); s.Scheduled != 3 || s.Active != 0 {
		t.Fatalf("stats %+v, want 3 scheduled", s)
	}
	if err := b.CancelScheduled("q", []int64{seqs[1]}); err != nil {
		t.Fatalf("CancelScheduled: %v", err)
	}
	wantErr(t, b.CancelScheduled("q", []int64{seqs[1]}), ErrMessageNotFound)
	wantErr(t, b.CancelScheduled("q", []int64{seqs[0], 999}), ErrMessageNotFound)
	if got := mustAcquire(t, b, "q", PeekLock, 10); len(got) != 0 {
		t.Fatalf("got %v before the scheduled time", ids(got))
	}
	wait := b.Wait("q")
	clk.Advance(10 * time.Minute)
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wait:
	default:
		t.Fatal("Wait did not fire when the scheduled time came")
	}
	got := mustAcquire(t, b, "q", PeekLock, 10)
	if !slices.Equal(ids(got), []string{"s1", "s3"}) {
		t.Fatalf("acquired %v, want [s1 s3]", ids(got))
	}
	if got[0].SequenceNumber != seqs[0] || got[1].SequenceNumber != viaSend[0] || !got[0].EnqueuedTime.Equal(at) || !got[0].ScheduledEnqueueTime.Equal(at) {
		t.Errorf("scheduled message seq %d enq %v sched %v", got[0].SequenceNumber, got[0].EnqueuedTime, got[0].ScheduledEnqueueTime)
	}
	// Scheduling in the past enqueues at once; cancelling it then fails.
	past, err := b.Schedule("plain", []*Message{msg("p")}, clk.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, b.CancelScheduled("plain", past), ErrMessageNotFound)
	acquireOne(t, b, "plain", "p")
}

func TestScheduledTopicMessagesFanOutWhenDue(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	seqs, err := b.Schedule("t", []*Message{{MessageID: "later", ApplicationProperties: map[string]any{"color": "red"}}, msg("cancelled")}, clk.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s := statsOf(t, b, "t"); s.Scheduled != 2 {
		t.Fatalf("topic scheduled = %d, want 2", s.Scheduled)
	}
	if err := b.CancelScheduled("t", seqs[1:]); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	acquireOne(t, b, "t/subscriptions/all", "later")
	acquireOne(t, b, "t/subscriptions/red", "later")
	if got := mustAcquire(t, b, "t/subscriptions/big", PeekLock, 10); len(got) != 0 {
		t.Errorf("big got %v, want nothing", ids(got))
	}
}

func TestTimeToLive(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		ttl     time.Duration
		advance time.Duration
		wantDLQ bool // else dropped
		expired bool
	}{
		{"message TTL shorter than the default expires to DLQ", "q", time.Minute, time.Minute, true, true},
		{"message TTL longer than the entity default is capped", "q", 10 * time.Hour, time.Hour, true, true},
		{"entity default applies when TTL is 0", "q", 0, time.Hour, true, true},
		{"not yet expired", "q", time.Minute, 59 * time.Second, false, false},
		{"dropped without DeadLetteringOnMessageExpiration", "plain", time.Minute, time.Minute, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clk := newTestBroker(t, testConfig(), "")
			mustSend(t, b, tt.path, &Message{MessageID: "m", TimeToLive: tt.ttl})
			clk.Advance(tt.advance)
			if err := b.Tick(); err != nil {
				t.Fatal(err)
			}
			s := statsOf(t, b, tt.path)
			if tt.expired == (s.Active == 1) {
				t.Fatalf("active = %d, expired = %v", s.Active, tt.expired)
			}
			if tt.wantDLQ {
				d := acquireOne(t, b, tt.path+"/$deadletterqueue", "m")
				if d.DeadLetterReason != ReasonTTLExpired || d.DeadLetterDescription != DescTTLExpired {
					t.Errorf("reason %q desc %q", d.DeadLetterReason, d.DeadLetterDescription)
				}
				// The dead-letter queue never expires messages.
				if err := b.Release(tt.path+"/$deadletterqueue", d.LockToken); err != nil {
					t.Fatal(err)
				}
				clk.Advance(100 * time.Hour)
				if err := b.Tick(); err != nil {
					t.Fatal(err)
				}
				acquireOne(t, b, tt.path+"/$deadletterqueue", "m")
			} else if s.DeadLettered != 0 {
				t.Errorf("dead-lettered = %d, want 0", s.DeadLettered)
			}
		})
	}
}

func TestTTLWhileLockedExpiresWhenLockEnds(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "q", &Message{MessageID: "m", TimeToLive: 20 * time.Second})
	m := acquireOne(t, b, "q", "m")
	clk.Advance(25 * time.Second) // TTL passed, lock (30s) still held
	if err := b.Tick(); err != nil {
		t.Fatal(err)
	}
	if err := b.Abandon("q", m.LockToken, nil); err != nil {
		t.Fatalf("Abandon of a locked message past its TTL: %v", err)
	}
	acquireOne(t, b, "q/$deadletterqueue", "m")
}

func TestDuplicateDetection(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), "") // q: window 1m
	seqs := mustSend(t, b, "q", msg("a"), msg("a"), msg("b"))
	if !slices.Equal(seqs, []int64{1, 0, 2}) {
		t.Fatalf("sequence numbers %v, want [1 0 2]", seqs)
	}
	clk.Advance(30 * time.Second)
	if seqs := mustSend(t, b, "q", msg("a")); seqs[0] != 0 {
		t.Fatalf("duplicate within the window got sequence number %d", seqs[0])
	}
	// Messages without an ID are never duplicates.
	mustSend(t, b, "q", &Message{}, &Message{})
	clk.Advance(31 * time.Second)
	if seqs := mustSend(t, b, "q", msg("a")); seqs[0] == 0 {
		t.Fatal("message after the window was dropped")
	}
	// Entities without duplicate detection accept repeats.
	if seqs := mustSend(t, b, "plain", msg("a"), msg("a")); seqs[1] == 0 {
		t.Fatal("plain queue dropped a repeated message ID")
	}
	got := mustAcquire(t, b, "q", ReceiveAndDelete, 10)
	if !slices.Equal(ids(got), []string{"a", "b", "", "", "a"}) {
		t.Errorf("queue holds %v", ids(got))
	}
}

func TestTopicFanOut(t *testing.T) {
	b, _ := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "t",
		&Message{MessageID: "red-small", ApplicationProperties: map[string]any{"color": "red", "size": int32(5)}},
		&Message{MessageID: "blue-big", ApplicationProperties: map[string]any{"color": "blue", "size": int64(50)}},
		&Message{MessageID: "none"},
	)
	tests := []struct {
		sub  string
		want []string
	}{
		{"all", []string{"red-small", "blue-big", "none"}},
		{"red", []string{"red-small"}},
		{"big", []string{"blue-big"}},
	}
	for _, tt := range tests {
		t.Run(tt.sub, func(t *testing.T) {
			got := mustAcquire(t, b, "t/subscriptions/"+tt.sub, ReceiveAndDelete, 10)
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("subscription %s got %v, want %v", tt.sub, ids(got), tt.want)
			}
			for i, m := range got {
				if m.SequenceNumber != int64(i+1) {
					t.Errorf("message %s seq %d, want %d (per-subscription sequence)", m.MessageID, m.SequenceNumber, i+1)
				}
			}
		})
	}
}

func TestRuleActionsMakeCopies(t *testing.T) {
	cfg := &Config{Namespace: NamespaceName, Topics: []TopicConfig{{
		Name: "t", Properties: DefaultProperties(),
		Subscriptions: []SubscriptionConfig{{Name: "s", Properties: DefaultProperties(), Rules: []RuleConfig{
			{Name: "plain1", FilterType: FilterSQL, SQL: "1=1"},
			{Name: "plain2", FilterType: FilterCorrelation, Correlation: &CorrelationFilter{Label: "hello"}},
			{Name: "act", FilterType: FilterSQL, SQL: "TRUE", Action: "SET tagged = 'yes'; SET sys.To = 'elsewhere'"},
		}}},
	}}}
	cfg.Topics[0].Subscriptions[0].Properties.DuplicateDetectionHistoryTimeWindow = 0
	b, _ := newTestBroker(t, cfg, "")
	mustSend(t, b, "t", &Message{MessageID: "m", Subject: "hello", To: "orig"})
	got := mustAcquire(t, b, "t/subscriptions/s", ReceiveAndDelete, 10)
	if len(got) != 2 {
		t.Fatalf("got %d copies, want 2 (one for the action rule, one for the plain rules)", len(got))
	}
	act, plain := got[0], got[1]
	if act.PropertiesModified["tagged"] != "yes" {
		act, plain = plain, act
	}
	if act.PropertiesModified["tagged"] != "yes" || act.PropertiesModified["RuleName"] != "act" ||
		act.To != "elsewhere" || act.SystemPropertiesModified["to"] != "elsewhere" {
		t.Errorf("action copy: props %v sys %v to %q", act.PropertiesModified, act.SystemPropertiesModified, act.To)
	}
	if plain.PropertiesModified != nil || plain.To != "orig" || plain.SystemPropertiesModified != nil {
		t.Errorf("plain copy modified: %v %v %q", plain.PropertiesModified, plain.SystemPropertiesModified, plain.To)
	}
}

func TestAutoForwarding(t *testing.T) {
	p := DefaultProperties()
	fwd := p
	fwd.ForwardTo = "dest"
	dlqFwd := p
	dlqFwd.ForwardDeadLetteredMessagesTo = "dest"
	dlqFwd.MaxDeliveryCount = 1
	sub := p
	sub.DuplicateDetectionHistoryTimeWindow = 0
	sub.ForwardTo = "dest"
	cfg := &Config{Namespace: NamespaceName,
		Queues: []QueueConfig{{Name: "dest", Properties: p}, {Name: "fwd", Properties: fwd}, {Name: "dlqfwd", Properties: dlqFwd}},
		Topics: []TopicConfig{{Name: "t", Properties: p, Subscriptions: []SubscriptionConfig{{Name: "s", Properties: sub}}}},
	}
	b, _ := newTestBroker(t, cfg, "")
	mustSend(t, b, "fwd", msg("via-queue"))
	mustSend(t, b, "t", msg("via-sub"))
	mustSend(t, b, "dlqfwd", msg("dead"))
	m := acquireOne(t, b, "dlqfwd", "dead")
	if err := b.Abandon("dlqfwd", m.LockToken, nil); err != nil { // MaxDeliveryCount 1
		t.Fatal(err)
	}
	got := mustAcquire(t, b, "dest", ReceiveAndDelete, 10)
	if !slices.Equal(ids(got), []string{"via-queue", "via-sub", "dead"}) {
		t.Fatalf("dest got %v", ids(got))
	}
	if d := got[2]; d.DeadLetterSource != "dlqfwd" || d.DeadLetterReason != ReasonMaxDeliveryCountExceeded || d.DeliveryCount != 0 {
		t.Errorf("forwarded dead letter source %q reason %q dc %d", d.DeadLetterSource, d.DeadLetterReason, d.DeliveryCount)
	}
	for _, path := range []string{"fwd", "t/subscriptions/s", "dlqfwd", "dlqfwd/$deadletterqueue"} {
		if left := mustAcquire(t, b, path, PeekLock, 10); len(left) != 0 {
			t.Errorf("%s kept %v", path, ids(left))
		}
	}
}

func TestErrors(t *testing.T) {
	cfg := testConfig()
	sess := DefaultProperties()
	sess.RequiresSession = true
	cfg.Queues = append(cfg.Queues, QueueConfig{Name: "sessions", Properties: sess})
	b, _ := newTestBroker(t, cfg, "") // MaxMessageSize 1024
	big := &Message{Raw: make([]byte, 1025)}
	bigBySize := &Message{Size: 2000}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"send to unknown", send(b, "nope", msg("a")), ErrEntityNotFound},
		{"send too large", send(b, "q", msg("ok"), big), ErrMessageTooLarge},
		{"send too large by Size", send(b, "q", bigBySize), ErrMessageTooLarge},
		{"send to subscription", send(b, "t/subscriptions/all", msg("a")), ErrNotAllowed},
		{"send to dlq", send(b, "q/$deadletterqueue", msg("a")), ErrNotAllowed},
		{"send to session queue", send(b, "sessions", msg("a")), ErrSessionsNotSupported},
		{"send empty batch", send(b, "q"), ErrInvalidArgument},
		{"send unsupported property type", send(b, "q", &Message{ApplicationProperties: map[string]any{"x": struct{}{}}}), ErrInvalidArgument},
		{"acquire from topic", acquireErr(b, "t"), ErrNotAllowed},
		{"acquire from unknown", acquireErr(b, "t/subscriptions/x"), ErrEntityNotFound},
		{"acquire from session queue", acquireErr(b, "sessions"), ErrSessionsNotSupported},
		{"complete unknown token", b.Complete("q", [16]byte{9}), ErrLockLost},
		{"abandon unknown token", b.Abandon("q", [16]byte{9}, nil), ErrLockLost},
		{"defer unknown token", b.Defer("q", [16]byte{9}, nil), ErrLockLost},
		{"dead-letter unknown token", b.DeadLetter("q", [16]byte{9}, "", "", nil), ErrLockLost},
		{"cancel on subscription", b.CancelScheduled("t/subscriptions/all", []int64{1}), ErrNotAllowed},
		{"peek topic", peekErr(b, "t"), ErrNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.err, tt.want)
		})
	}
	if s := statsOf(t, b, "q"); s.Active != 0 {
		t.Errorf("a rejected batch stored %d messages", s.Active)
	}
	if s := statsOf(t, b, "sessions"); !s.RequiresSession {
		t.Error("stats do not flag the session queue")
	}
}

func send(b *Broker, path string, msgs ...*Message) error {
	_, err := b.Send(path, msgs)
	return err
}

func acquireErr(b *Broker, path string) error {
	_, err := b.Acquire(path, PeekLock, 1)
	return err
}

func peekErr(b *Broker, path string) error {
	_, err := b.Peek(path, 1, 1)
	return err
}

func TestWaitAndClose(t *testing.T) {
	b, err := New(testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := b.Wait("q")
	mustSend(t, b, "q", msg("a"))
	select {
	case <-w:
	default:
		t.Fatal("Wait did not fire on send")
	}
	select {
	case <-b.Wait("nope"):
	default:
		t.Fatal("Wait on an unknown path is not closed")
	}
	w = b.Wait("plain")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w:
	default:
		t.Fatal("Close did not wake waiters")
	}
	_, err = b.Acquire("q", PeekLock, 1)
	wantErr(t, err, ErrClosed)
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestTimerGoroutineWakesWaiters(t *testing.T) {
	// With a clock that moves on its own, a lock expires through the
	// background timer, without Tick. The clock is real time plus an
	// offset, so the 5s lock can be brought to within 20ms of expiry.
	p := DefaultProperties()
	p.LockDuration = 5 * time.Second
	cfg := &Config{Namespace: NamespaceName, Queues: []QueueConfig{{Name: "q", Properties: p}}}
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	b, err := New(cfg, &Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustSend(t, b, "q", msg("a"))
	mustAcquire(t, b, "q", PeekLock, 1)
	w := b.Wait("q")
	offset.Store(int64(4980 * time.Millisecond))
	b.mu.Lock()
	b.armTimer(time.Time{}.Add(1)) // make the goroutine recompute its sleep against the moved clock
	b.mu.Unlock()
	select {
	case <-w:
	case <-time.After(5 * time.Second):
		t.Fatal("the timer goroutine did not expire the lock")
	}
	acquireOne(t, b, "q", "a")
}

func TestDeadlineHeapsStayBounded(t *testing.T) {
	// A receiver that keeps releasing (azservicebus's releaser does) or
	// renewing must not grow the broker's bookkeeping without bound.
	b, clk := newTestBroker(t, testConfig(), "")
	mustSend(t, b, "plain", msg("a"))
	for range 2000 {
		m := acquireOne(t, b, "plain", "a")
		if _, err := b.RenewLock("plain", [][16]byte{m.LockToken}); err != nil {
			t.Fatal(err)
		}
		if err := b.Release("plain", m.LockToken); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Millisecond)
	}
	b.mu.Lock()
	q := b.nodes["plain"]
	events, avail := len(q.events), len(q.avail)
	b.mu.Unlock()
	if events > 2*1+64+1 || avail > 2*1+64+1 {
		t.Errorf("after 2000 acquire/renew/release cycles: %d events, %d available entries for 1 message", events, avail)
	}
}

// TestFailedCancelStillAppliesDueDeadlines: a CancelScheduled that fails on
// an unknown sequence number must still commit the deadlines its pass
// processed, so a message that became due is delivered and waiters wake.
func TestFailedCancelStillAppliesDueDeadlines(t *testing.T) {
	b, clk := newTestBroker(t, testConfig(), t.TempDir())
	at := clk.Now().Add(time.Minute)
	seqs, err := b.Schedule("q", []*Message{msg("due"), msg("later")}, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Schedule("q", []*Message{msg("much-later")}, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wait := b.Wait("q")
	clk.Advance(time.Minute)
	wantErr(t, b.CancelScheduled("q", []int64{seqs[0], 999}), ErrMessageNotFound)
	select {
	case <-wait:
	default:
		t.Fatal("Wait did not fire for messages that became due during a failed cancel")
	}
	if got := mustAcquire(t, b, "q", PeekLock, 10); !slices.Equal(ids(got), []string{"due", "later"}) {
		t.Fatalf("acquired %v, want [due later]", ids(got))
	}
}
