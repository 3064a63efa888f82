package sbemu

import (
	"fmt"
	"strings"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
)

// $management operations (reference §5).
const (
	opRenewLock         = "com.microsoft:renew-lock"
	opPeek              = "com.microsoft:peek-message"
	opSchedule          = "com.microsoft:schedule-message"
	opCancelScheduled   = "com.microsoft:cancel-scheduled-message"
	opReceiveBySequence = "com.microsoft:receive-by-sequence-number"
	opUpdateDisposition = "com.microsoft:update-disposition"
	maxMgmtItems        = 5000 // items per request
)

// mgmtError is a request the handler refuses with a status.
type mgmtError struct {
	status int32
	cond   amqpwire.Symbol // errorCondition, if the service sends one
	desc   string
}

func badRequest(format string, args ...any) *mgmtError {
	return &mgmtError{status: statusBadRequest, desc: fmt.Sprintf(format, args...)}
}

// handleMgmt answers one $management request for the entity path.
func (c *conn) handleMgmt(path string, req *amqpwire.Message) *amqpwire.Message {
	opV, _ := req.ApplicationProperties.Get("operation")
	op, _ := opV.(string)
	body, _ := req.Value.(amqpwire.Map)
	var (
		status = statusOK
		resp   amqpwire.Map
		merr   *mgmtError
	)
	switch op {
	case opRenewLock:
		resp, merr = c.mgmtRenewLock(path, body)
	case opPeek:
		resp, merr = c.mgmtPeek(path, body)
		if merr == nil && resp == nil {
			status = statusNoContent
		}
	case opSchedule:
		resp, merr = c.mgmtSchedule(path, body)
	case opCancelScheduled:
		merr = c.mgmtCancel(path, body)
	case opReceiveBySequence:
		resp, merr = c.mgmtReceiveBySequence(path, body)
	case opUpdateDisposition:
		merr = c.mgmtUpdateDisposition(path, body)
	default:
		merr = &mgmtError{status: statusBadRequest, desc: fmt.Sprintf("operation %q is not supported by the emulator", op)}
	}
	if merr != nil {
		c.log.Info("management operation failed", "op", op, "entity", path, "status", merr.status, "err", merr.desc)
		return mgmtFailure(merr)
	}
	if resp == nil && status == statusOK {
		resp = amqpwire.Map{}
	}
	return rpcResponse(status, "", resp)
}

// elems returns the elements of an array or list field.
func elems(body amqpwire.Map, key string) ([]any, *mgmtError) {
	v, ok := body.Get(key)
	if !ok {
		return nil, badRequest("request body has no %q", key)
	}
	var out []any
	switch v := v.(type) {
	case amqpwire.Array:
		out = v.Elems
	case []any:
		out = v
	default:
		return nil, badRequest("%q is %T, not an array", key, v)
	}
	if len(out) > maxMgmtItems {
		return nil, badRequest("%q has %d items, more than %d", key, len(out), maxMgmtItems)
	}
	return out, nil
}

func lockTokens(body amqpwire.Map) ([][16]byte, *mgmtError) {
	l, merr := elems(body, "lock-tokens")
	if merr != nil {
		return nil, merr
	}
	out := make([][16]byte, 0, len(l))
	for _, e := range l {
		u, ok := e.(amqpwire.UUID)
		if !ok {
			return nil, badRequest("lock token of type %T, want uuid", e)
		}
		out = append(out, u)
	}
	return out, nil
}

