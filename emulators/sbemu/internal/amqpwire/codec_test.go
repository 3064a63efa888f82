package amqpwire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPrimitiveRoundTrip(t *testing.T) {
	ts := time.UnixMilli(1795783881123).UTC()
	tests := []struct {
		name string
		in   any
		hex  string // expected encoding; empty = only round trip
	}{
		{"null", nil, "40"},
		{"true", true, "41"},
		{"false", false, "42"},
		{"ubyte", uint8(7), "5007"},
		{"ushort", uint16(0x1234), "601234"},
		{"uint0", uint32(0), "43"},
		{"smalluint", uint32(200), "52c8"},
		{"uint", uint32(70000), "7000011170"},
		{"ulong0", uint64(0), "44"},
		{"smallulong", uint64(0x24), "5324"},
		{"ulong", uint64(1 << 40), "800000010000000000"},
		{"byte", int8(-2), "51fe"},
		{"short", int16(-300), "61fed4"},
		{"smallint", int32(-1), "54ff"},
		{"int", int32(200), "71000000c8"},
		{"smalllong", int64(5), "5505"},
		{"long", int64(-1000), "81fffffffffffffc18"},
		{"float", float32(1.5), "723fc00000"},
		{"double", float64(-2.25), "82c002000000000000"},
		{"decimal32", Decimal{Code: TypeDecimal32, Bytes: []byte{1, 2, 3, 4}}, "7401020304"},
		{"decimal128", Decimal{Code: TypeDecimal128, Bytes: bytes.Repeat([]byte{9}, 16)}, "9409090909090909090909090909090909"},
		{"char", Char('é'), "73000000e9"},
		{"timestamp", ts, "83000001a21d0f71a3"},
		{"uuid", UUID{0x8d, 0xf7, 0x85, 0x68, 0xcf, 0xee, 0x40, 0x8e, 0xa9, 0x8b, 0x40, 0xf7, 0x41, 0x13, 0xfb, 0xa3}, "988df78568cfee408ea98b40f74113fba3"},
		{"vbin8", []byte{1, 2}, "a0020102"},
		{"vbin32", bytes.Repeat([]byte{0xaa}, 300), ""},
		{"str8", "hi", "a1026869"},
		{"str32", strings.Repeat("x", 256), ""},
		{"sym8", Symbol("amqp:not-found"), "a30e616d71703a6e6f742d666f756e64"},
		{"sym32", Symbol(strings.Repeat("s", 300)), ""},
		{"list0", []any{}, "45"},
		{"list8", []any{uint32(1), "a"}, "c006025201a10161"},
		{"list32", []any{strings.Repeat("y", 300)}, ""},
		{"map8", Map{{Key: Symbol("k"), Value: int64(1)}}, "c10602a3016b5501"},
		{"map32", Map{{Key: "big", Value: bytes.Repeat([]byte{1}, 300)}}, ""},
		{"array of uuid", Array{Code: TypeUUID, Elems: []any{UUID{1}, UUID{2}}}, ""},
		{"array of long", Array{Code: TypeLong, Elems: []any{int64(1), int64(-5)}}, "e0120281" + "0000000000000001fffffffffffffffb"},
		{"array of timestamp", Array{Code: TypeTimestamp, Elems: []any{ts}}, ""},
		{"array of sym8", Array{Code: TypeSym8, Elems: []any{Symbol("a"), Symbol("bc")}}, "e00702a30161026263"},
		{"array of maps", Array{Code: TypeMap32, Elems: []any{Map{{Key: "a", Value: true}}, Map{}}}, ""},
		{"array empty", Array{Code: TypeNull, Elems: []any{}}, "e0020040"},
		{"described unknown", Described{Descriptor: uint64(0x137000000c), Value: "session"}, ""},
		{"described symbol", Described{Descriptor: Symbol("apache.org:selector-filter:string"), Value: "1=1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := Append(nil, tt.in)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if tt.hex != "" {
				if got := hex.EncodeToString(enc); got != tt.hex {
					t.Errorf("encoding = %s, want %s", got, tt.hex)
				}
			}
			got, n, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if n != len(enc) {
				t.Errorf("consumed %d of %d bytes", n, len(enc))
			}
			if !reflect.DeepEqual(got, tt.in) {
				t.Errorf("round trip = %#v, want %#v", got, tt.in)
			}
		})
	}
}

func TestDecodeWideForms(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want any
	}{
		{"bool byte", "5601", true},
		{"uint full", "7000000005", uint32(5)},
		{"ulong full", "800000000000000005", uint64(5)},
		{"list32", "d000000006000000015203", []any{uint32(3)}},
		{"map32 empty", "d10000000400000000", Map{}},
		{"array32", "f0000000070000000252" + "0102", Array{Code: TypeSmallUint, Elems: []any{uint32(1), uint32(2)}}},
		{"str32", "b1000000026869", "hi"},
		{"sym32", "b3000000016b", Symbol("k")},
		{"vbin32", "b00000000100", []byte{0}},
		{"nan double", "827ff8000000000001", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.hex)
			got, n, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if n != len(b) {
				t.Errorf("consumed %d of %d", n, len(b))
			}
			if tt.name == "nan double" {
				if f, ok := got.(float64); !ok || !math.IsNaN(f) {
					t.Errorf("got %v, want NaN", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
	}{
		{"empty", ""},
		{"unknown code", "ff"},
		{"truncated uint", "7000"},
		{"bad bool", "5602"},
		{"str8 past end", "a105616263"},
		{"invalid utf8", "a102ffff"},
		{"list count exceeds", "c001ff"},
		{"list size short", "c00302"},
		{"list trailing bytes", "c003014141"},
		{"map odd count", "c1030141" + "41"},
		{"list32 huge count", "d000000008ffffffff"},
		{"array32 huge count zero width", "f000000005ffffffff40"},
		{"vbin32 huge", "b0ffffffff"},
		{"descriptor bad type", "00a10161" + "40"},
		{"described composite not list", "00531041"},
		{"open missing container", "005310c0020140"},
		{"invalid char", "7300110000"},
		{"nested described array ctor", "e0050200530000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := Decode(b); !errors.Is(err, ErrMalformed) {
				t.Errorf("Decode(%s) error = %v, want ErrMalformed", tt.hex, err)
			}
		})
	}
}

func TestDeepNestingRejected(t *testing.T) {
	var b []byte
	for range 200 {
		b = append(b, TypeDescribed, TypeUlong0)
	}
	b = append(b, TypeNull)
	if _, _, err := Decode(b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("error = %v, want ErrMalformed for deep nesting", err)
	}
}

func TestArrayEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{"mixed element types", Array{Code: TypeUUID, Elems: []any{UUID{}, "x"}}},
		{"unsupported go type", struct{}{}},
		{"bad decimal", Decimal{Code: TypeDecimal32, Bytes: []byte{1}}},
		{"long symbol in sym8 array", Array{Code: TypeSym8, Elems: []any{Symbol(strings.Repeat("s", 300))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Append(nil, tt.in); err == nil {
				t.Errorf("Append(%#v) succeeded, want error", tt.in)
			}
		})
	}
}
