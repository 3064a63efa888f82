package amqpwire

import (
	"fmt"
	"time"
)

// Header is the message header section.
type Header struct {
	Durable       bool
	Priority      uint8  // default 4
	TTL           uint32 // milliseconds; 0 = absent
	FirstAcquirer bool
	DeliveryCount uint32
}

// fields encodes every header field except an absent ttl explicitly:
// some clients (rhea) report an omitted delivery-count as undefined rather
// than its default 0.
func (h *Header) fields() []any {
	return []any{h.Durable, h.Priority, nonZeroU32(h.TTL), h.FirstAcquirer, h.DeliveryCount}
}

// Properties is the immutable properties section of the bare message.
type Properties struct {
	MessageID          any // ulong, uuid, binary or string
	UserID             []byte
	To                 string
	Subject            string
	ReplyTo            string
	CorrelationID      any
	ContentType        Symbol
	ContentEncoding    Symbol
	AbsoluteExpiryTime time.Time
	CreationTime       time.Time
	GroupID            string
	GroupSequence      *uint32
	ReplyToGroupID     string
}

func (p *Properties) fields() []any {
	return []any{p.MessageID, optBin(p.UserID), optStr(p.To), optStr(p.Subject), optStr(p.ReplyTo),
		p.CorrelationID, optSym(p.ContentType), optSym(p.ContentEncoding), optTime(p.AbsoluteExpiryTime),
		optTime(p.CreationTime), optStr(p.GroupID), optU32(p.GroupSequence), optStr(p.ReplyToGroupID)}
}

// Message is an annotated AMQP message. Nil maps and pointers are absent
// sections; a non-nil empty map is an empty section.
type Message struct {
	Header                *Header
	DeliveryAnnotations   Map
	MessageAnnotations    Map
	Properties            *Properties
	ApplicationProperties Map
	Data                  [][]byte // one entry per data section
	Sequence              [][]any  // one entry per amqp-sequence section
	Value                 any      // amqp-value body when HasValue
	HasValue              bool
	Footer                Map

	// Bare holds the encoded bare message (properties through the body).
	// DecodeMessage sets it; when non-nil, AppendMessage writes it verbatim
	// instead of Properties, ApplicationProperties and the body, so the
	// bare message stays byte-identical as the spec requires.
	Bare []byte
}

type section struct {
	code uint64
	v    any
	raw  []byte
}

// DecodeMessage decodes the sections of an encoded message.
func DecodeMessage(b []byte) (*Message, error) {
	var m Message
	var secs []section
	d := &decoder{b: b}
	for d.remaining() > 0 {
		start := d.off
		c, err := d.byte1()
		if err != nil {
			return nil, err
		}
		if c != TypeDescribed {
			return nil, malformed("message section at offset %d is not described (0x%02x)", start, c)
		}
		desc, err := d.value()
		if err != nil {
			return nil, fmt.Errorf("message section descriptor: %w", err)
		}
		code := descriptorCode(desc)
		if code < DescHeader || code > DescFooter {
			return nil, malformed("unknown message section descriptor %v", desc)
		}
		v, err := d.value()
		if err != nil {
			return nil, fmt.Errorf("message section 0x%x: %w", code, err)
		}
		secs = append(secs, section{code: code, v: v, raw: b[start:d.off]})
	}
	if err := m.fill(secs, b); err != nil {
		return nil, err
	}
	return &m, nil
}

// order gives each section kind its position; body sections share one.
func order(code uint64) int {
	switch code {
	case DescData, DescAMQPSequence, DescAMQPValue:
		return int(DescData)
	}
	return int(code)
}

func (m *Message) fill(secs []section, b []byte) error {
	last := -1
	var bodyKind uint64
	bareStart, bareEnd := -1, -1
	off := 0
	for _, s := range secs {
		pos := order(s.code)
		if pos < last || (pos == last && pos != int(DescData)) {
			return malformed("message section 0x%x out of order or repeated", s.code)
		}
		last = pos
		if s.code >= DescProperties && s.code <= DescAMQPValue {
			if bareStart < 0 {
				bareStart = off
			}
			bareEnd = off + len(s.raw)
		}
		off += len(s.raw)
		var err error
		switch s.code {
		case DescHeader:
			m.Header, err = decodeHeader(s.v)
		case DescDeliveryAnnotations:
			m.DeliveryAnnotations, err = sectionMap("delivery-annotations", s.v)
		case DescMessageAnnotations:
			m.MessageAnnotations, err = sectionMap("message-annotations", s.v)
		case DescProperties:
			m.Properties, err = decodeProperties(s.v)
		case DescApplicationProperties:
			m.ApplicationProperties, err = sectionMap("application-properties", s.v)
		case DescFooter:
			m.Footer, err = sectionMap("footer", s.v)
		default:
			if bodyKind != 0 && (bodyKind != s.code || s.code == DescAMQPValue) {
				return malformed("message body mixes section kinds 0x%x and 0x%x", bodyKind, s.code)
			}
			bodyKind = s.code
			err = m.addBody(s.code, s.v)
		}
		if err != nil {
			return err
		}
	}
	if bareStart >= 0 {
		m.Bare = b[bareStart:bareEnd]
	}
	return nil
}

