package broker

import (
	"container/heap"
	"errors"
	"fmt"
	"time"
)

// sendable resolves path to an entity messages can be sent to. mu must be
// held.
func (b *Broker) sendable(path string) (*entity, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	e, q, err := b.lookup(path)
	if err != nil {
		return nil, err
	}
	if q != nil && (q.dlq || e.kind == KindSubscription) {
		return nil, fmt.Errorf("%w: messages cannot be sent to a subscription or a dead-letter queue", ErrNotAllowed)
	}
	return e, nil
}

// checkMessages validates a batch before anything is stored.
func (b *Broker) checkMessages(msgs []*Message) error {
	if len(msgs) == 0 {
		return fmt.Errorf("%w: no messages", ErrInvalidArgument)
	}
	for i, m := range msgs {
		if m == nil {
			return fmt.Errorf("%w: message %d is nil", ErrInvalidArgument, i)
		}
		if m.size() > b.maxSize {
			return fmt.Errorf("%w: message %d is %d bytes, the limit is %d", ErrMessageTooLarge, i, m.size(), b.maxSize)
		}
		if m.TimeToLive < 0 {
			return fmt.Errorf("%w: message %d has a negative time-to-live", ErrInvalidArgument, i)
		}
		if err := checkProps(m.ApplicationProperties); err != nil {
			return fmt.Errorf("message %d application properties: %w", i, err)
		}
	}
	return nil
}

// Send stores msgs in the queue or topic at path, atomically: either all
// are stored (and, with a data directory, durable) or none. A message whose
// ScheduledEnqueueTime is in the future is scheduled. With
// RequiresDuplicateDetection, a message whose MessageID was sent within the
// detection window is accepted and silently dropped, as Service Bus does;
// its entry in the result is 0. Otherwise the result holds the sequence
// number each message got in the queue or topic. The broker keeps copies:
// the caller may reuse msgs, but not their Raw bytes.
func (b *Broker) Send(path string, msgs []*Message) ([]int64, error) {
	seqs, err := b.send(path, msgs, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w", path, err)
	}
	return seqs, nil
}

// Schedule stores msgs to become available at at (zero: each message's
// ScheduledEnqueueTime). A time in the past enqueues immediately. The
// result holds sequence numbers for CancelScheduled (0 for dropped
// duplicates).
func (b *Broker) Schedule(path string, msgs []*Message, at time.Time) ([]int64, error) {
	seqs, err := b.send(path, msgs, at)
	if err != nil {
		return nil, fmt.Errorf("schedule to %s: %w", path, err)
	}
	return seqs, nil
}

func (b *Broker) send(path string, msgs []*Message, at time.Time) ([]int64, error) {
	if err := b.checkMessages(msgs); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.sendable(path)
	if err != nil {
		return nil, err
	}
	o := b.newOp()
	seqs := make([]int64, len(msgs))
	for i, in := range msgs {
		if o.duplicate(e, in.MessageID) {
			continue
		}
		m := in.clone()
		m.PropertiesModified, m.SystemPropertiesModified = nil, nil
		m.DeadLetterReason, m.DeadLetterDescription, m.DeadLetterSource = "", "", ""
		if !at.IsZero() {
			m.ScheduledEnqueueTime = at
		}
		seqs[i] = o.enqueue(e, m, 0)
	}
	if err := o.commit(); err != nil {
		return nil, err
	}
	return seqs, nil
}

// CancelScheduled removes scheduled messages from the queue or topic at
// path. Unless every sequence number names a message that is still
// scheduled, nothing is removed and the error wraps ErrMessageNotFound.
func (b *Broker) CancelScheduled(path string, seqs []int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.sendable(path)
	if err != nil {
		return fmt.Errorf("cancel scheduled on %s: %w", path, err)
	}
	q := e.main
	o := b.newOp()
	o.process(q)
	for _, s := range seqs {
		if m := q.msgs[s]; m == nil || m.State != StateScheduled {
			// process may already have applied due deadlines: commit them
			// (and wake waiters) even though the cancel itself fails.
			err := fmt.Errorf("cancel scheduled on %s: sequence number %d: %w", path, s, ErrMessageNotFound)
			return errors.Join(err, o.commit())
		}
	}
	for _, s := range seqs {
		if m := q.msgs[s]; m != nil {
			o.remove(q, m)
		}
	}
	if err := o.commit(); err != nil {
		return fmt.Errorf("cancel scheduled on %s: %w", path, err)
	}
	return nil
}

