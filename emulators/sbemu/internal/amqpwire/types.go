package amqpwire

import (
	"encoding/hex"
	"time"
)

// Go representations of AMQP types produced by Decode and accepted by
// Append:
//
//	null                      nil
//	boolean                   bool
//	ubyte ushort uint ulong   uint8 uint16 uint32 uint64
//	byte short int long       int8 int16 int32 int64
//	float double              float32 float64
//	decimal32/64/128          Decimal
//	char                      Char
//	timestamp                 time.Time (UTC, millisecond precision)
//	uuid                      UUID
//	binary                    []byte
//	string                    string
//	symbol                    Symbol
//	list                      []any
//	map                       Map
//	array                     Array
//	described                 Described (unless a known composite)

// Symbol is an AMQP symbol (ASCII string from a constrained domain).
type Symbol string

// UUID is an AMQP uuid in RFC 4122 byte order.
type UUID [16]byte

// String formats u as 8-4-4-4-12 lower-case hex.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Char is an AMQP char (a single UTF-32BE code point).
type Char rune

// Decimal is an opaque AMQP decimal32/64/128 value.
type Decimal struct {
	Code  byte   // TypeDecimal32, TypeDecimal64 or TypeDecimal128
	Bytes []byte // 4, 8 or 16 bytes, IEEE 754 decimal encoding
}

// Described is a described value whose descriptor is not a known composite.
type Described struct {
	Descriptor any // uint64 or Symbol in practice
	Value      any
}

// MapEntry is one key/value pair of a Map.
type MapEntry struct {
	Key   any
	Value any
}

// Map is an AMQP map with its encoding order preserved.
type Map []MapEntry

// Get returns the value whose key is the string or symbol name.
func (m Map) Get(name string) (any, bool) {
	for _, e := range m {
		switch k := e.Key.(type) {
		case string:
			if k == name {
				return e.Value, true
			}
		case Symbol:
			if string(k) == name {
				return e.Value, true
			}
		}
	}
	return nil, false
}

// Set replaces the value of an existing string or symbol key name, or
// appends key (kept with its Go type) when absent.
func (m Map) Set(key, value any) Map {
	name, ok := keyName(key)
	if ok {
		for i, e := range m {
			if n, ok := keyName(e.Key); ok && n == name {
				m[i].Value = value
				return m
			}
		}
	}
	return append(m, MapEntry{Key: key, Value: value})
}

func keyName(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case Symbol:
		return string(k), true
	}
	return "", false
}

// Array is an AMQP array: every element shares one constructor.
type Array struct {
	// Code is the element type code (e.g. TypeUUID, TypeLong, TypeSym8).
	// Zero lets Append pick it from the first element.
	Code byte
	// Descriptor is non-nil for arrays of described values; Elems then hold
	// the undescribed values.
	Descriptor any
	Elems      []any
}

// Type codes (AMQP 1.0 part 1, section 1.6).
const (
	TypeDescribed  byte = 0x00
	TypeNull       byte = 0x40
	TypeTrue       byte = 0x41
	TypeFalse      byte = 0x42
	TypeUint0      byte = 0x43
	TypeUlong0     byte = 0x44
	TypeList0      byte = 0x45
	TypeUbyte      byte = 0x50
	TypeByte       byte = 0x51
	TypeSmallUint  byte = 0x52
	TypeSmallUlong byte = 0x53
	TypeSmallInt   byte = 0x54
	TypeSmallLong  byte = 0x55
	TypeBool       byte = 0x56
	TypeUshort     byte = 0x60
	TypeShort      byte = 0x61
	TypeUint       byte = 0x70
	TypeInt        byte = 0x71
	TypeFloat      byte = 0x72
	TypeChar       byte = 0x73
	TypeDecimal32  byte = 0x74
	TypeUlong      byte = 0x80
	TypeLong       byte = 0x81
	TypeDouble     byte = 0x82
	TypeTimestamp  byte = 0x83
	TypeDecimal64  byte = 0x84
	TypeDecimal128 byte = 0x94
	TypeUUID       byte = 0x98
	TypeVbin8      byte = 0xa0
	TypeStr8       byte = 0xa1
	TypeSym8       byte = 0xa3
	TypeVbin32     byte = 0xb0
	TypeStr32      byte = 0xb1
	TypeSym32      byte = 0xb3
	TypeList8      byte = 0xc0
	TypeMap8       byte = 0xc1
	TypeList32     byte = 0xd0
	TypeMap32      byte = 0xd1
	TypeArray8     byte = 0xe0
	TypeArray32    byte = 0xf0
)

// timeFromMillis converts an AMQP timestamp to a UTC time.
func timeFromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}
