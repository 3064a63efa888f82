package amqpwire

import (
	"time"
)

// fieldReader extracts typed fields from a described list, recording the
// first type error. Absent (null or missing) fields leave the defaults.
type fieldReader struct {
	name string
	l    []any
	err  error
}

func (r *fieldReader) get(i int) any {
	if i < len(r.l) {
		return r.l[i]
	}
	return nil
}

func (r *fieldReader) fail(i int, want string, got any) {
	if r.err == nil {
		r.err = malformed("%s field %d: want %s, got %T", r.name, i, want, got)
	}
}

// toUint64 converts any non-negative AMQP integer to uint64.
func toUint64(v any) (uint64, bool) {
	switch v := v.(type) {
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case int8:
		return uint64(v), v >= 0
	case int16:
		return uint64(v), v >= 0
	case int32:
		return uint64(v), v >= 0
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}

// ToInt64 converts any AMQP integer that fits to int64.
func ToInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	u, ok := toUint64(v)
	if !ok || u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func (r *fieldReader) uint(i int, max uint64) (uint64, bool) {
	v := r.get(i)
	if v == nil {
		return 0, false
	}
	u, ok := toUint64(v)
	if !ok || u > max {
		r.fail(i, "unsigned integer", v)
		return 0, false
	}
	return u, true
}

func (r *fieldReader) uint32(i int, def uint32) uint32 {
	if u, ok := r.uint(i, 1<<32-1); ok {
		return uint32(u)
	}
	return def
}

func (r *fieldReader) uint32p(i int) *uint32 {
	if u, ok := r.uint(i, 1<<32-1); ok {
		v := uint32(u)
		return &v
	}
	return nil
}

func (r *fieldReader) uint16(i int, def uint16) uint16 {
	if u, ok := r.uint(i, 1<<16-1); ok {
		return uint16(u)
	}
	return def
}

func (r *fieldReader) uint8p(i int) *uint8 {
	if u, ok := r.uint(i, 255); ok {
		v := uint8(u)
		return &v
	}
	return nil
}

func (r *fieldReader) uint64(i int, def uint64) uint64 {
	if u, ok := r.uint(i, 1<<64-1); ok {
		return u
	}
	return def
}

func (r *fieldReader) bool(i int, def bool) bool {
	switch v := r.get(i).(type) {
	case nil:
		return def
	case bool:
		return v
	default:
		r.fail(i, "boolean", v)
		return def
	}
}

func (r *fieldReader) boolp(i int) *bool {
	switch v := r.get(i).(type) {
	case nil:
		return nil
	case bool:
		return &v
	default:
		r.fail(i, "boolean", v)
		return nil
	}
}

func (r *fieldReader) string(i int) string {
	switch v := r.get(i).(type) {
	case nil:
		return ""
	case string:
		return v
	case Symbol:
		return string(v)
	default:
		r.fail(i, "string", v)
		return ""
	}
}

func (r *fieldReader) symbol(i int) Symbol {
	return Symbol(r.string(i))
}

func (r *fieldReader) binary(i int) []byte {
	switch v := r.get(i).(type) {
	case nil:
		return nil
	case []byte:
		return v
	default:
		r.fail(i, "binary", v)
		return nil
	}
}

func (r *fieldReader) time(i int) time.Time {
	switch v := r.get(i).(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return v
	default:
		r.fail(i, "timestamp", v)
		return time.Time{}
	}
}

func (r *fieldReader) mapField(i int) Map {
	switch v := r.get(i).(type) {
	case nil:
		return nil
	case Map:
		return v
	default:
		r.fail(i, "map", v)
		return nil
	}
}

// symbols accepts a single symbol or an array of symbols (multiple="true").
func (r *fieldReader) symbols(i int) []Symbol {
	switch v := r.get(i).(type) {
	case nil:
		return nil
	case Symbol:
		return []Symbol{v}
	case Array:
		out := make([]Symbol, 0, len(v.Elems))
		for _, e := range v.Elems {
			s, ok := e.(Symbol)
			if !ok {
				r.fail(i, "symbol array", e)
				return nil
			}
			out = append(out, s)
		}
		return out
	default:
		r.fail(i, "symbols", v)
		return nil
	}
}

func (r *fieldReader) errorField(i int) *Error {
	switch v := r.get(i).(type) {
	case nil:
		return nil
	case *Error:
		return v
	default:
		r.fail(i, "error", v)
		return nil
	}
}

func (r *fieldReader) state(i int) DeliveryState {
	switch v := r.get(i).(type) {
	case nil:
		return nil
	case DeliveryState:
		return v
	default:
		r.fail(i, "delivery state", v)
		return nil
	}
}

func (r *fieldReader) required(i int) {
	if r.get(i) == nil && r.err == nil {
		r.err = malformed("%s field %d is mandatory", r.name, i)
	}
}

// Optional-field encoders: the zero value encodes as null.

func optU32(p *uint32) any {
	if p == nil {
		return nil
	}
	return *p
}

func optU8(p *uint8) any {
	if p == nil {
		return nil
	}
	return *p
}

func optBool(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

func optStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optSym(s Symbol) any {
	if s == "" {
		return nil
	}
	return s
}

func optBin(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func optMap(m Map) any {
	if m == nil {
		return nil
	}
	return m
}

func optSyms(s []Symbol) any {
	if s == nil {
		return nil
	}
	return s
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func optFalse(b bool) any {
	if !b {
		return nil
	}
	return true
}

func optErr(e *Error) any {
	if e == nil {
		return nil
	}
	return e
}

func optState(s DeliveryState) any {
	if s == nil {
		return nil
	}
	return s
}

// Ptr returns a pointer to v, for optional fields.
func Ptr[T any](v T) *T { return &v }
