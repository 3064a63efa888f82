package amqpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("amqp: malformed encoding")

// maxDepth bounds nesting of compound and described values.
const maxDepth = 64

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// decoder reads AMQP values from an in-memory buffer.
type decoder struct {
	b     []byte
	off   int
	depth int
}

// Decode decodes one AMQP value from b and returns it with the number of
// bytes consumed. Known composites (performatives, delivery states, error,
// source, target) are returned as their struct types; other described
// values as Described.
func Decode(b []byte) (any, int, error) {
	d := &decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, 0, err
	}
	return v, d.off, nil
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || d.remaining() < n {
		return nil, malformed("need %d bytes at offset %d, have %d", n, d.off, d.remaining())
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *decoder) byte1() (byte, error) {
	s, err := d.need(1)
	if err != nil {
		return 0, err
	}
	return s[0], nil
}

func (d *decoder) u32() (uint32, error) {
	s, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(s), nil
}

// value decodes a constructor and its value.
func (d *decoder) value() (any, error) {
	code, err := d.byte1()
	if err != nil {
		return nil, err
	}
	if code == TypeDescribed {
		return d.described()
	}
	return d.primitive(code)
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return malformed("nesting deeper than %d", maxDepth)
	}
	return nil
}

func (d *decoder) described() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	desc, err := d.value()
	if err != nil {
		return nil, err
	}
	switch desc.(type) {
	case uint64, Symbol:
	default:
		return nil, malformed("descriptor of type %T", desc)
	}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	return decodeComposite(desc, v)
}

// fixedWidth reports the encoded width of fixed-size types, or -1.
func fixedWidth(code byte) int {
	switch code {
	case TypeNull, TypeTrue, TypeFalse, TypeUint0, TypeUlong0, TypeList0:
		return 0
	case TypeUbyte, TypeByte, TypeSmallUint, TypeSmallUlong, TypeSmallInt, TypeSmallLong, TypeBool:
		return 1
	case TypeUshort, TypeShort:
		return 2
	case TypeUint, TypeInt, TypeFloat, TypeChar, TypeDecimal32:
		return 4
	case TypeUlong, TypeLong, TypeDouble, TypeTimestamp, TypeDecimal64:
		return 8
	case TypeDecimal128, TypeUUID:
		return 16
	}
	return -1
}

func (d *decoder) primitive(code byte) (any, error) {
	if w := fixedWidth(code); w >= 0 {
		s, err := d.need(w)
		if err != nil {
			return nil, err
		}
		return fixedValue(code, s)
	}
	switch code {
	case TypeVbin8, TypeStr8, TypeSym8:
		n, err := d.byte1()
		if err != nil {
			return nil, err
		}
		return d.variable(code, int(n))
	case TypeVbin32, TypeStr32, TypeSym32:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if int64(n) > int64(d.remaining()) {
			return nil, malformed("variable width %d exceeds %d remaining bytes", n, d.remaining())
		}
		return d.variable(code, int(n))
	case TypeList8, TypeMap8, TypeArray8:
		s, err := d.need(2)
		if err != nil {
			return nil, err
		}
		return d.compound(code, int(s[0])-1, int(s[1]))
	case TypeList32, TypeMap32, TypeArray32:
		size, err := d.u32()
		if err != nil {
			return nil, err
		}
		count, err := d.u32()
		if err != nil {
			return nil, err
		}
		if size < 4 || int64(size)-4 > int64(d.remaining()) || int64(count) > int64(d.remaining()) {
			return nil, malformed("compound size %d count %d exceed %d remaining bytes", size, count, d.remaining())
		}
		return d.compound(code, int(size)-4, int(count))
	}
	return nil, malformed("unknown type code 0x%02x at offset %d", code, d.off-1)
}

