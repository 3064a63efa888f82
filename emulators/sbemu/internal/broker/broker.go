package broker

import (
	"cmp"
	"container/heap"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultMaxMessageSize is the Standard tier's (and the official
// emulator's) message size limit, 256 KiB.
const DefaultMaxMessageSize = 256 * 1024

// Options configures a Broker. The zero value (or nil) means in memory,
// time.Now, a discarding logger and a 256 KiB message size limit.
type Options struct {
	// DataDir, when set, makes the broker durable: its state lives in
	// DataDir/sbemu.db and survives restarts.
	DataDir string
	// Now is the clock for every deadline (locks, schedules, TTL,
	// duplicate detection).
	Now func() time.Time
	// Logger receives operational logs.
	Logger *slog.Logger
	// MaxMessageSize is the largest Message.Size (or len(Raw)) accepted.
	MaxMessageSize int
}

// Broker holds the entities of one namespace and implements their
// messaging semantics.
//
// Concurrency: mu guards every field marked below, every entity and queue,
// and the store; each public method takes it once, so operations are
// linearisable. Store writes happen while mu is held, which keeps the disk
// in the same order as memory (bbolt has a single writer anyway). Nothing
// blocks while holding mu except the store's fsync. The timer goroutine
// (run) only calls Tick. Channels returned by Wait are closed with mu held.
type Broker struct {
	now     func() time.Time
	log     *slog.Logger
	maxSize int
	store   *store // nil in memory; owned by mu

	kick chan struct{} // wakes the timer goroutine when an earlier deadline is armed
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	mu       sync.Mutex
	entities []*entity          // queues, topics, subscriptions in configuration order
	topLevel map[string]*entity // lower-case queue/topic name
	nodes    map[string]*queue  // lower-case receivable path -> queue
	queues   []*queue           // every queue including DLQs and topics' scheduled queues
	armed    time.Time          // deadline the timer goroutine sleeps until; zero: none
	closed   bool
	failed   error // sticky store failure
}

// New builds a broker for cfg (nil: DefaultConfig). With Options.DataDir
// it opens (or creates) the store and restores every persisted message:
// messages that were locked when the process stopped are available again
// with an unchanged delivery count (locks are not persisted).
func New(cfg *Config, opts *Options) (*Broker, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new broker: %w", err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	b := &Broker{
		now:      o.Now,
		log:      o.Logger,
		maxSize:  o.MaxMessageSize,
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		topLevel: map[string]*entity{},
		nodes:    map[string]*queue{},
	}
	if err := b.build(cfg); err != nil {
		return nil, fmt.Errorf("new broker: %w", err)
	}
	if o.DataDir != "" {
		st, err := openStore(o.DataDir)
		if err != nil {
			return nil, fmt.Errorf("new broker: %w", err)
		}
		b.store = st
		if err := b.restore(); err != nil {
			st.close()
			return nil, fmt.Errorf("new broker: %w", err)
		}
	}
	b.wg.Add(1)
	go b.run()
	return b, nil
}

// build creates the entities of cfg (already validated).
func (b *Broker) build(cfg *Config) error {
	addQueue := func(e *entity) {
		e.main = newQueue(e, e.name, e.key, false)
		b.queues = append(b.queues, e.main)
		if e.kind == KindTopic {
			return
		}
		e.dlq = newQueue(e, e.name+"/$deadletterqueue", e.key+"/$deadletterqueue", true)
		b.queues = append(b.queues, e.dlq)
		b.nodes[e.main.key] = e.main
		b.nodes[e.dlq.key] = e.dlq
	}
	newDedup := func(e *entity) {
		if e.props.RequiresDuplicateDetection {
			e.dedup = &dedupLog{window: e.props.DuplicateDetectionHistoryTimeWindow, seen: map[string]time.Time{}}
		}
	}
	for _, qc := range cfg.Queues {
		e := &entity{kind: KindQueue, name: qc.Name, key: strings.ToLower(qc.Name), props: qc.Properties}
		newDedup(e)
		addQueue(e)
		b.entities = append(b.entities, e)
		b.topLevel[e.key] = e
	}
	for _, tc := range cfg.Topics {
		t := &entity{kind: KindTopic, name: tc.Name, key: strings.ToLower(tc.Name), props: tc.Properties}
		newDedup(t)
		addQueue(t)
		b.entities = append(b.entities, t)
		b.topLevel[t.key] = t
		for _, sc := range tc.Subscriptions {
			name := tc.Name + "/subscriptions/" + sc.Name
			s := &entity{kind: KindSubscription, name: name, key: strings.ToLower(name), props: sc.Properties}
			for _, rc := range sc.Rules {
				r, err := compileRule(rc)
				if err != nil {
					return fmt.Errorf("subscription %s rule %s: %w", name, rc.Name, err)
				}
				s.rules = append(s.rules, r)
			}
			if len(s.rules) == 0 {
				s.rules = []*rule{trueRule()}
			}
			addQueue(s)
			t.subs = append(t.subs, s)
			b.entities = append(b.entities, s)
		}
	}
	for _, e := range b.entities {
		if e.props.ForwardTo != "" {
			e.forwardTo = b.topLevel[strings.ToLower(e.props.ForwardTo)]
		}
		if e.props.ForwardDeadLetteredMessagesTo != "" {
			e.forwardDLQTo = b.topLevel[strings.ToLower(e.props.ForwardDeadLetteredMessagesTo)]
		}
	}
	return nil
}

