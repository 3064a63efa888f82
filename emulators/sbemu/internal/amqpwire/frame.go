package amqpwire

import (
	"encoding/binary"
	"fmt"
)

// Frame types.
const (
	FrameAMQP byte = 0x00
	FrameSASL byte = 0x01
)

// FrameHeaderSize is the fixed frame header length.
const FrameHeaderSize = 8

// MinMaxFrameSize is the smallest max-frame-size a peer may advertise.
const MinMaxFrameSize = 512

// Protocol headers.
var (
	ProtoAMQP = [8]byte{'A', 'M', 'Q', 'P', 0, 1, 0, 0}
	ProtoTLS  = [8]byte{'A', 'M', 'Q', 'P', 2, 1, 0, 0}
	ProtoSASL = [8]byte{'A', 'M', 'Q', 'P', 3, 1, 0, 0}
)

// Frame is a decoded frame. Body is nil for an empty (heartbeat) frame.
type Frame struct {
	Type    byte
	Channel uint16
	Body    any    // *Open, *Begin, ..., *SASLInit, ...; nil = empty frame
	Payload []byte // bytes after the performative (transfer payload)
}

// FrameSize validates an 8-byte frame header and returns the total frame
// size it announces.
func FrameSize(hdr []byte) (uint32, error) {
	if len(hdr) < FrameHeaderSize {
		return 0, malformed("frame header of %d bytes", len(hdr))
	}
	size := binary.BigEndian.Uint32(hdr)
	doff := hdr[4]
	if size < FrameHeaderSize {
		return 0, malformed("frame size %d below header size", size)
	}
	if doff < 2 || uint32(doff)*4 > size {
		return 0, malformed("frame data offset %d invalid for size %d", doff, size)
	}
	if hdr[5] != FrameAMQP && hdr[5] != FrameSASL {
		return 0, malformed("frame type 0x%02x", hdr[5])
	}
	return size, nil
}

// ParseFrame decodes exactly one complete frame. The Payload aliases b.
func ParseFrame(b []byte) (Frame, error) {
	var f Frame
	size, err := FrameSize(b)
	if err != nil {
		return f, err
	}
	if uint64(size) != uint64(len(b)) {
		return f, malformed("frame announces %d bytes, got %d", size, len(b))
	}
	f.Type = b[5]
	f.Channel = binary.BigEndian.Uint16(b[6:8])
	body := b[int(b[4])*4:]
	if len(body) == 0 {
		return f, nil
	}
	v, n, err := Decode(body)
	if err != nil {
		return f, fmt.Errorf("decode frame body: %w", err)
	}
	if !validBody(f.Type, v) {
		return f, malformed("frame type 0x%02x cannot carry %T", f.Type, v)
	}
	f.Body = v
	if n < len(body) {
		if _, ok := v.(*Transfer); !ok {
			return f, malformed("%d bytes after %T performative", len(body)-n, v)
		}
		f.Payload = body[n:]
	}
	return f, nil
}

func validBody(typ byte, v any) bool {
	if typ == FrameSASL {
		switch v.(type) {
		case *SASLMechanisms, *SASLInit, *SASLChallenge, *SASLResponse, *SASLOutcome:
			return true
		}
		return false
	}
	switch v.(type) {
	case *Open, *Begin, *Attach, *Flow, *Transfer, *Disposition, *Detach, *End, *Close:
		return true
	}
	return false
}

// AppendFrame appends a frame carrying body (nil for an empty frame) and
// payload to buf.
func AppendFrame(buf []byte, typ byte, channel uint16, body Composite, payload []byte) ([]byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 2, typ, byte(channel>>8), byte(channel))
	if body != nil {
		var err error
		if buf, err = Append(buf, body); err != nil {
			return nil, fmt.Errorf("encode %T frame: %w", body, err)
		}
	}
	buf = append(buf, payload...)
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start))
	return buf, nil
}

// EncodedSize returns the encoded length of a performative, so callers can
// size transfer payloads to fit max-frame-size.
func EncodedSize(body Composite) (int, error) {
	b, err := Append(nil, body)
	return len(b), err
}
