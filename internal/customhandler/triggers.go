package customhandler

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EventGridEvent is one event delivered to an eventGridTrigger, in the
// Event Grid schema. Events in the CloudEvents 1.0 schema are mapped onto
// the same fields (type → EventType, source → Topic, time → EventTime).
type EventGridEvent struct {
	ID              string          `json:"id"`
	Topic           string          `json:"topic"`
	Subject         string          `json:"subject"`
	EventType       string          `json:"eventType"`
	EventTime       time.Time       `json:"eventTime"`
	Data            json.RawMessage `json:"data"`
	DataVersion     string          `json:"dataVersion"`
	MetadataVersion string          `json:"metadataVersion"`
}

// EventGrid decodes the event in Data[name]: an object, or a JSON string
// holding one (both occur; see the reference §1.6.2).
func (r *InvokeRequest) EventGrid(name string) (EventGridEvent, error) {
	raw, err := r.Input(name)
	if err != nil {
		return EventGridEvent{}, fmt.Errorf("event grid trigger: %w", err)
	}
	var wire struct {
		EventGridEvent
		Type        string `json:"type"`
		Source      string `json:"source"`
		Time        string `json:"time"`
		SpecVersion string `json:"specversion"`
	}
	if err := Decode(raw, &wire); err != nil {
		return EventGridEvent{}, fmt.Errorf("event grid trigger %q: %w", name, err)
	}
	ev := wire.EventGridEvent
	if wire.SpecVersion != "" { // CloudEvents schema
		ev.EventType, ev.Topic = wire.Type, wire.Source
		if wire.Time != "" {
			t, err := ParseTime(wire.Time)
			if err != nil {
				return EventGridEvent{}, fmt.Errorf("event grid trigger %q: cloud event time: %w", name, err)
			}
			ev.EventTime = t
		}
	}
	if ev.EventType == "" {
		return EventGridEvent{}, fmt.Errorf("event grid trigger %q: event has no eventType", name)
	}
	// data itself may be a JSON string holding the object.
	if len(ev.Data) > 0 {
		ev.Data = Unwrap(ev.Data)
	}
	return ev, nil
}

// ServiceBusMessage is one message delivered by a serviceBusTrigger with
// dataType "string" (or "binary"), with the metadata the handler uses.
type ServiceBusMessage struct {
	Body                  []byte
	MessageID             string
	CorrelationID         string
	ContentType           string
	DeliveryCount         int64
	SequenceNumber        int64
	EnqueuedTime          time.Time
	ApplicationProperties map[string]any
}

// BodyEncoding says how a Service Bus trigger's Data carries bodies.
type BodyEncoding int

const (
	// BodyString is dataType "string": text in a (doubly) encoded JSON string.
	BodyString BodyEncoding = iota
	// BodyBinary is dataType "binary": base64 in a JSON string.
	BodyBinary
)

func decodeBody(raw json.RawMessage, enc BodyEncoding) ([]byte, error) {
	if enc == BodyBinary {
		return Bytes(raw)
	}
	return Body(raw)
}

// ServiceBus decodes a single-message serviceBusTrigger input.
func (r *InvokeRequest) ServiceBus(name string, enc BodyEncoding) (ServiceBusMessage, error) {
	raw, err := r.Input(name)
	if err != nil {
		return ServiceBusMessage{}, fmt.Errorf("service bus trigger: %w", err)
	}
	body, err := decodeBody(raw, enc)
	if err != nil {
		return ServiceBusMessage{}, fmt.Errorf("service bus trigger %q: %w", name, err)
	}
	m := ServiceBusMessage{
		Body:          body,
		MessageID:     r.MetaString("MessageId"),
		CorrelationID: r.MetaString("CorrelationId"),
		ContentType:   r.MetaString("ContentType"),
	}
	if v, err := r.Meta("DeliveryCount"); err == nil {
		m.DeliveryCount, _ = Int64(v)
	}
	if v, err := r.Meta("SequenceNumber"); err == nil {
		m.SequenceNumber, _ = Int64(v)
	}
	if v, err := r.Meta("EnqueuedTimeUtc"); err == nil {
		m.EnqueuedTime, _ = Time(v)
	}
	if v, err := r.Meta("ApplicationProperties"); err == nil {
		_ = Decode(v, &m.ApplicationProperties)
	}
	return m, nil
}