// Acquire hands out up to max available messages from path in sequence
// order without blocking: locked for the entity's LockDuration in PeekLock
// mode, removed (durably) in ReceiveAndDelete mode. It returns an empty
// slice when nothing is available; use Wait to block.
func (b *Broker) Acquire(path string, mode ReceiveMode, max int) ([]*Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.receivable(path)
	if err != nil {
		return nil, fmt.Errorf("acquire from %s: %w", path, err)
	}
	if max <= 0 {
		return nil, fmt.Errorf("acquire from %s: %w: max must be positive, got %d", path, ErrInvalidArgument, max)
	}
	o := b.newOp()
	o.process(q)
	var out []*Message
	for len(out) < max && len(q.avail) > 0 {
		seq := heap.Pop(&q.avail).(int64)
		m := q.msgs[seq]
		if m == nil || !available(m) {
			continue
		}
		if o.expired(q, m) {
			o.expire(q, m)
			continue
		}
		if mode == PeekLock {
			o.lock(q, m)
		} else {
			o.remove(q, m)
		}
		out = append(out, m.clone())
	}
	if err := o.commit(); err != nil {
		return nil, fmt.Errorf("acquire from %s: %w", path, err)
	}
	return out, nil
}

// settle finds the message locked with token at path and calls f with it.
func (b *Broker) settle(what, path string, token [16]byte, f func(o *op, q *queue, m *Message) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.receivable(path)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", what, path, err)
	}
	o := b.newOp()
	o.process(q) // expires due locks first, so an expired lock is lost
	m := q.locked[token]
	if m == nil {
		if err := o.commit(); err != nil {
			return fmt.Errorf("%s on %s: %w", what, path, err)
		}
		return fmt.Errorf("%s on %s: lock token %x: %w", what, path, token, ErrLockLost)
	}
	if err := f(o, q, m); err != nil {
		return fmt.Errorf("%s on %s: %w", what, path, errors.Join(err, o.commit()))
	}
	if err := o.commit(); err != nil {
		return fmt.Errorf("%s on %s: %w", what, path, err)
	}
	return nil
}

// Complete removes the message locked with lockToken.
func (b *Broker) Complete(path string, lockToken [16]byte) error {
	return b.settle("complete", path, lockToken, func(o *op, q *queue, m *Message) error {
		o.remove(q, m)
		return nil
	})
}

// Abandon unlocks the message, merges props into its modified properties
// and counts a failed delivery: the message is available again, or moves
// to the dead-letter queue when its delivery count reaches
// MaxDeliveryCount. An abandoned deferred message stays deferred.
func (b *Broker) Abandon(path string, lockToken [16]byte, props map[string]any) error {
	return b.settle("abandon", path, lockToken, func(o *op, q *queue, m *Message) error {
		if err := checkProps(props); err != nil {
			return err
		}
		m.mergeProps(props)
		o.unlock(q, m, true)
		return nil
	})
}

// Release unlocks the message without counting a delivery attempt (the
// AMQP "released" outcome).
func (b *Broker) Release(path string, lockToken [16]byte) error {
	return b.settle("release", path, lockToken, func(o *op, q *queue, m *Message) error {
		o.unlock(q, m, false)
		return nil
	})
}

// DeadLetter moves the message to the dead-letter queue with reason and
// description, merging props into its modified properties. Messages in a
// dead-letter queue cannot be dead-lettered again (ErrNotAllowed).
func (b *Broker) DeadLetter(path string, lockToken [16]byte, reason, description string, props map[string]any) error {
	return b.settle("dead-letter", path, lockToken, func(o *op, q *queue, m *Message) error {
		if q.dlq {
			return fmt.Errorf("%w: the message is already in a dead-letter queue", ErrNotAllowed)
		}
		if err := checkProps(props); err != nil {
			return err
		}
		m.mergeProps(props)
		m.State = StateActive
		o.deadLetter(q, m, reason, description)
		return nil
	})
}

