package amqpwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Composite is implemented by the described list types of this package.
type Composite interface {
	// Descriptor returns the numeric descriptor code.
	Descriptor() uint64
	// fields returns the list fields in order; trailing nils are trimmed.
	fields() []any
}

// Append appends the AMQP encoding of v to buf. It fails for Go types with
// no AMQP mapping.
func Append(buf []byte, v any) ([]byte, error) {
	be := binary.BigEndian
	switch v := v.(type) {
	case nil:
		return append(buf, TypeNull), nil
	case bool:
		if v {
			return append(buf, TypeTrue), nil
		}
		return append(buf, TypeFalse), nil
	case uint8:
		return append(buf, TypeUbyte, v), nil
	case uint16:
		return be.AppendUint16(append(buf, TypeUshort), v), nil
	case uint32:
		switch {
		case v == 0:
			return append(buf, TypeUint0), nil
		case v < 256:
			return append(buf, TypeSmallUint, byte(v)), nil
		}
		return be.AppendUint32(append(buf, TypeUint), v), nil
	case uint64:
		switch {
		case v == 0:
			return append(buf, TypeUlong0), nil
		case v < 256:
			return append(buf, TypeSmallUlong, byte(v)), nil
		}
		return be.AppendUint64(append(buf, TypeUlong), v), nil
	case int8:
		return append(buf, TypeByte, byte(v)), nil
	case int16:
		return be.AppendUint16(append(buf, TypeShort), uint16(v)), nil
	case int32:
		if v >= -128 && v <= 127 {
			return append(buf, TypeSmallInt, byte(int8(v))), nil
		}
		return be.AppendUint32(append(buf, TypeInt), uint32(v)), nil
	case int64:
		if v >= -128 && v <= 127 {
			return append(buf, TypeSmallLong, byte(int8(v))), nil
		}
		return be.AppendUint64(append(buf, TypeLong), uint64(v)), nil
	case float32:
		return be.AppendUint32(append(buf, TypeFloat), math.Float32bits(v)), nil
	case float64:
		return be.AppendUint64(append(buf, TypeDouble), math.Float64bits(v)), nil
	case Decimal:
		if fixedWidth(v.Code) != len(v.Bytes) || (v.Code != TypeDecimal32 && v.Code != TypeDecimal64 && v.Code != TypeDecimal128) {
			return nil, fmt.Errorf("encode decimal: code 0x%02x with %d bytes", v.Code, len(v.Bytes))
		}
		return append(append(buf, v.Code), v.Bytes...), nil
	case Char:
		return be.AppendUint32(append(buf, TypeChar), uint32(v)), nil
	case time.Time:
		return be.AppendUint64(append(buf, TypeTimestamp), uint64(v.UnixMilli())), nil
	case UUID:
		return append(append(buf, TypeUUID), v[:]...), nil
	case []byte:
		return appendVariable(buf, TypeVbin8, TypeVbin32, v), nil
	case string:
		return appendVariable(buf, TypeStr8, TypeStr32, []byte(v)), nil
	case Symbol:
		return appendVariable(buf, TypeSym8, TypeSym32, []byte(v)), nil
	case []any:
		return appendList(buf, v)
	case Map:
		return appendMap(buf, v)
	case Array:
		return appendArray(buf, v)
	case []Symbol:
		a := Array{Code: TypeSym8, Elems: make([]any, len(v))}
		for i, s := range v {
			a.Elems[i] = s
		}
		return appendArray(buf, a)
	case Described:
		buf = append(buf, TypeDescribed)
		buf, err := Append(buf, v.Descriptor)
		if err != nil {
			return nil, err
		}
		return Append(buf, v.Value)
	case Composite:
		return appendComposite(buf, v)
	}
	return nil, fmt.Errorf("encode: unsupported Go type %T", v)
}

func appendComposite(buf []byte, c Composite) ([]byte, error) {
	buf = append(buf, TypeDescribed)
	buf, _ = Append(buf, c.Descriptor())
	f := c.fields()
	for len(f) > 0 && f[len(f)-1] == nil {
		f = f[:len(f)-1]
	}
	return appendList(buf, f)
}

func appendVariable(buf []byte, c8, c32 byte, b []byte) []byte {
	if len(b) < 256 {
		buf = append(buf, c8, byte(len(b)))
	} else {
		buf = binary.BigEndian.AppendUint32(append(buf, c32), uint32(len(b)))
	}
	return append(buf, b...)
}

// appendSized writes constructor, size and count in the 8- or 32-bit form
// around body.
func appendSized(buf []byte, c8, c32 byte, count int, body []byte) []byte {
	if len(body)+1 < 256 && count < 256 {
		buf = append(buf, c8, byte(len(body)+1), byte(count))
	} else {
		buf = append(buf, c32)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(body)+4))
		buf = binary.BigEndian.AppendUint32(buf, uint32(count))
	}
	return append(buf, body...)
}

