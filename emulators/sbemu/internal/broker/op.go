package broker

import (
	"container/heap"
	"fmt"
	"time"
)

// Dead-letter reasons and descriptions the service uses.
const (
	ReasonMaxDeliveryCountExceeded = "MaxDeliveryCountExceeded"
	DescMaxDeliveryCountExceeded   = "Message couldn't be consumed after maximum delivery attempts."
	ReasonTTLExpired               = "TTLExpiredException"
	DescTTLExpired                 = "The message expired and was dead lettered."
)

// op is one broker operation in progress. It is used with Broker.mu held:
// state transitions mutate memory directly and queue their store writes,
// which commit applies in one transaction before the operation returns.
type op struct {
	b       *Broker
	now     time.Time
	writes  []write // nil when there is no store
	touched map[*queue]bool
	err     error // first encoding error
}

func (b *Broker) newOp() *op {
	return &op{b: b, now: b.now()}
}

// commit persists the operation's writes and wakes waiters. A store
// failure is sticky: the broker refuses every later operation, because its
// memory may now be ahead of the disk.
func (o *op) commit() error {
	b := o.b
	if o.err == nil && b.store != nil && len(o.writes) > 0 {
		o.err = b.store.apply(o.writes)
	}
	if o.err != nil {
		b.failed = fmt.Errorf("store: %w", o.err)
		b.log.Error("persisting broker state failed; the broker stops accepting operations", "err", o.err)
		return b.failed
	}
	for q := range o.touched {
		q.signal()
	}
	return nil
}

func (o *op) touch(q *queue) {
	if o.touched == nil {
		o.touched = map[*queue]bool{}
	}
	o.touched[q] = true
}

// put records m as it is now in q.
func (o *op) put(q *queue, m *Message) {
	if o.b.store == nil {
		return
	}
	val, err := encodeRecord(m)
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("encode message %d of %s: %w", m.SequenceNumber, q.path, err)
	}
	o.writes = append(o.writes, write{kind: wPutMsg, bucket: q.key, key: seqKey(m.SequenceNumber), val: val})
}

func (o *op) del(q *queue, seq int64) {
	if o.b.store == nil {
		return
	}
	o.writes = append(o.writes, write{kind: wDelMsg, bucket: q.key, key: seqKey(seq)})
}

func (o *op) pushEvent(q *queue, ev event) {
	heap.Push(&q.events, ev)
	o.b.armTimer(ev.at)
}

// nextSeq assigns the entity's next sequence number.
func (o *op) nextSeq(e *entity) int64 {
	e.lastSeq++
	if o.b.store != nil {
		o.writes = append(o.writes, write{kind: wSeq, bucket: e.key, val: seqKey(e.lastSeq)})
	}
	return e.lastSeq
}

// duplicate reports whether id was seen within e's detection window, and
// records it otherwise.
func (o *op) duplicate(e *entity, id string) bool {
	d := e.dedup
	if d == nil || id == "" {
		return false
	}
	n := 0
	for _, ent := range d.order {
		if ent.exp.After(o.now) {
			break
		}
		if exp, ok := d.seen[ent.id]; ok && !exp.After(o.now) {
			delete(d.seen, ent.id)
			if o.b.store != nil {
				o.writes = append(o.writes, write{kind: wDelDedup, bucket: e.key, key: []byte(ent.id)})
			}
		}
		n++
	}
	d.order = d.order[n:]
	if exp, ok := d.seen[id]; ok && exp.After(o.now) {
		return true
	}
	exp := o.now.Add(d.window)
	d.seen[id] = exp
	d.order = append(d.order, dedupEntry{id: id, exp: exp})
	if o.b.store != nil {
		o.writes = append(o.writes, write{kind: wPutDedup, bucket: e.key, key: []byte(id), val: expiryBytes(exp)})
	}
	return false
}

