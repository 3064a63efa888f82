package amqpwire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func samplePerformatives() []struct {
	name string
	typ  byte
	body Composite
} {
	lockLost := &Error{Condition: "com.microsoft:message-lock-lost", Description: "lock expired",
		Info: Map{{Key: Symbol("tracking"), Value: "x"}}}
	return []struct {
		name string
		typ  byte
		body Composite
	}{
		{"open", FrameAMQP, &Open{ContainerID: "c1", Hostname: "localhost:5672", MaxFrameSize: 65536, ChannelMax: 65535,
			IdleTimeOut: 30000, Properties: Map{{Key: Symbol("product"), Value: "MSGolangClient"}},
			OfferedCapabilities: []Symbol{"ANONYMOUS-RELAY"}}},
		{"begin", FrameAMQP, &Begin{RemoteChannel: Ptr[uint16](3), NextOutgoingID: 1, IncomingWindow: 5000,
			OutgoingWindow: 5000, HandleMax: 4294967294}},
		{"attach sender", FrameAMQP, &Attach{Name: "link", Handle: 2, Role: RoleSender, SndSettleMode: Ptr(SndMixed),
			RcvSettleMode: Ptr(RcvFirst), Source: &Source{}, Target: &Target{Address: "queue1"}, InitialDeliveryCount: Ptr[uint32](0),
			MaxMessageSize: 262144, Properties: Map{{Key: Symbol("com.microsoft:max-message-batch-size"), Value: uint64(100)}}}},
		{"attach receiver filter", FrameAMQP, &Attach{Name: "r", Handle: 0, Role: RoleReceiver, RcvSettleMode: Ptr(RcvSecond),
			Source: &Source{Address: "t/Subscriptions/s", Filter: Map{{Key: Symbol("com.microsoft:session-filter"),
				Value: Described{Descriptor: uint64(0x137000000c), Value: "sess"}}}, Outcomes: []Symbol{"amqp:accepted:list"},
				DefaultOutcome: &Modified{DeliveryFailed: true}}, Target: &Target{}}},
		{"flow", FrameAMQP, &Flow{NextIncomingID: Ptr[uint32](5), IncomingWindow: 5000, NextOutgoingID: 9, OutgoingWindow: 10,
			Handle: Ptr[uint32](1), DeliveryCount: Ptr[uint32](2), LinkCredit: Ptr[uint32](3), Drain: true, Echo: true}},
		{"transfer", FrameAMQP, &Transfer{Handle: 1, DeliveryID: Ptr[uint32](7), DeliveryTag: []byte{1, 2, 3},
			MessageFormat: Ptr[uint32](0x80013700), Settled: Ptr(false), More: true, State: &Received{SectionNumber: 1, SectionOffset: 2}}},
		{"disposition accepted", FrameAMQP, &Disposition{Role: RoleReceiver, First: 1, Last: Ptr[uint32](4), Settled: true, State: &Accepted{}}},
		{"disposition rejected", FrameAMQP, &Disposition{Role: RoleSender, First: 1, Settled: true, State: &Rejected{Error: lockLost}}},
		{"disposition modified", FrameAMQP, &Disposition{Role: RoleReceiver, First: 0, State: &Modified{UndeliverableHere: true,
			MessageAnnotations: Map{{Key: "k", Value: int64(1)}}}}},
		{"disposition released", FrameAMQP, &Disposition{Role: RoleReceiver, First: 0, Settled: true, State: &Released{}}},
		{"detach", FrameAMQP, &Detach{Handle: 4, Closed: true, Error: &Error{Condition: "amqp:not-found", Description: "no entity"}}},
		{"end", FrameAMQP, &End{}},
		{"close", FrameAMQP, &Close{Error: &Error{Condition: "amqp:resource-limit-exceeded"}}},
		{"sasl mechanisms", FrameSASL, &SASLMechanisms{Mechanisms: []Symbol{"MSSBCBS", "PLAIN", "ANONYMOUS"}}},
		{"sasl init", FrameSASL, &SASLInit{Mechanism: "ANONYMOUS", InitialResponse: []byte("anonymous"), Hostname: "h"}},
		{"sasl challenge", FrameSASL, &SASLChallenge{Challenge: []byte("c")}},
		{"sasl response", FrameSASL, &SASLResponse{Response: []byte("r")}},
		{"sasl outcome", FrameSASL, &SASLOutcome{Code: SASLAuth, AdditionalData: []byte("d")}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, tt := range samplePerformatives() {
		t.Run(tt.name, func(t *testing.T) {
			var payload []byte
			if _, ok := tt.body.(*Transfer); ok {
				payload = []byte("payload bytes")
			}
			b, err := AppendFrame([]byte("prefix"), tt.typ, 9, tt.body, payload)
			if err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
			b = b[len("prefix"):]
			size, err := FrameSize(b[:8])
			if err != nil || int(size) != len(b) {
				t.Fatalf("FrameSize = %d, %v; want %d", size, err, len(b))
			}
			f, err := ParseFrame(b)
			if err != nil {
				t.Fatalf("ParseFrame: %v", err)
			}
			if f.Type != tt.typ || f.Channel != 9 {
				t.Errorf("type/channel = %d/%d, want %d/9", f.Type, f.Channel, tt.typ)
			}
			if !reflect.DeepEqual(f.Body, tt.body) {
				t.Errorf("body = %#v\nwant %#v", f.Body, tt.body)
			}
			if !bytes.Equal(f.Payload, payload) {
				t.Errorf("payload = %q, want %q", f.Payload, payload)
			}
		})
	}
}

func TestEmptyFrame(t *testing.T) {
	b, err := AppendFrame(nil, FrameAMQP, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 0, 0, 8, 2, 0, 0, 0}; !bytes.Equal(b, want) {
		t.Fatalf("empty frame = %x, want %x", b, want)
	}
	f, err := ParseFrame(b)
	if err != nil || f.Body != nil {
		t.Fatalf("ParseFrame(empty) = %#v, %v", f, err)
	}
}

func TestParseFrameErrors(t *testing.T) {
	open, _ := AppendFrame(nil, FrameAMQP, 0, &Open{ContainerID: "x"}, nil)
	saslInAMQP, _ := AppendFrame(nil, FrameAMQP, 0, &SASLInit{Mechanism: "PLAIN"}, nil)
	trailing := append(append([]byte{}, open...), 0x40)
	trailing[3]++
	tests := []struct {
		name string
		b    []byte
	}{
		{"short header", []byte{0, 0, 0, 8}},
		{"size below header", []byte{0, 0, 0, 4, 2, 0, 0, 0}},
		{"doff too small", []byte{0, 0, 0, 8, 1, 0, 0, 0}},
		{"doff past size", []byte{0, 0, 0, 8, 3, 0, 0, 0}},
		{"unknown type", []byte{0, 0, 0, 8, 2, 7, 0, 0}},
		{"size mismatch", open[:len(open)-1]},
		{"sasl body in amqp frame", saslInAMQP},
		{"trailing bytes after open", trailing},
		{"non-composite body", []byte{0, 0, 0, 9, 2, 0, 0, 0, 0x40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseFrame(tt.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseFrame error = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDecodeSymbolicDescriptor(t *testing.T) {
	// close with a symbolic descriptor and an error.
	b := []byte{0x00, TypeSym8, 14}
	b = append(b, "amqp:close:list"[:14]...)
	b = []byte{0x00, TypeSym8, 15}
	b = append(b, "amqp:close:list"...)
	b = append(b, TypeList0)
	v, _, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(*Close); !ok {
		t.Fatalf("decoded %T, want *Close", v)
	}
}

func TestMessageRoundTrip(t *testing.T) {
	ts := time.UnixMilli(1700000000000).UTC()
	m := &Message{
		Header:              &Header{Durable: true, Priority: 4, TTL: 60000, DeliveryCount: 2},
		DeliveryAnnotations: Map{{Key: Symbol("x-opt-lock-token"), Value: UUID{1, 2}}},
		MessageAnnotations: Map{{Key: Symbol("x-opt-sequence-number"), Value: int64(42)},
			{Key: Symbol("x-opt-enqueued-time"), Value: ts}},
		Properties: &Properties{MessageID: "id-1", To: "q", Subject: "s", ReplyTo: "r", CorrelationID: "c",
			ContentType: "application/json", GroupID: "g", GroupSequence: Ptr[uint32](1), CreationTime: ts},
		ApplicationProperties: Map{{Key: "n", Value: int64(1)}, {Key: "s", Value: "v"}},
		Data:                  [][]byte{[]byte("hello")},
		Footer:                Map{{Key: Symbol("f"), Value: true}},
	}
	b, err := AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMessage(b)
	if err != nil {
		t.Fatalf("DecodeMessage: %v", err)
	}
	bare, err := (&Message{Properties: m.Properties, ApplicationProperties: m.ApplicationProperties, Data: m.Data}).appendBare(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bare, bare) {
		t.Errorf("Bare = %x\nwant %x", got.Bare, bare)
	}
	got.Bare = nil
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip = %#v\nwant %#v", got, m)
	}

	// Re-annotating keeps the bare message byte-identical.
	again, _ := DecodeMessage(b)
	again.Header = &Header{Priority: 4, DeliveryCount: 9}
	again.MessageAnnotations = Map{}
	b2, err := AppendMessage(nil, again)
	if err != nil {
		t.Fatal(err)
	}
	third, err := DecodeMessage(b2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(third.Bare, bare) || third.Header.DeliveryCount != 9 {
		t.Errorf("re-annotated message lost its bare bytes or header")
	}
}

func TestMessageBodies(t *testing.T) {
	tests := []struct {
		name string
		m    *Message
	}{
		{"value string", &Message{Properties: &Properties{MessageID: uint64(3)}, Value: "token", HasValue: true}},
		{"value map", &Message{ApplicationProperties: Map{{Key: "operation", Value: "put-token"}},
			Value: Map{{Key: "lock-tokens", Value: Array{Code: TypeUUID, Elems: []any{UUID{9}}}}}, HasValue: true}},
		{"sequences", &Message{Sequence: [][]any{{"a", int32(1)}, {true}}}},
		{"multi data", &Message{Data: [][]byte{{1}, {}, {3, 4}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendMessage(nil, tt.m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			got.Bare = nil
			if !reflect.DeepEqual(got, tt.m) {
				t.Errorf("round trip = %#v\nwant %#v", got, tt.m)
			}
		})
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	sec := func(code uint64, v any) []byte {
		b, err := appendSection(nil, code, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"not described", []byte{0x40}},
		{"unknown section", sec(0x99, []any{})},
		{"out of order", cat(sec(DescProperties, []any{}), sec(DescHeader, []any{}))},
		{"repeated header", cat(sec(DescHeader, []any{}), sec(DescHeader, []any{}))},
		{"mixed body", cat(sec(DescData, []byte{1}), sec(DescAMQPValue, "x"))},
		{"two values", cat(sec(DescAMQPValue, "x"), sec(DescAMQPValue, "y"))},
		{"data not binary", sec(DescData, "str")},
		{"properties not list", sec(DescProperties, "str")},
		{"app props not map", sec(DescApplicationProperties, []any{})},
		{"message id bad type", sec(DescProperties, []any{true})},
		{"header ttl wrong type", sec(DescHeader, []any{nil, nil, "x"})},
		{"truncated", sec(DescData, []byte{1, 2, 3})[:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeMessage(tt.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("DecodeMessage error = %v, want ErrMalformed", err)
			}
		})
	}
}