// ServiceBusBatch decodes a serviceBusTrigger with cardinality "many":
// Data[name] is an array (usually a JSON string holding one) of bodies, and
// per-message metadata comes from the *Array keys, index by index. A
// metadata array whose length differs from the body count is an error:
// pairing by index would attach the wrong ids.
func (r *InvokeRequest) ServiceBusBatch(name string, enc BodyEncoding) ([]ServiceBusMessage, error) {
	raw, err := r.Input(name)
	if err != nil {
		return nil, fmt.Errorf("service bus batch trigger: %w", err)
	}
	elems, err := Array(raw)
	if err != nil {
		return nil, fmt.Errorf("service bus batch trigger %q: %w", name, err)
	}
	msgs := make([]ServiceBusMessage, len(elems))
	for i, e := range elems {
		b, err := decodeBody(e, enc)
		if err != nil {
			return nil, fmt.Errorf("service bus batch trigger %q: message %d: %w", name, i, err)
		}
		msgs[i].Body = b
	}
	type field struct {
		key string
		set func(m *ServiceBusMessage, v json.RawMessage) error
	}
	fields := []field{
		{"MessageIdArray", func(m *ServiceBusMessage, v json.RawMessage) (err error) { m.MessageID, err = String(v); return }},
		{"CorrelationIdArray", func(m *ServiceBusMessage, v json.RawMessage) (err error) { m.CorrelationID, err = String(v); return }},
		{"ContentTypeArray", func(m *ServiceBusMessage, v json.RawMessage) (err error) { m.ContentType, err = String(v); return }},
		{"DeliveryCountArray", func(m *ServiceBusMessage, v json.RawMessage) (err error) { m.DeliveryCount, err = Int64(v); return }},
		{"SequenceNumberArray", func(m *ServiceBusMessage, v json.RawMessage) (err error) { m.SequenceNumber, err = Int64(v); return }},
		{"EnqueuedTimeUtcArray", func(m *ServiceBusMessage, v json.RawMessage) (err error) { m.EnqueuedTime, err = Time(v); return }},
		{"ApplicationPropertiesArray", func(m *ServiceBusMessage, v json.RawMessage) error { return Decode(v, &m.ApplicationProperties) }},
	}
	for _, f := range fields {
		v, err := r.Meta(f.key)
		if errors.Is(err, ErrMissing) {
			continue
		}
		vals, err := Array(v)
		if err != nil {
			return nil, fmt.Errorf("service bus batch metadata %s: %w", f.key, err)
		}
		if len(vals) != len(msgs) {
			return nil, fmt.Errorf("service bus batch metadata %s: %d values for %d messages", f.key, len(vals), len(msgs))
		}
		for i, v := range vals {
			if isNull(v) {
				continue
			}
			if err := f.set(&msgs[i], v); err != nil {
				return nil, fmt.Errorf("service bus batch metadata %s[%d]: %w", f.key, i, err)
			}
		}
	}
	return msgs, nil
}

// TimerInfo is the timerTrigger value (the host's TimerInfo object).
// ScheduleStatus is nil when the schedule is not monitored.
type TimerInfo struct {
	ScheduleStatus *ScheduleStatus
	IsPastDue      bool
}

// ScheduleStatus is TimerInfo.ScheduleStatus.
type ScheduleStatus struct {
	Last, Next, LastUpdated time.Time
}

// Timer decodes a timerTrigger input.
func (r *InvokeRequest) Timer(name string) (TimerInfo, error) {
	raw, err := r.Input(name)
	if err != nil {
		return TimerInfo{}, fmt.Errorf("timer trigger: %w", err)
	}
	var wire struct {
		ScheduleStatus *struct {
			Last, Next, LastUpdated json.RawMessage
		}
		IsPastDue json.RawMessage
	}
	if err := Decode(raw, &wire); err != nil {
		return TimerInfo{}, fmt.Errorf("timer trigger %q: %w", name, err)
	}
	var ti TimerInfo
	if !isNull(wire.IsPastDue) {
		if ti.IsPastDue, err = Bool(wire.IsPastDue); err != nil {
			return TimerInfo{}, fmt.Errorf("timer trigger %q: IsPastDue: %w", name, err)
		}
	}
	if ss := wire.ScheduleStatus; ss != nil {
		var st ScheduleStatus
		for _, p := range []struct {
			raw json.RawMessage
			dst *time.Time
			n   string
		}{{ss.Last, &st.Last, "Last"}, {ss.Next, &st.Next, "Next"}, {ss.LastUpdated, &st.LastUpdated, "LastUpdated"}} {
			if isNull(p.raw) {
				continue
			}
			if *p.dst, err = Time(p.raw); err != nil {
				return TimerInfo{}, fmt.Errorf("timer trigger %q: ScheduleStatus.%s: %w", name, p.n, err)
			}
		}
		ti.ScheduleStatus = &st
	}
	return ti, nil
}

// HTTPRequest is an httpTrigger input when forwarding is off.
type HTTPRequest struct {
	URL     string
	Method  string
	Query   map[string]string
	Headers map[string][]string
	Params  map[string]string
	Body    []byte
}

// HTTP decodes an httpTrigger input.
func (r *InvokeRequest) HTTP(name string) (HTTPRequest, error) {
	raw, err := r.Input(name)
	if err != nil {
		return HTTPRequest{}, fmt.Errorf("http trigger: %w", err)
	}
	var wire struct {
		URL     json.RawMessage            `json:"Url"`
		Method  json.RawMessage            `json:"Method"`
		Query   map[string]json.RawMessage `json:"Query"`
		Headers map[string]json.RawMessage `json:"Headers"`
		Params  map[string]json.RawMessage `json:"Params"`
		Body    json.RawMessage            `json:"Body"`
	}
	if err := Decode(raw, &wire); err != nil {
		return HTTPRequest{}, fmt.Errorf("http trigger %q: %w", name, err)
	}
	var h HTTPRequest
	h.URL, _ = String(wire.URL)
	if h.Method, err = String(wire.Method); err != nil {
		return HTTPRequest{}, fmt.Errorf("http trigger %q: Method: %w", name, err)
	}
	h.Method = strings.ToUpper(h.Method)
	h.Query = stringMap(wire.Query)
	h.Params = stringMap(wire.Params)
	h.Headers = make(map[string][]string, len(wire.Headers))
	for k, v := range wire.Headers {
		if vals, err := Array(v); err == nil {
			for _, e := range vals {
				if s, err := String(e); err == nil {
					h.Headers[k] = append(h.Headers[k], s)
				}
			}
		} else if s, err := String(v); err == nil {
			h.Headers[k] = []string{s}
		}
	}
	if !isNull(wire.Body) {
		if h.Body, err = Body(wire.Body); err != nil {
			return HTTPRequest{}, fmt.Errorf("http trigger %q: Body: %w", name, err)
		}
	}
	return h, nil
}

func stringMap(in map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if s, err := String(v); err == nil {
			out[k] = s
		}
	}
	return out
}