// enqueue stores m (owned by the broker from now on) in entity e,
// following auto-forwarding, and returns the sequence number it got in e.
func (o *op) enqueue(e *entity, m *Message, hops int) int64 {
	if e.forwardTo != nil && hops < maxForwardingHops {
		return o.enqueue(e.forwardTo, m, hops+1)
	}
	m.SequenceNumber = o.nextSeq(e)
	m.DeliveryCount = 0
	m.LockToken, m.LockedUntil = [16]byte{}, time.Time{}
	m.TimeToLive = effectiveTTL(m.TimeToLive, e.props.DefaultMessageTimeToLive)
	q := e.main
	if m.ScheduledEnqueueTime.After(o.now) {
		m.State = StateScheduled
		m.EnqueuedTime = m.ScheduledEnqueueTime
		m.ExpiresAt = addTime(m.EnqueuedTime, m.TimeToLive)
		q.msgs[m.SequenceNumber] = m
		o.put(q, m)
		o.pushEvent(q, event{at: m.ScheduledEnqueueTime, seq: m.SequenceNumber, kind: evScheduled})
		return m.SequenceNumber
	}
	if e.kind == KindTopic {
		o.fanOut(e, m, hops)
		return m.SequenceNumber
	}
	m.State = StateActive
	m.EnqueuedTime = o.now
	m.ExpiresAt = addTime(o.now, m.TimeToLive)
	q.msgs[m.SequenceNumber] = m
	o.put(q, m)
	o.makeAvailable(q, m)
	o.armExpiry(q, m)
	return m.SequenceNumber
}

// makeAvailable queues an active message for Acquire and wakes waiters.
func (o *op) makeAvailable(q *queue, m *Message) {
	heap.Push(&q.avail, m.SequenceNumber)
	o.touch(q)
}

// armExpiry arms the time-to-live deadline of a message that has just
// become active. Invariant: an active message outside a dead-letter queue
// has exactly one expiry event in q.events until that deadline passes;
// unlock checks the deadline itself, so re-queued messages need no new
// event.
func (o *op) armExpiry(q *queue, m *Message) {
	if !q.dlq {
		o.pushEvent(q, event{at: m.ExpiresAt, seq: m.SequenceNumber, kind: evExpiry})
	}
}

// fanOut copies a topic message into every subscription whose rules select
// it: one copy if any rule without an action matches, plus one copy per
// matching rule with an action (the service's behaviour).
func (o *op) fanOut(t *entity, m *Message, hops int) {
	for _, s := range t.subs {
		plain := false
		for _, r := range s.rules {
			if !r.matches(m) {
				continue
			}
			if r.action == nil {
				plain = true
				continue
			}
			props, sys := r.apply(m)
			c := freshCopy(m)
			c.mergeProps(props)
			c.mergeProps(map[string]any{"RuleName": r.name})
			applySystemProps(c, sys)
			o.enqueue(s, c, hops)
		}
		if plain {
			o.enqueue(s, freshCopy(m), hops)
		}
	}
}

// freshCopy copies m for enqueueing elsewhere, without broker state.
func freshCopy(m *Message) *Message {
	c := m.clone()
	c.SequenceNumber = 0
	c.State = StateActive
	c.ScheduledEnqueueTime = m.ScheduledEnqueueTime
	return c
}

func applySystemProps(m *Message, sys map[string]string) {
	for k, v := range sys {
		switch k {
		case "message-id":
			m.MessageID = v
		case "correlation-id":
			m.CorrelationID = v
		case "to":
			m.To = v
		case "reply-to":
			m.ReplyTo = v
		case "subject":
			m.Subject = v
		case "content-type":
			m.ContentType = v
		case "group-id":
			m.SessionID = v
		case "reply-to-group-id":
			m.ReplyToSessionID = v
		}
		if m.SystemPropertiesModified == nil {
			m.SystemPropertiesModified = map[string]string{}
		}
		m.SystemPropertiesModified[k] = v
	}
}