func fixedValue(code byte, s []byte) (any, error) {
	be := binary.BigEndian
	switch code {
	case TypeNull:
		return nil, nil
	case TypeTrue:
		return true, nil
	case TypeFalse:
		return false, nil
	case TypeUint0:
		return uint32(0), nil
	case TypeUlong0:
		return uint64(0), nil
	case TypeList0:
		return []any{}, nil
	case TypeUbyte:
		return s[0], nil
	case TypeByte:
		return int8(s[0]), nil
	case TypeSmallUint:
		return uint32(s[0]), nil
	case TypeSmallUlong:
		return uint64(s[0]), nil
	case TypeSmallInt:
		return int32(int8(s[0])), nil
	case TypeSmallLong:
		return int64(int8(s[0])), nil
	case TypeBool:
		switch s[0] {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return nil, malformed("boolean byte 0x%02x", s[0])
	case TypeUshort:
		return be.Uint16(s), nil
	case TypeShort:
		return int16(be.Uint16(s)), nil
	case TypeUint:
		return be.Uint32(s), nil
	case TypeInt:
		return int32(be.Uint32(s)), nil
	case TypeFloat:
		return math.Float32frombits(be.Uint32(s)), nil
	case TypeChar:
		r := rune(be.Uint32(s))
		if !utf8.ValidRune(r) {
			return nil, malformed("char 0x%x is not a valid code point", uint32(r))
		}
		return Char(r), nil
	case TypeUlong:
		return be.Uint64(s), nil
	case TypeLong:
		return int64(be.Uint64(s)), nil
	case TypeDouble:
		return math.Float64frombits(be.Uint64(s)), nil
	case TypeTimestamp:
		return timeFromMillis(int64(be.Uint64(s))), nil
	case TypeDecimal32, TypeDecimal64, TypeDecimal128:
		return Decimal{Code: code, Bytes: append([]byte(nil), s...)}, nil
	case TypeUUID:
		var u UUID
		copy(u[:], s)
		return u, nil
	}
	return nil, malformed("unknown fixed type 0x%02x", code)
}

func (d *decoder) variable(code byte, n int) (any, error) {
	s, err := d.need(n)
	if err != nil {
		return nil, err
	}
	switch code {
	case TypeVbin8, TypeVbin32:
		return append([]byte{}, s...), nil
	case TypeStr8, TypeStr32:
		if !utf8.Valid(s) {
			return nil, malformed("string is not valid UTF-8")
		}
		return string(s), nil
	default:
		return Symbol(s), nil
	}
}

// compound decodes a list, map or array body of size bytes (after the
// count) holding count elements.
func (d *decoder) compound(code byte, size, count int) (any, error) {
	if size < 0 {
		return nil, malformed("compound size smaller than its count field")
	}
	body, err := d.need(size)
	if err != nil {
		return nil, err
	}
	if count > len(body) && !(code == TypeArray8 || code == TypeArray32) {
		return nil, malformed("compound count %d exceeds its %d bytes", count, len(body))
	}
	sub := &decoder{b: body, depth: d.depth}
	if err := sub.enter(); err != nil {
		return nil, err
	}
	var v any
	switch code {
	case TypeList8, TypeList32:
		v, err = sub.list(count)
	case TypeMap8, TypeMap32:
		v, err = sub.mapBody(count)
	default:
		v, err = sub.array(count)
	}
	if err != nil {
		return nil, err
	}
	if sub.remaining() != 0 {
		return nil, malformed("%d trailing bytes in compound value", sub.remaining())
	}
	return v, nil
}

func (d *decoder) list(count int) ([]any, error) {
	l := make([]any, 0, count)
	for range count {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	return l, nil
}

func (d *decoder) mapBody(count int) (Map, error) {
	if count%2 != 0 {
		return nil, malformed("map with odd element count %d", count)
	}
	m := make(Map, 0, count/2)
	for i := 0; i < count; i += 2 {
		k, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m = append(m, MapEntry{Key: k, Value: v})
	}
	return m, nil
}

func (d *decoder) array(count int) (Array, error) {
	var a Array
	code, err := d.byte1()
	if err != nil {
		return a, err
	}
	if code == TypeDescribed {
		desc, err := d.value()
		if err != nil {
			return a, err
		}
		a.Descriptor = desc
		if code, err = d.byte1(); err != nil {
			return a, err
		}
		if code == TypeDescribed {
			return a, malformed("nested described array constructor")
		}
	}
	a.Code = code
	// Zero-width elements would let a tiny input claim a huge count: bound
	// the count by the input length for every element type.
	if count > len(d.b) {
		return a, malformed("array count %d exceeds its %d bytes", count, len(d.b))
	}
	a.Elems = make([]any, 0, count)
	for range count {
		v, err := d.primitive(code)
		if err != nil {
			return a, err
		}
		a.Elems = append(a.Elems, v)
	}
	return a, nil
}