func (m *Message) addBody(code uint64, v any) error {
	switch code {
	case DescData:
		bin, ok := v.([]byte)
		if !ok {
			return malformed("data section holds %T, not binary", v)
		}
		m.Data = append(m.Data, bin)
	case DescAMQPSequence:
		l, ok := v.([]any)
		if !ok {
			return malformed("amqp-sequence section holds %T, not a list", v)
		}
		m.Sequence = append(m.Sequence, l)
	default:
		m.Value, m.HasValue = v, true
	}
	return nil
}

func sectionMap(name string, v any) (Map, error) {
	switch v := v.(type) {
	case Map:
		return v, nil
	case nil:
		return Map{}, nil
	}
	return nil, malformed("%s section holds %T, not a map", name, v)
}

func sectionList(name string, v any) ([]any, error) {
	switch v := v.(type) {
	case []any:
		return v, nil
	case nil:
		return nil, nil
	}
	return nil, malformed("%s section holds %T, not a list", name, v)
}

func decodeHeader(v any) (*Header, error) {
	l, err := sectionList("header", v)
	if err != nil {
		return nil, err
	}
	r := fieldReader{name: "header", l: l}
	h := &Header{Durable: r.bool(0, false), Priority: 4, TTL: r.uint32(2, 0), FirstAcquirer: r.bool(3, false),
		DeliveryCount: r.uint32(4, 0)}
	if p := r.uint8p(1); p != nil {
		h.Priority = *p
	}
	return h, r.err
}

func decodeProperties(v any) (*Properties, error) {
	l, err := sectionList("properties", v)
	if err != nil {
		return nil, err
	}
	r := fieldReader{name: "properties", l: l}
	p := &Properties{MessageID: r.get(0), UserID: r.binary(1), To: r.string(2), Subject: r.string(3),
		ReplyTo: r.string(4), CorrelationID: r.get(5), ContentType: r.symbol(6), ContentEncoding: r.symbol(7),
		AbsoluteExpiryTime: r.time(8), CreationTime: r.time(9), GroupID: r.string(10),
		GroupSequence: r.uint32p(11), ReplyToGroupID: r.string(12)}
	for _, id := range []any{p.MessageID, p.CorrelationID} {
		switch id.(type) {
		case nil, uint64, UUID, []byte, string:
		default:
			if r.err == nil {
				r.err = malformed("properties message or correlation id of type %T", id)
			}
		}
	}
	return p, r.err
}

func appendSection(buf []byte, code uint64, v any) ([]byte, error) {
	buf = append(buf, TypeDescribed)
	buf, _ = Append(buf, code)
	return Append(buf, v)
}

func trimList(f []any) []any {
	for len(f) > 0 && f[len(f)-1] == nil {
		f = f[:len(f)-1]
	}
	return f
}

// AppendMessage appends the encoding of m to buf.
func AppendMessage(buf []byte, m *Message) ([]byte, error) {
	var err error
	if m.Header != nil {
		if buf, err = appendSection(buf, DescHeader, trimList(m.Header.fields())); err != nil {
			return nil, err
		}
	}
	if m.DeliveryAnnotations != nil {
		if buf, err = appendSection(buf, DescDeliveryAnnotations, m.DeliveryAnnotations); err != nil {
			return nil, err
		}
	}
	if m.MessageAnnotations != nil {
		if buf, err = appendSection(buf, DescMessageAnnotations, m.MessageAnnotations); err != nil {
			return nil, err
		}
	}
	if m.Bare != nil {
		buf = append(buf, m.Bare...)
	} else if buf, err = m.appendBare(buf); err != nil {
		return nil, err
	}
	if m.Footer != nil {
		if buf, err = appendSection(buf, DescFooter, m.Footer); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func (m *Message) appendBare(buf []byte) ([]byte, error) {
	var err error
	if m.Properties != nil {
		if buf, err = appendSection(buf, DescProperties, trimList(m.Properties.fields())); err != nil {
			return nil, fmt.Errorf("encode properties: %w", err)
		}
	}
	if m.ApplicationProperties != nil {
		if buf, err = appendSection(buf, DescApplicationProperties, m.ApplicationProperties); err != nil {
			return nil, fmt.Errorf("encode application-properties: %w", err)
		}
	}
	for _, d := range m.Data {
		if d == nil {
			d = []byte{}
		}
		buf, _ = appendSection(buf, DescData, d)
	}
	for _, s := range m.Sequence {
		if buf, err = appendSection(buf, DescAMQPSequence, s); err != nil {
			return nil, fmt.Errorf("encode amqp-sequence: %w", err)
		}
	}
	if m.HasValue {
		if buf, err = appendSection(buf, DescAMQPValue, m.Value); err != nil {
			return nil, fmt.Errorf("encode amqp-value: %w", err)
		}
	}
	return buf, nil
}
