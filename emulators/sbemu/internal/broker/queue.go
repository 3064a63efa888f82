package broker

import (
	"container/heap"
	"crypto/rand"
	"encoding/binary"
	"time"
)

// EntityKind is the kind of a messaging entity.
type EntityKind string

// Entity kinds.
const (
	KindQueue        EntityKind = "queue"
	KindTopic        EntityKind = "topic"
	KindSubscription EntityKind = "subscription"
)

// entity is a queue, topic or subscription. All fields are guarded by
// Broker.mu; the configuration fields never change after New.
type entity struct {
	kind  EntityKind
	name  string // display path: "q", "t", "t/subscriptions/s" as configured
	key   string // lower-case name, the store key
	props EntityProperties

	lastSeq int64  // last sequence number assigned
	main    *queue // messages; for a topic, scheduled messages awaiting fan-out
	dlq     *queue // dead-letter sub-queue; nil for topics

	subs  []*entity // topic: its subscriptions
	rules []*rule   // subscription: its rules

	dedup        *dedupLog // queues and topics with RequiresDuplicateDetection
	forwardTo    *entity   // ForwardTo, resolved
	forwardDLQTo *entity   // ForwardDeadLetteredMessagesTo, resolved
}

// queue holds the messages of one receivable node (a queue, a
// subscription, or the dead-letter sub-queue of either) or a topic's
// scheduled messages. All fields are guarded by Broker.mu.
type queue struct {
	ent  *entity
	path string // display path
	key  string // lower-case path, the store bucket
	dlq  bool

	msgs   map[int64]*Message    // every message, by sequence number
	locked map[[16]byte]*Message // messages locked in peek-lock mode
	avail  seqHeap               // sequence numbers that may be available (checked on pop)
	events eventHeap             // deadlines (checked on pop)
	notify chan struct{}         // closed and cleared when something becomes available
}

func newQueue(e *entity, path, key string, dlq bool) *queue {
	return &queue{ent: e, path: path, key: key, dlq: dlq, msgs: map[int64]*Message{}, locked: map[[16]byte]*Message{}}
}

// available reports whether m can be handed out by Acquire.
func available(m *Message) bool { return m.State == StateActive && m.LockedUntil.IsZero() }

// effectiveTTL is the smaller of the message's TTL and the entity default.
func effectiveTTL(requested, def time.Duration) time.Duration {
	if requested > 0 && requested < def {
		return requested
	}
	return def
}

// addTime adds d to t, saturating instead of overflowing.
func addTime(t time.Time, d time.Duration) time.Time {
	const maxYear = 9999
	r := t.Add(d)
	if d > 0 && (r.Before(t) || r.Year() > maxYear) {
		return time.Date(maxYear, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	return r
}

// eventKind is the kind of a deadline.
type eventKind uint8

const (
	evLockExpiry eventKind = iota
	evScheduled
	evExpiry
)

type event struct {
	at    time.Time
	seq   int64
	kind  eventKind
	token [16]byte // lock events: the lock the deadline belongs to
}

type eventHeap []event

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h eventHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)        { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type seqHeap []int64

func (h seqHeap) Len() int           { return len(h) }
func (h seqHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h seqHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seqHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *seqHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// compact drops stale heap entries once they outnumber the live messages,
// so completed messages' deadlines do not accumulate.
func (q *queue) compact() {
	limit := 2*len(q.msgs) + 64
	if len(q.events) > limit {
		live := q.events[:0]
		for _, ev := range q.events {
			if m := q.msgs[ev.seq]; m != nil && eventLive(m, ev) {
				live = append(live, ev)
			}
		}
		clear(q.events[len(live):])
		q.events = live
		heap.Init(&q.events)
	}
	if len(q.avail) > limit {
		live := q.avail[:0]
		for _, s := range q.avail {
			if m := q.msgs[s]; m != nil && available(m) {
				live = append(live, s)
			}
		}
		q.avail = live
		heap.Init(&q.avail)
	}
}

// eventLive reports whether ev still describes a deadline of m.
func eventLive(m *Message, ev event) bool {
	switch ev.kind {
	case evLockExpiry:
		return !m.LockedUntil.IsZero() && m.LockToken == ev.token && m.LockedUntil.Equal(ev.at)
	case evScheduled:
		return m.State == StateScheduled && m.ScheduledEnqueueTime.Equal(ev.at)
	case evExpiry:
		return m.State == StateActive && m.ExpiresAt.Equal(ev.at)
	}
	return false
}

// signal wakes everything waiting on q.
func (q *queue) signal() {
	if q.notify != nil {
		close(q.notify)
		q.notify = nil
	}
}

// newLockToken returns a random version-4 UUID.
func newLockToken() [16]byte {
	var t [16]byte
	_, _ = rand.Read(t[:]) // crypto/rand.Read never fails (Go 1.24+)
	t[6] = t[6]&0x0f | 0x40
	t[8] = t[8]&0x3f | 0x80
	return t
}

// dedupLog remembers message IDs for duplicate detection.
type dedupLog struct {
	window time.Duration
	seen   map[string]time.Time // message ID -> end of its detection window
	order  []dedupEntry         // insertion order, for pruning
}

type dedupEntry struct {
	id  string
	exp time.Time
}

func expiryBytes(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }
