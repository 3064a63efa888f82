package amqpwire

import (
	"reflect"
	"testing"
)

func TestMapGetSet(t *testing.T) {
	m := Map{{Key: Symbol("x-opt-a"), Value: int64(1)}, {Key: "b", Value: "s"}, {Key: int32(3), Value: true}}
	tests := []struct {
		name   string
		key    string
		want   any
		wantOK bool
	}{
		{"symbol key", "x-opt-a", int64(1), true},
		{"string key", "b", "s", true},
		{"missing", "c", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.Get(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Get(%q) = %v, %v; want %v, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	m = m.Set("x-opt-a", int64(2)) // replaces the symbol key, keeping its type
	m = m.Set(Symbol("new"), "v")
	want := Map{{Key: Symbol("x-opt-a"), Value: int64(2)}, {Key: "b", Value: "s"}, {Key: int32(3), Value: true}, {Key: Symbol("new"), Value: "v"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("after Set = %#v\nwant %#v", m, want)
	}
}

func TestToInt64(t *testing.T) {
	tests := []struct {
		in     any
		want   int64
		wantOK bool
	}{
		{int8(-1), -1, true}, {int32(5), 5, true}, {int64(-9), -9, true}, {uint8(7), 7, true},
		{uint64(1 << 63), 0, false}, {"1", 0, false}, {nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := ToInt64(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ToInt64(%#v) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestUUIDString(t *testing.T) {
	u := UUID{0x8d, 0xf7, 0x85, 0x68, 0xcf, 0xee, 0x40, 0x8e, 0xa9, 0x8b, 0x40, 0xf7, 0x41, 0x13, 0xfb, 0xa3}
	if got, want := u.String(), "8df78568-cfee-408e-a98b-40f74113fba3"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func TestDescribedArrayRoundTrip(t *testing.T) {
	in := Array{Code: TypeStr8, Descriptor: uint64(0x77), Elems: []any{"a", "bc"}}
	b, err := Append(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := Decode(b)
	if err != nil || n != len(b) || !reflect.DeepEqual(got, in) {
		t.Fatalf("Decode = %#v, %d, %v; want %#v", got, n, err, in)
	}
}