func sequenceNumbers(body amqpwire.Map) ([]int64, *mgmtError) {
	l, merr := elems(body, "sequence-numbers")
	if merr != nil {
		return nil, merr
	}
	out := make([]int64, 0, len(l))
	for _, e := range l {
		n, ok := amqpwire.ToInt64(e)
		if !ok {
			return nil, badRequest("sequence number of type %T, want long", e)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c *conn) mgmtRenewLock(path string, body amqpwire.Map) (amqpwire.Map, *mgmtError) {
	tokens, merr := lockTokens(body)
	if merr != nil {
		return nil, merr
	}
	exps, err := c.srv.broker.RenewLock(path, tokens)
	if err != nil {
		return nil, c.mgmtBrokerError(path, err)
	}
	arr := amqpwire.Array{Code: amqpwire.TypeTimestamp, Elems: make([]any, len(exps))}
	for i, t := range exps {
		arr.Elems[i] = t
	}
	return amqpwire.Map{{Key: "expirations", Value: arr}}, nil
}

func (c *conn) mgmtPeek(path string, body amqpwire.Map) (amqpwire.Map, *mgmtError) {
	fromV, _ := body.Get("from-sequence-number")
	countV, _ := body.Get("message-count")
	from, ok1 := amqpwire.ToInt64(fromV)
	count, ok2 := amqpwire.ToInt64(countV)
	if !ok1 || !ok2 || count <= 0 {
		return nil, badRequest("peek needs from-sequence-number (long) and a positive message-count (int)")
	}
	msgs, err := c.srv.broker.Peek(path, from, int(min(count, maxMgmtItems)))
	if err != nil {
		return nil, c.mgmtBrokerError(path, err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return messageList(msgs, false)
}

// messageList encodes messages as the LIST of maps the clients expect.
func messageList(msgs []*broker.Message, withLocks bool) (amqpwire.Map, *mgmtError) {
	list := make([]any, 0, len(msgs))
	for _, m := range msgs {
		enc, err := encodeDelivery(m, withLocks, withLocks)
		if err != nil {
			return nil, &mgmtError{status: statusServerError, desc: err.Error()}
		}
		entry := amqpwire.Map{{Key: "message", Value: enc}}
		if withLocks {
			entry = append(entry, amqpwire.MapEntry{Key: "lock-token", Value: amqpwire.UUID(m.LockToken)})
		}
		list = append(list, entry)
	}
	return amqpwire.Map{{Key: "messages", Value: list}}, nil
}

func (c *conn) mgmtSchedule(path string, body amqpwire.Map) (amqpwire.Map, *mgmtError) {
	l, merr := elems(body, "messages")
	if merr != nil {
		return nil, merr
	}
	// Decode every message first, then schedule them in one broker
	// transaction (one fsync with --data): all or nothing, so a retry after
	// an error cannot duplicate the ones that went through. Send schedules
	// each message at its own ScheduledEnqueueTime (now when unset).
	msgs := make([]*broker.Message, 0, len(l))
	for i, e := range l {
		entry, ok := e.(amqpwire.Map)
		if !ok {
			return nil, badRequest("messages[%d] is %T, not a map", i, e)
		}
		raw, _ := entry.Get("message")
		b, ok := raw.([]byte)
		if !ok {
			return nil, badRequest("messages[%d].message is not binary", i)
		}
		m, err := toBrokerMessage(b)
		if err != nil {
			return nil, badRequest("messages[%d]: %v", i, err)
		}
		msgs = append(msgs, m)
	}
	got, err := c.srv.broker.Send(path, msgs)
	if err != nil {
		return nil, c.mgmtBrokerError(path, err)
	}
	seqs := amqpwire.Array{Code: amqpwire.TypeLong}
	for _, s := range got {
		seqs.Elems = append(seqs.Elems, s)
	}
	return amqpwire.Map{{Key: "sequence-numbers", Value: seqs}}, nil
}

func (c *conn) mgmtCancel(path string, body amqpwire.Map) *mgmtError {
	seqs, merr := sequenceNumbers(body)
	if merr != nil {
		return merr
	}
	if err := c.srv.broker.CancelScheduled(path, seqs); err != nil {
		return c.mgmtBrokerError(path, err)
	}
	return nil
}

func (c *conn) mgmtReceiveBySequence(path string, body amqpwire.Map) (amqpwire.Map, *mgmtError) {
	seqs, merr := sequenceNumbers(body)
	if merr != nil {
		return nil, merr
	}
	mode := broker.PeekLock
	if v, ok := body.Get("receiver-settle-mode"); ok {
		if n, ok := amqpwire.ToInt64(v); ok && n == 0 {
			mode = broker.ReceiveAndDelete
		}
	}
	msgs, err := c.srv.broker.ReceiveDeferred(path, mode, seqs)
	if err != nil {
		return nil, c.mgmtBrokerError(path, err)
	}
	return messageList(msgs, mode == broker.PeekLock)
}

func (c *conn) mgmtUpdateDisposition(path string, body amqpwire.Map) *mgmtError {
	tokens, merr := lockTokens(body)
	if merr != nil {
		return merr
	}
	statusV, _ := body.Get("disposition-status")
	status, _ := statusV.(string)
	str := func(k string) string {
		v, _ := body.Get(k)
		s, _ := v.(string)
		return s
	}
	var props map[string]any
	if v, ok := body.Get("properties-to-modify"); ok {
		m, _ := v.(amqpwire.Map)
		props = propsFromMap(m)
	}
	b := c.srv.broker
	for _, t := range tokens {
		var err error
		switch strings.ToLower(status) {
		case "completed":
			err = b.Complete(path, t)
		case "abandoned":
			err = b.Abandon(path, t, props)
		case "suspended":
			err = b.DeadLetter(path, t, str("deadletter-reason"), str("deadletter-description"), props)
		case "defered", "deferred":
			err = b.Defer(path, t, props)
		default:
			return badRequest("unknown disposition-status %q", status)
		}
		if err != nil {
			return c.mgmtBrokerError(path, err)
		}
	}
	return nil
}