// Defer sets the message aside: it stays in the entity but is only
// retrievable with ReceiveDeferred (and visible to Peek). props are merged
// into its modified properties. Deferral does not count as a delivery
// attempt.
func (b *Broker) Defer(path string, lockToken [16]byte, props map[string]any) error {
	return b.settle("defer", path, lockToken, func(o *op, q *queue, m *Message) error {
		if err := checkProps(props); err != nil {
			return err
		}
		m.mergeProps(props)
		delete(q.locked, m.LockToken)
		m.LockToken, m.LockedUntil = [16]byte{}, time.Time{}
		m.State = StateDeferred
		o.put(q, m)
		return nil
	})
}

// RenewLock extends the locks to now plus the entity's LockDuration and
// returns the new expiry of each. If any token is unknown or expired,
// nothing is renewed and the error wraps ErrLockLost.
func (b *Broker) RenewLock(path string, lockTokens [][16]byte) ([]time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.receivable(path)
	if err != nil {
		return nil, fmt.Errorf("renew lock on %s: %w", path, err)
	}
	o := b.newOp()
	o.process(q)
	if err := o.commit(); err != nil {
		return nil, fmt.Errorf("renew lock on %s: %w", path, err)
	}
	for _, t := range lockTokens {
		if q.locked[t] == nil {
			return nil, fmt.Errorf("renew lock on %s: lock token %x: %w", path, t, ErrLockLost)
		}
	}
	out := make([]time.Time, len(lockTokens))
	for i, t := range lockTokens {
		m := q.locked[t]
		m.LockedUntil = o.now.Add(q.ent.props.LockDuration)
		o.pushEvent(q, event{at: m.LockedUntil, seq: m.SequenceNumber, kind: evLockExpiry, token: t})
		out[i] = m.LockedUntil
	}
	return out, nil
}

// Peek returns up to max messages of path with sequence numbers >= fromSeq
// in order, without locking them: active (including locked), deferred and
// scheduled ones, as Service Bus does. The copies carry no lock token.
func (b *Broker) Peek(path string, fromSeq int64, max int) ([]*Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.receivable(path)
	if err != nil {
		return nil, fmt.Errorf("peek %s: %w", path, err)
	}
	if max <= 0 {
		return nil, fmt.Errorf("peek %s: %w: max must be positive, got %d", path, ErrInvalidArgument, max)
	}
	o := b.newOp()
	o.process(q)
	if err := o.commit(); err != nil {
		return nil, fmt.Errorf("peek %s: %w", path, err)
	}
	var out []*Message
	for _, s := range sortedSeqs(q, fromSeq) {
		if len(out) == max {
			break
		}
		c := q.msgs[s].clone()
		c.LockToken = [16]byte{}
		out = append(out, c)
	}
	return out, nil
}

// ReceiveDeferred hands out the deferred messages with the given sequence
// numbers (locked in PeekLock mode; their State stays StateDeferred).
// Unless every sequence number names a deferred message that is not
// locked, nothing is handed out and the error wraps ErrMessageNotFound.
func (b *Broker) ReceiveDeferred(path string, mode ReceiveMode, seqs []int64) ([]*Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.receivable(path)
	if err != nil {
		return nil, fmt.Errorf("receive deferred from %s: %w", path, err)
	}
	o := b.newOp()
	o.process(q)
	for _, s := range seqs {
		if m := q.msgs[s]; m == nil || m.State != StateDeferred || !m.LockedUntil.IsZero() {
			err := fmt.Errorf("receive deferred from %s: sequence number %d: %w", path, s, ErrMessageNotFound)
			return nil, errors.Join(err, o.commit())
		}
	}
	out := make([]*Message, 0, len(seqs))
	for _, s := range seqs {
		m := q.msgs[s]
		if m == nil {
			continue // the same sequence number twice in one request
		}
		if mode == PeekLock {
			if !m.LockedUntil.IsZero() {
				continue
			}
			o.lock(q, m)
		} else {
			o.remove(q, m)
		}
		out = append(out, m.clone())
	}
	if err := o.commit(); err != nil {
		return nil, fmt.Errorf("receive deferred from %s: %w", path, err)
	}
	return out, nil
}