func appendList(buf []byte, l []any) ([]byte, error) {
	if len(l) == 0 {
		return append(buf, TypeList0), nil
	}
	var body []byte
	var err error
	for _, v := range l {
		if body, err = Append(body, v); err != nil {
			return nil, err
		}
	}
	return appendSized(buf, TypeList8, TypeList32, len(l), body), nil
}

func appendMap(buf []byte, m Map) ([]byte, error) {
	var body []byte
	var err error
	for _, e := range m {
		if body, err = Append(body, e.Key); err != nil {
			return nil, err
		}
		if body, err = Append(body, e.Value); err != nil {
			return nil, err
		}
	}
	return appendSized(buf, TypeMap8, TypeMap32, 2*len(m), body), nil
}

// arrayCode picks the element constructor for a Go value in an array.
func arrayCode(v any) (byte, error) {
	switch v.(type) {
	case nil:
		return TypeNull, nil
	case bool:
		return TypeBool, nil
	case uint8:
		return TypeUbyte, nil
	case uint16:
		return TypeUshort, nil
	case uint32:
		return TypeUint, nil
	case uint64:
		return TypeUlong, nil
	case int8:
		return TypeByte, nil
	case int16:
		return TypeShort, nil
	case int32:
		return TypeInt, nil
	case int64:
		return TypeLong, nil
	case float32:
		return TypeFloat, nil
	case float64:
		return TypeDouble, nil
	case Char:
		return TypeChar, nil
	case time.Time:
		return TypeTimestamp, nil
	case UUID:
		return TypeUUID, nil
	case []byte:
		return TypeVbin32, nil
	case string:
		return TypeStr32, nil
	case Symbol:
		return TypeSym32, nil
	case []any:
		return TypeList32, nil
	case Map:
		return TypeMap32, nil
	case Array:
		return TypeArray32, nil
	case Decimal:
		return v.(Decimal).Code, nil
	}
	return 0, fmt.Errorf("encode array: unsupported element type %T", v)
}

func appendArray(buf []byte, a Array) ([]byte, error) {
	code := a.Code
	if code == 0 {
		if len(a.Elems) == 0 {
			code = TypeNull
		} else {
			var err error
			if code, err = arrayCode(a.Elems[0]); err != nil {
				return nil, err
			}
		}
	}
	var body []byte
	if a.Descriptor != nil {
		body = append(body, TypeDescribed)
		var err error
		if body, err = Append(body, a.Descriptor); err != nil {
			return nil, err
		}
	}
	body = append(body, code)
	for i, e := range a.Elems {
		var err error
		if body, err = appendElement(body, code, e); err != nil {
			return nil, fmt.Errorf("encode array element %d: %w", i, err)
		}
	}
	return appendSized(buf, TypeArray8, TypeArray32, len(a.Elems), body), nil
}

// appendElement encodes e without its constructor, in the form code.
func appendElement(buf []byte, code byte, e any) ([]byte, error) {
	enc, err := Append(nil, e)
	if err != nil {
		return nil, err
	}
	enc, err = widen(code, enc)
	if err != nil {
		return nil, err
	}
	return append(buf, enc[1:]...), nil
}

// widen re-encodes a compactly encoded value (constructor included) into
// the form given by code, so that every array element has the same width.
func widen(code byte, enc []byte) ([]byte, error) {
	if enc[0] == code {
		return enc, nil
	}
	v, _, err := Decode(enc)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	out := []byte{code}
	switch code {
	case TypeUint:
		if u, ok := v.(uint32); ok {
			return be.AppendUint32(out, u), nil
		}
	case TypeUlong:
		if u, ok := v.(uint64); ok {
			return be.AppendUint64(out, u), nil
		}
	case TypeInt:
		if i, ok := v.(int32); ok {
			return be.AppendUint32(out, uint32(i)), nil
		}
	case TypeLong:
		if i, ok := v.(int64); ok {
			return be.AppendUint64(out, uint64(i)), nil
		}
	case TypeBool:
		if b, ok := v.(bool); ok {
			if b {
				return append(out, 1), nil
			}
			return append(out, 0), nil
		}
	case TypeVbin32, TypeStr32, TypeSym32:
		n := len(enc) - 2
		return append(be.AppendUint32(out, uint32(n)), enc[2:]...), nil
	case TypeVbin8, TypeStr8, TypeSym8:
		if enc[0] == TypeVbin32 || enc[0] == TypeStr32 || enc[0] == TypeSym32 {
			return nil, fmt.Errorf("value of %d bytes does not fit array code 0x%02x", len(enc)-5, code)
		}
	case TypeList32, TypeMap32, TypeArray32:
		switch enc[0] {
		case TypeList0:
			return be.AppendUint32(be.AppendUint32(out, 4), 0), nil
		case TypeList8, TypeMap8, TypeArray8:
			size, count := uint32(enc[1])-1, uint32(enc[2])
			out = be.AppendUint32(out, size+4)
			out = be.AppendUint32(out, count)
			return append(out, enc[3:]...), nil
		}
	}
	return nil, fmt.Errorf("value encoded as 0x%02x does not fit array code 0x%02x", enc[0], code)
}