// restore loads the store's state into the (empty) entities.
func (b *Broker) restore() error {
	l, err := b.store.load()
	if err != nil {
		return err
	}
	byKey := map[string]*queue{}
	for _, q := range b.queues {
		byKey[q.key] = q
	}
	for _, e := range b.entities {
		e.lastSeq = l.seqs[e.key]
		if e.dedup != nil {
			for id, exp := range l.dedup[e.key] {
				e.dedup.seen[id] = exp
				e.dedup.order = append(e.dedup.order, dedupEntry{id: id, exp: exp})
			}
			slices.SortFunc(e.dedup.order, func(a, c dedupEntry) int { return a.exp.Compare(c.exp) })
		}
	}
	restored := 0
	for key, msgs := range l.msgs {
		q := byKey[key]
		if q == nil {
			if len(msgs) > 0 {
				b.log.Warn("store holds messages for an entity that is not configured; they are kept but unreachable",
					"entity", key, "messages", len(msgs))
			}
			continue
		}
		for _, m := range msgs {
			q.msgs[m.SequenceNumber] = m
			q.ent.lastSeq = max(q.ent.lastSeq, m.SequenceNumber)
			switch m.State {
			case StateScheduled:
				heap.Push(&q.events, event{at: m.ScheduledEnqueueTime, seq: m.SequenceNumber, kind: evScheduled})
			case StateActive:
				heap.Push(&q.avail, m.SequenceNumber)
				if !q.dlq {
					heap.Push(&q.events, event{at: m.ExpiresAt, seq: m.SequenceNumber, kind: evExpiry})
				}
			}
			restored++
		}
	}
	b.log.Info("restored broker state", "messages", restored)
	return nil
}

// Close stops the timer goroutine, wakes every waiter and closes the
// store. Operations after Close fail with ErrClosed.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, q := range b.queues {
		q.signal()
	}
	b.mu.Unlock()
	close(b.done)
	b.wg.Wait()
	if b.store != nil {
		if err := b.store.close(); err != nil {
			return fmt.Errorf("close broker store: %w", err)
		}
	}
	return nil
}

// EntityRef identifies the node an AMQP address refers to.
type EntityRef struct {
	// Path is the canonical path as configured, e.g. "q",
	// "t/subscriptions/s" or "q/$deadletterqueue".
	Path string
	// Entity is the queue, topic or subscription path without the
	// dead-letter suffix.
	Entity string
	Kind   EntityKind
	// DeadLetter is true for a "$deadletterqueue" sub-queue.
	DeadLetter bool
}

// Receivable reports whether messages can be received from the node.
func (r EntityRef) Receivable() bool { return r.Kind != KindTopic }

// Sendable reports whether messages can be sent to the node.
func (r EntityRef) Sendable() bool { return !r.DeadLetter && r.Kind != KindSubscription }

// Resolve maps an entity path, as sent in an AMQP address ("q",
// "q/$DeadLetterQueue", "t", "t/Subscriptions/s",
// "t/Subscriptions/s/$DeadLetterQueue"; case-insensitive), to its entity.
// It fails with ErrEntityNotFound, or ErrSessionsNotSupported for an
// entity that requires sessions.
func (b *Broker) Resolve(path string) (EntityRef, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, q, err := b.lookup(path)
	if err != nil {
		return EntityRef{}, fmt.Errorf("resolve %q: %w", path, err)
	}
	ref := EntityRef{Path: e.name, Entity: e.name, Kind: e.kind}
	if q != nil && q.dlq {
		ref.Path, ref.DeadLetter = q.path, true
	}
	return ref, nil
}

