package broker

import (
	"encoding/json"
	"fmt"
	"time"
)

// record is the persisted form of a stored message (JSON in the bbolt
// file). Property maps carry their Go types so that the AMQP layer gets back
// exactly what it handed in (an int32 stays an int32).
type record struct {
	Seq        int64                 `json:"seq"`
	MessageID  string                `json:"mid,omitempty"`
	SessionID  string                `json:"sid,omitempty"`
	CorrID     string                `json:"cid,omitempty"`
	Subject    string                `json:"sub,omitempty"`
	To         string                `json:"to,omitempty"`
	ReplyTo    string                `json:"rto,omitempty"`
	ReplyToSID string                `json:"rts,omitempty"`
	CType      string                `json:"ct,omitempty"`
	TTL        time.Duration         `json:"ttl,omitempty"`
	Sched      time.Time             `json:"sch,omitzero"`
	Enq        time.Time             `json:"enq,omitzero"`
	Exp        time.Time             `json:"exp,omitzero"`
	DC         uint32                `json:"dc,omitempty"`
	State      MessageState          `json:"st,omitempty"`
	DLReason   string                `json:"dlr,omitempty"`
	DLDesc     string                `json:"dld,omitempty"`
	DLSource   string                `json:"dls,omitempty"`
	App        map[string]typedValue `json:"app,omitempty"`
	Mod        map[string]typedValue `json:"mod,omitempty"`
	Sys        map[string]string     `json:"sys,omitempty"`
	Size       int                   `json:"size,omitempty"`
	Raw        []byte                `json:"raw,omitempty"`
}

type typedValue struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v,omitempty"`
}

// encodeRecord returns the persisted form of m.
func encodeRecord(m *Message) ([]byte, error) {
	r := record{
		Seq: m.SequenceNumber, MessageID: m.MessageID, SessionID: m.SessionID, CorrID: m.CorrelationID,
		Subject: m.Subject, To: m.To, ReplyTo: m.ReplyTo, ReplyToSID: m.ReplyToSessionID, CType: m.ContentType,
		TTL: m.TimeToLive, Sched: m.ScheduledEnqueueTime, Enq: m.EnqueuedTime, Exp: m.ExpiresAt,
		DC: m.DeliveryCount, State: m.State, DLReason: m.DeadLetterReason, DLDesc: m.DeadLetterDescription,
		DLSource: m.DeadLetterSource, Sys: m.SystemPropertiesModified, Size: m.Size, Raw: m.Raw,
	}
	var err error
	if r.App, err = encodeProps(m.ApplicationProperties); err != nil {
		return nil, err
	}
	if r.Mod, err = encodeProps(m.PropertiesModified); err != nil {
		return nil, err
	}
	return json.Marshal(&r)
}

// decodeRecord is the inverse of encodeRecord.
func decodeRecord(data []byte) (*Message, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	m := &Message{
		SequenceNumber: r.Seq, MessageID: r.MessageID, SessionID: r.SessionID, CorrelationID: r.CorrID,
		Subject: r.Subject, To: r.To, ReplyTo: r.ReplyTo, ReplyToSessionID: r.ReplyToSID, ContentType: r.CType,
		TimeToLive: r.TTL, ScheduledEnqueueTime: r.Sched, EnqueuedTime: r.Enq, ExpiresAt: r.Exp,
		DeliveryCount: r.DC, State: r.State, DeadLetterReason: r.DLReason, DeadLetterDescription: r.DLDesc,
		DeadLetterSource: r.DLSource, SystemPropertiesModified: r.Sys, Size: r.Size, Raw: r.Raw,
	}
	var err error
	if m.ApplicationProperties, err = decodeProps(r.App); err != nil {
		return nil, err
	}
	if m.PropertiesModified, err = decodeProps(r.Mod); err != nil {
		return nil, err
	}
	return m, nil
}

// checkProps reports the first property whose type the broker cannot
// persist.
func checkProps(props map[string]any) error {
	for k, v := range props {
		if _, err := encodeValue(v); err != nil {
			return fmt.Errorf("property %q: %w", k, err)
		}
	}
	return nil
}

func encodeProps(props map[string]any) (map[string]typedValue, error) {
	if props == nil {
		return nil, nil
	}
	out := make(map[string]typedValue, len(props))
	for k, v := range props {
		tv, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		out[k] = tv
	}
	return out, nil
}

func encodeValue(v any) (typedValue, error) {
	var t string
	switch v.(type) {
	case nil:
		return typedValue{T: "nil"}, nil
	case string:
		t = "string"
	case bool:
		t = "bool"
	case int:
		t, v = "int64", int64(v.(int))
	case int8:
		t = "int8"
	case int16:
		t = "int16"
	case int32:
		t = "int32"
	case int64:
		t = "int64"
	case uint:
		t, v = "uint64", uint64(v.(uint))
	case uint8:
		t = "uint8"
	case uint16:
		t = "uint16"
	case uint32:
		t = "uint32"
	case uint64:
		t = "uint64"
	case float32:
		t = "float32"
	case float64:
		t = "float64"
	case time.Time:
		t = "time"
	case []byte:
		t = "bytes"
	case [16]byte:
		t = "uuid"
	default:
		return typedValue{}, fmt.Errorf("%w: unsupported property value type %T", ErrInvalidArgument, v)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return typedValue{}, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	return typedValue{T: t, V: raw}, nil
}

func decodeProps(in map[string]typedValue) (map[string]any, error) {
	if in == nil {
		return nil, nil
	}
	out := make(map[string]any, len(in))
	for k, tv := range in {
		v, err := decodeValue(tv)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func decodeValue(tv typedValue) (any, error) {
	switch tv.T {
	case "nil":
		return nil, nil
	case "string":
		return unmarshalAs[string](tv.V)
	case "bool":
		return unmarshalAs[bool](tv.V)
	case "int8":
		return unmarshalAs[int8](tv.V)
	case "int16":
		return unmarshalAs[int16](tv.V)
	case "int32":
		return unmarshalAs[int32](tv.V)
	case "int64":
		return unmarshalAs[int64](tv.V)
	case "uint8":
		return unmarshalAs[uint8](tv.V)
	case "uint16":
		return unmarshalAs[uint16](tv.V)
	case "uint32":
		return unmarshalAs[uint32](tv.V)
	case "uint64":
		return unmarshalAs[uint64](tv.V)
	case "float32":
		return unmarshalAs[float32](tv.V)
	case "float64":
		return unmarshalAs[float64](tv.V)
	case "time":
		return unmarshalAs[time.Time](tv.V)
	case "bytes":
		return unmarshalAs[[]byte](tv.V)
	case "uuid":
		return unmarshalAs[[16]byte](tv.V)
	}
	return nil, fmt.Errorf("unknown persisted value type %q", tv.T)
}

func unmarshalAs[T any](raw json.RawMessage) (any, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}
