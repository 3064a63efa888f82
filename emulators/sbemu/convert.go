package sbemu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
)

// Message annotation and application property names (reference §3, §4).
const (
	annSequenceNumber  = "x-opt-sequence-number"
	annEnqueuedTime    = "x-opt-enqueued-time"
	annLockedUntil     = "x-opt-locked-until"
	annScheduledTime   = "x-opt-scheduled-enqueue-time"
	annMessageState    = "x-opt-message-state"
	annDeadLetterSrc   = "x-opt-deadletter-source"
	annLockToken       = "x-opt-lock-token"
	propDLReason       = "DeadLetterReason"
	propDLDescription  = "DeadLetterErrorDescription"
	batchEnvelopeLimit = 10000 // messages per batch transfer
)

// decodeIncoming turns a transfer payload into broker messages: one for
// format 0, one per data section for the batch format 0x80013700.
func decodeIncoming(format uint32, payload []byte) ([]*broker.Message, error) {
	if format != batchFormat {
		m, err := toBrokerMessage(payload)
		if err != nil {
			return nil, err
		}
		return []*broker.Message{m}, nil
	}
	env, err := amqpwire.DecodeMessage(payload)
	if err != nil {
		return nil, fmt.Errorf("decode batch envelope: %w", err)
	}
	if len(env.Data) == 0 || len(env.Data) > batchEnvelopeLimit {
		return nil, fmt.Errorf("batch envelope holds %d data sections", len(env.Data))
	}
	msgs := make([]*broker.Message, 0, len(env.Data))
	for i, d := range env.Data {
		m, err := toBrokerMessage(d)
		if err != nil {
			return nil, fmt.Errorf("batch message %d: %w", i, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// toBrokerMessage extracts the broker's fields from an encoded message.
// Raw keeps the header, message-annotations, bare message and footer; the
// header's delivery-count and ttl and the delivery-annotations are rebuilt
// on delivery.
func toBrokerMessage(b []byte) (*broker.Message, error) {
	am, err := amqpwire.DecodeMessage(b)
	if err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	m := &broker.Message{Size: len(b)}
	if am.Properties == nil || am.Properties.MessageID == nil {
		// The service assigns a message-id when the sender set none;
		// clients key lock renewal and duplicate detection on it.
		if am.Properties == nil {
			am.Properties = &amqpwire.Properties{}
		}
		am.Properties.MessageID = newMessageID()
		am.Bare = nil
	}
	if h := am.Header; h != nil && h.TTL > 0 {
		m.TimeToLive = time.Duration(h.TTL) * time.Millisecond
	}
	if p := am.Properties; p != nil {
		m.MessageID = idString(p.MessageID)
		m.CorrelationID = idString(p.CorrelationID)
		m.SessionID = p.GroupID
		m.Subject = p.Subject
		m.To = p.To
		m.ReplyTo = p.ReplyTo
		m.ReplyToSessionID = p.ReplyToGroupID
		m.ContentType = string(p.ContentType)
	}
	if v, ok := am.MessageAnnotations.Get(annScheduledTime); ok {
		if t, ok := v.(time.Time); ok {
			m.ScheduledEnqueueTime = t
		}
	}
	m.ApplicationProperties, err = appProps(am.ApplicationProperties)
	if err != nil {
		return nil, err
	}
	am.DeliveryAnnotations = nil
	// Broker-owned annotations from a re-sent received message are dropped.
	var ma amqpwire.Map
	for _, e := range am.MessageAnnotations {
		if k, ok := e.Key.(amqpwire.Symbol); ok {
			switch string(k) {
			case annSequenceNumber, annEnqueuedTime, annLockedUntil, annMessageState, annDeadLetterSrc, "x-opt-enqueue-sequence-number":
				continue
			}
		}
		ma = append(ma, e)
	}
	if am.MessageAnnotations != nil {
		am.MessageAnnotations = ma
		if am.MessageAnnotations == nil {
			am.MessageAnnotations = amqpwire.Map{}
		}
	}
	if m.Raw, err = amqpwire.AppendMessage(nil, am); err != nil {
		return nil, fmt.Errorf("re-encode message: %w", err)
	}
	return m, nil
}

// newMessageID returns a random 32-hex-digit id, the format the service
// uses for ids it assigns.
func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idString renders a message-id or correlation-id as Service Bus does.
func idString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case amqpwire.UUID:
		return v.String()
	case uint64:
		return strconv.FormatUint(v, 10)
	case []byte:
		return hex.EncodeToString(v)
	}
	return ""
}

// appProps converts application-properties to the broker's value types.
func appProps(m amqpwire.Map) (map[string]any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(m))
	for _, e := range m {
		k, ok := e.Key.(string)
		if !ok {
			if s, isSym := e.Key.(amqpwire.Symbol); isSym {
				k = string(s)
			} else {
				return nil, fmt.Errorf("application property key of type %T", e.Key)
			}
		}
		v, ok := toPropValue(e.Value)
		if !ok {
			return nil, fmt.Errorf("application property %q has unsupported type %T", k, e.Value)
		}
		out[k] = v
	}
	return out, nil
}

// toPropValue converts a decoded AMQP value to a broker property value.
func toPropValue(v any) (any, bool) {
	switch v := v.(type) {
	case nil, string, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, time.Time, []byte:
		return v, true
	case amqpwire.Symbol:
		return string(v), true
	case amqpwire.UUID:
		return [16]byte(v), true
	case amqpwire.Char:
		return string(rune(v)), true
	}
	return nil, false
}

// fromPropValue converts a broker property value back to an AMQP value.
func fromPropValue(v any) any {
	switch v := v.(type) {
	case [16]byte:
		return amqpwire.UUID(v)
	case int:
		return int64(v)
	case uint:
		return uint64(v)
	}
	return v
}

// propsFromMap converts "properties to modify" (modified outcome's
// message-annotations or the update-disposition map) to broker values,
// dropping values the broker cannot store.
func propsFromMap(m amqpwire.Map) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for _, e := range m {
		var k string
		switch key := e.Key.(type) {
		case string:
			k = key
		case amqpwire.Symbol:
			k = string(key)
		default:
			continue
		}
		if v, ok := toPropValue(e.Value); ok {
			out[k] = v
		}
	}
	return out
}