// remove deletes m from q.
func (o *op) remove(q *queue, m *Message) {
	if !m.LockedUntil.IsZero() {
		delete(q.locked, m.LockToken)
	}
	delete(q.msgs, m.SequenceNumber)
	o.del(q, m.SequenceNumber)
}

// deadLetter moves m from q to the dead-letter queue of q's entity (or to
// its ForwardDeadLetteredMessagesTo entity).
func (o *op) deadLetter(q *queue, m *Message, reason, desc string) {
	o.remove(q, m)
	e := q.ent
	m.LockToken, m.LockedUntil = [16]byte{}, time.Time{}
	m.DeadLetterReason, m.DeadLetterDescription = reason, desc
	if e.forwardDLQTo != nil {
		c := freshCopy(m)
		c.ScheduledEnqueueTime = time.Time{}
		c.DeadLetterSource = e.name
		o.enqueue(e.forwardDLQTo, c, 1)
		return
	}
	m.State = StateActive
	e.dlq.msgs[m.SequenceNumber] = m
	o.put(e.dlq, m)
	o.makeAvailable(e.dlq, m)
}

// expire handles a message whose time-to-live has passed.
func (o *op) expire(q *queue, m *Message) {
	if q.ent.props.DeadLetteringOnMessageExpiration {
		o.deadLetter(q, m, ReasonTTLExpired, DescTTLExpired)
		return
	}
	o.remove(q, m)
}

// expired reports whether m's time-to-live has passed (never in a
// dead-letter queue).
func (o *op) expired(q *queue, m *Message) bool {
	return !q.dlq && !o.now.Before(m.ExpiresAt)
}

// unlock ends m's lock. counted is true for abandon and lock expiry, which
// count as a failed delivery attempt; false for release.
func (o *op) unlock(q *queue, m *Message, counted bool) {
	delete(q.locked, m.LockToken)
	m.LockToken, m.LockedUntil = [16]byte{}, time.Time{}
	if counted {
		m.DeliveryCount++
	}
	switch {
	case m.State == StateDeferred:
		if counted {
			o.put(q, m)
		}
	case counted && !q.dlq && m.DeliveryCount >= uint32(q.ent.props.MaxDeliveryCount):
		o.deadLetter(q, m, ReasonMaxDeliveryCountExceeded, DescMaxDeliveryCountExceeded)
	case o.expired(q, m):
		o.expire(q, m)
	default:
		if counted {
			o.put(q, m)
		}
		o.makeAvailable(q, m)
	}
}

// lock locks m for the entity's lock duration.
func (o *op) lock(q *queue, m *Message) {
	m.LockToken = newLockToken()
	m.LockedUntil = o.now.Add(q.ent.props.LockDuration)
	q.locked[m.LockToken] = m
	o.pushEvent(q, event{at: m.LockedUntil, seq: m.SequenceNumber, kind: evLockExpiry, token: m.LockToken})
}

// process applies every deadline of q that is due.
func (o *op) process(q *queue) {
	for len(q.events) > 0 && !q.events[0].at.After(o.now) {
		ev := heap.Pop(&q.events).(event)
		m := q.msgs[ev.seq]
		if m == nil || !eventLive(m, ev) {
			continue
		}
		switch ev.kind {
		case evLockExpiry:
			o.unlock(q, m, true)
		case evScheduled:
			o.activate(q, m)
		case evExpiry:
			if available(m) && o.expired(q, m) {
				o.expire(q, m)
			}
			// A locked message expires when its lock ends (unlock checks).
		}
	}
	q.compact()
}

// activate makes a due scheduled message active (or fans it out, for a
// topic).
func (o *op) activate(q *queue, m *Message) {
	if q.ent.kind == KindTopic {
		delete(q.msgs, m.SequenceNumber)
		o.del(q, m.SequenceNumber)
		o.fanOut(q.ent, m, 0)
		return
	}
	m.State = StateActive
	o.put(q, m)
	if o.expired(q, m) {
		o.expire(q, m)
		return
	}
	o.makeAvailable(q, m)
	o.armExpiry(q, m)
}