// lookup finds the entity and, for receivable nodes, the queue of path.
func (b *Broker) lookup(path string) (*entity, *queue, error) {
	key := strings.ToLower(strings.Trim(path, "/"))
	if q := b.nodes[key]; q != nil {
		if q.ent.props.RequiresSession {
			return nil, nil, ErrSessionsNotSupported
		}
		return q.ent, q, nil
	}
	if e := b.topLevel[key]; e != nil && e.kind == KindTopic {
		return e, nil, nil
	}
	return nil, nil, ErrEntityNotFound
}

// check returns why no operation may run now, or nil. mu must be held.
func (b *Broker) check() error {
	if b.closed {
		return ErrClosed
	}
	return b.failed
}

// receivable resolves path to a receivable queue. mu must be held.
func (b *Broker) receivable(path string) (*queue, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	_, q, err := b.lookup(path)
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fmt.Errorf("%w: a topic cannot be received from; use a subscription", ErrNotAllowed)
	}
	return q, nil
}

// Wait returns a channel that is closed when a message may have become
// available at path (sent, abandoned, lock expired, scheduled message due,
// broker closed). Call Wait before Acquire and wait only if Acquire
// returned nothing, so no wake-up is missed. For a path that is not
// receivable the channel is already closed (Acquire then reports why).
func (b *Broker) Wait(path string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.receivable(path)
	if err != nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if q.notify == nil {
		q.notify = make(chan struct{})
	}
	return q.notify
}

// Tick applies every deadline that is due at the clock's current time
// (lock expiry, scheduled messages, time-to-live) and wakes waiters. A
// background goroutine calls it when the earliest deadline passes; tests
// that drive a fake clock call it after advancing the clock.
func (b *Broker) Tick() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	o := b.newOp()
	for _, q := range b.queues {
		o.process(q)
	}
	if err := o.commit(); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	return nil
}

// armTimer makes the timer goroutine wake by at. mu must be held.
func (b *Broker) armTimer(at time.Time) {
	if b.armed.IsZero() || at.Before(b.armed) {
		b.armed = at
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// run sleeps until the earliest deadline of any queue, then calls Tick.
func (b *Broker) run() {
	defer b.wg.Done()
	const idle = time.Hour
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		b.mu.Lock()
		var next time.Time
		for _, q := range b.queues {
			if len(q.events) > 0 && (next.IsZero() || q.events[0].at.Before(next)) {
				next = q.events[0].at
			}
		}
		b.armed = next
		d := idle
		if !next.IsZero() {
			d = min(max(next.Sub(b.now()), time.Millisecond), idle)
		}
		b.mu.Unlock()
		t.Reset(d)
		select {
		case <-t.C:
			if err := b.Tick(); err != nil {
				b.log.Debug("timer tick", "err", err)
			}
		case <-b.kick:
		case <-b.done:
			return
		}
	}
}

// EntityStats counts the messages of one entity, for the HTTP view.
type EntityStats struct {
	Name string     `json:"name"`
	Kind EntityKind `json:"kind"`
	// Active counts active messages, including locked ones (as Azure's
	// ActiveMessageCount does); Locked counts those locked right now.
	Active       int `json:"active"`
	Locked       int `json:"locked"`
	Scheduled    int `json:"scheduled"`
	Deferred     int `json:"deferred"`
	DeadLettered int `json:"deadLettered"`
	// LastSequenceNumber is the last sequence number assigned.
	LastSequenceNumber int64 `json:"lastSequenceNumber"`
	RequiresSession    bool  `json:"requiresSession,omitempty"`
}

// Stats returns per-entity message counts in configuration order (queues,
// then each topic followed by its subscriptions).
func (b *Broker) Stats() []EntityStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]EntityStats, 0, len(b.entities))
	for _, e := range b.entities {
		s := EntityStats{Name: e.name, Kind: e.kind, LastSequenceNumber: e.lastSeq, RequiresSession: e.props.RequiresSession}
		for _, m := range e.main.msgs {
			switch m.State {
			case StateActive:
				s.Active++
			case StateScheduled:
				s.Scheduled++
			case StateDeferred:
				s.Deferred++
			}
		}
		s.Locked = len(e.main.locked)
		if e.dlq != nil {
			s.DeadLettered = len(e.dlq.msgs)
		}
		out = append(out, s)
	}
	return out
}

// sortedSeqs returns q's sequence numbers >= from in order.
func sortedSeqs(q *queue, from int64) []int64 {
	seqs := make([]int64, 0, len(q.msgs))
	for s := range q.msgs {
		if s >= from {
			seqs = append(seqs, s)
		}
	}
	slices.SortFunc(seqs, cmp.Compare[int64])
	return seqs
}