// deadLetterInfo splits a rejected outcome's error into reason,
// description and properties to modify (reference §4 settlement table).
func deadLetterInfo(e *amqpwire.Error) (reason, desc string, props map[string]any) {
	if e == nil {
		return "", "", nil
	}
	props = propsFromMap(e.Info)
	if v, ok := props[propDLReason].(string); ok {
		reason = v
	}
	if v, ok := props[propDLDescription].(string); ok {
		desc = v
	}
	delete(props, propDLReason)
	delete(props, propDLDescription)
	if e.Condition != condDeadLetter && reason == "" {
		reason, desc = string(e.Condition), e.Description
	}
	if len(props) == 0 {
		props = nil
	}
	return reason, desc, props
}

// encodeDelivery builds the message we transfer (or return from peek and
// receive-by-sequence-number) from a broker message: a fresh header, the
// broker's annotations merged over the sender's, modified properties and
// dead-letter properties applied, and a properties section always present.
func encodeDelivery(m *broker.Message, peekLock, lockTokenAnnotation bool) ([]byte, error) {
	am, err := amqpwire.DecodeMessage(m.Raw)
	if err != nil {
		return nil, fmt.Errorf("decode stored message %d: %w", m.SequenceNumber, err)
	}
	if am.Header == nil {
		am.Header = &amqpwire.Header{Priority: 4}
	}
	am.Header.DeliveryCount, am.Header.TTL = m.DeliveryCount, 0
	if ttl := m.TimeToLive; ttl > 0 && ttl/time.Millisecond <= 1<<32-1 {
		am.Header.TTL = uint32(ttl / time.Millisecond)
	}
	if lockTokenAnnotation && m.LockToken != ([16]byte{}) {
		am.DeliveryAnnotations = amqpwire.Map{{Key: amqpwire.Symbol(annLockToken), Value: amqpwire.UUID(m.LockToken)}}
	}
	ma := append(amqpwire.Map{}, am.MessageAnnotations...)
	ma = ma.Set(amqpwire.Symbol(annSequenceNumber), m.SequenceNumber)
	ma = ma.Set(amqpwire.Symbol(annEnqueuedTime), m.EnqueuedTime)
	if peekLock && !m.LockedUntil.IsZero() {
		ma = ma.Set(amqpwire.Symbol(annLockedUntil), m.LockedUntil)
	}
	if m.State != broker.StateActive {
		ma = ma.Set(amqpwire.Symbol(annMessageState), int64(m.State))
	}
	if m.DeadLetterSource != "" {
		ma = ma.Set(amqpwire.Symbol(annDeadLetterSrc), m.DeadLetterSource)
	}
	am.MessageAnnotations = ma

	if am.Properties == nil || len(m.PropertiesModified) > 0 || m.DeadLetterReason != "" ||
		m.DeadLetterDescription != "" || len(m.SystemPropertiesModified) > 0 {
		am.Bare = nil // re-encode the bare message from its fields
		if am.Properties == nil {
			am.Properties = &amqpwire.Properties{}
		}
		applySystemProps(am.Properties, m.SystemPropertiesModified)
		ap := append(amqpwire.Map{}, am.ApplicationProperties...)
		for _, k := range sortedKeys(m.PropertiesModified) {
			ap = ap.Set(k, fromPropValue(m.PropertiesModified[k]))
		}
		if m.DeadLetterReason != "" {
			ap = ap.Set(propDLReason, m.DeadLetterReason)
		}
		if m.DeadLetterDescription != "" {
			ap = ap.Set(propDLDescription, m.DeadLetterDescription)
		}
		if len(ap) > 0 {
			am.ApplicationProperties = ap
		}
		if len(am.Data) == 0 && len(am.Sequence) == 0 && !am.HasValue {
			am.Data = [][]byte{{}}
		}
	}
	return amqpwire.AppendMessage(nil, am)
}

// applySystemProps overrides properties fields set by rule actions
// ("SET sys.To = 'x'"), keyed by AMQP field name.
func applySystemProps(p *amqpwire.Properties, sys map[string]string) {
	for k, v := range sys {
		switch k {
		case "message-id":
			p.MessageID = v
		case "correlation-id":
			p.CorrelationID = v
		case "to":
			p.To = v
		case "reply-to":
			p.ReplyTo = v
		case "subject":
			p.Subject = v
		case "content-type":
			p.ContentType = amqpwire.Symbol(v)
		case "group-id":
			p.GroupID = v
		case "reply-to-group-id":
			p.ReplyToGroupID = v
		}
	}
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
