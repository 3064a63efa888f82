package amqpwire

import (
	"bytes"
	"testing"
)

func FuzzDecodeFrame(f *testing.F) {
	for _, tt := range samplePerformatives() {
		b, err := AppendFrame(nil, tt.typ, 1, tt.body, []byte{0x00, 0x53, 0x75, 0xa0, 0x01, 0x01})
		if err != nil {
			f.Fatal(err)
		}
		if _, ok := tt.body.(*Transfer); !ok {
			b, _ = AppendFrame(nil, tt.typ, 1, tt.body, nil)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		if err != nil || fr.Body == nil {
			return
		}
		body := fr.Body.(Composite)
		enc, err := AppendFrame(nil, fr.Type, fr.Channel, body, fr.Payload)
		if err != nil {
			return // e.g. a decoded array whose elements cannot be re-encoded compactly
		}
		fr2, err := ParseFrame(enc)
		if err != nil {
			t.Fatalf("re-encoded frame does not parse: %v", err)
		}
		enc2, err := AppendFrame(nil, fr2.Type, fr2.Channel, fr2.Body.(Composite), fr2.Payload)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %x vs %x (%v)", enc, enc2, err)
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	seeds := []*Message{
		{Properties: &Properties{MessageID: "m"}, Data: [][]byte{[]byte("body")}},
		{Header: &Header{Priority: 4, TTL: 1000}, MessageAnnotations: Map{{Key: Symbol("x-opt-sequence-number"), Value: int64(1)}},
			ApplicationProperties: Map{{Key: "k", Value: 1.5}}, Value: Map{{Key: "lock-tokens", Value: Array{Code: TypeUUID, Elems: []any{UUID{1}}}}}, HasValue: true},
		{Sequence: [][]any{{"a"}}, Footer: Map{}},
	}
	for _, m := range seeds {
		b, err := AppendMessage(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		enc, err := AppendMessage(nil, m)
		if err != nil {
			return
		}
		m2, err := DecodeMessage(enc)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if !bytes.Equal(m.Bare, m2.Bare) {
			t.Fatalf("bare message changed: %x vs %x", m.Bare, m2.Bare)
		}
	})
}
