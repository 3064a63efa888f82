package customhandler

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxUnwrap bounds how many JSON-string layers the decoders peel off. The
// host adds at most two; one more absorbs an upstream that encoded a body
// as a JSON string itself.
const maxUnwrap = 3

// ErrMissing is returned (wrapped) when a requested Data or Metadata key is
// absent or JSON null.
var ErrMissing = errors.New("value is missing")

// isNull reports whether raw is empty or the JSON literal null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// firstByte returns the first non-space byte of raw, or 0.
func firstByte(raw []byte) byte {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// Unwrap peels JSON-string layers off raw while the string's content is
// itself a JSON object, array or string literal, and returns the innermost
// JSON value. A JSON string whose content is plain text (not JSON) is
// returned unchanged, so Unwrap(`"abc"`) is `"abc"` and
// Unwrap(`"\"abc\""`) is `"abc"` too.
func Unwrap(raw json.RawMessage) json.RawMessage {
	cur := json.RawMessage(bytes.TrimSpace(raw))
	for range maxUnwrap {
		if firstByte(cur) != '"' {
			return cur
		}
		var s string
		if json.Unmarshal(cur, &s) != nil {
			return cur
		}
		inner := strings.TrimSpace(s)
		if inner == "" {
			return cur
		}
		switch inner[0] {
		case '{', '[', '"':
			if !json.Valid([]byte(inner)) {
				return cur
			}
			cur = json.RawMessage(inner)
		default:
			return cur
		}
	}
	return cur
}

// Decode unmarshals raw into v after peeling JSON-string layers, so an
// object sent as an object and the same object sent as a JSON string (once
// or twice encoded) decode alike.
func Decode(raw json.RawMessage, v any) error {
	if isNull(raw) {
		return ErrMissing
	}
	inner := Unwrap(raw)
	if err := json.Unmarshal(inner, v); err != nil {
		return fmt.Errorf("decode %s: %w", describe(inner), err)
	}
	return nil
}

// String returns the text of a scalar value: a JSON string encoded once or
// twice ("abc" or "\"abc\""), or a bare number or boolean (4 → "4").
func String(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", ErrMissing
	}
	t := bytes.TrimSpace(raw)
	switch c := t[0]; {
	case c == '"':
	case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f':
		if !json.Valid(t) {
			return "", fmt.Errorf("decode string: invalid JSON %.40q", t)
		}
		return string(t), nil
	default:
		return "", fmt.Errorf("decode string: got %s, want a JSON string", describe(t))
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil {
		return "", fmt.Errorf("decode string: %w", err)
	}
	// A second layer: the host's JsonConvert.SerializeObject of a string.
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var inner string
		if json.Unmarshal([]byte(s), &inner) == nil {
			return inner, nil
		}
	}
	return s, nil
}

// Int64 returns an integer sent as a JSON number, as a JSON string holding
// a number ("4"), or double-encoded ("\"4\"").
func Int64(raw json.RawMessage) (int64, error) {
	s, err := String(raw)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode integer: %w", err)
	}
	return n, nil
}

// Bool returns a boolean sent as true/false or as a (doubly) quoted string.
func Bool(raw json.RawMessage) (bool, error) {
	s, err := String(raw)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("decode boolean: %w", err)
	}
	return b, nil
}

// timeLayouts are the shapes the host writes: Newtonsoft ISO dates with or
// without fraction and zone (DateTime loses its zone after the host's
// Parse(ToString()) round trip, which also drops sub-second precision).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.9999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.9999999Z07:00",
	"01/02/2006 15:04:05",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04:05 PM -07:00",
}

// Time parses a timestamp sent as a (doubly) quoted string. A value without
// a zone is taken as UTC, which is what the host's *Utc keys hold.
func Time(raw json.RawMessage) (time.Time, error) {
	s, err := String(raw)
	if err != nil {
		return time.Time{}, err
	}
	return ParseTime(s)
}

// ParseTime parses one of the host's timestamp shapes; zone-less values
// are UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("decode time: unrecognised timestamp %.60q", s)
}

// Array returns the elements of an array sent as a JSON array or as a JSON
// string holding one (the host's encoding of every *Array metadata key and
// of string[] batch data). Elements are returned raw; decode each with
// String, Int64, Decode or Bytes.
func Array(raw json.RawMessage) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, ErrMissing
	}
	inner := Unwrap(raw)
	if firstByte(inner) != '[' {
		return nil, fmt.Errorf("decode array: got %s, want an array", describe(inner))
	}
	var out []json.RawMessage
	if err := json.Unmarshal(inner, &out); err != nil {
		return nil, fmt.Errorf("decode array: %w", err)
	}
	return out, nil
}

// Bytes decodes binary data: the host sends byte[] values (dataType
// "binary") as standard base64 in a JSON string.
func Bytes(raw json.RawMessage) ([]byte, error) {
	s, err := String(raw)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	return b, nil
}

// Body returns a message body delivered with dataType "string": the text
// of a (doubly) encoded JSON string, or the raw JSON of an object or array
// if the host (or a stand-in) sent the body un-encoded.
func Body(raw json.RawMessage) ([]byte, error) {
	if isNull(raw) {
		return nil, ErrMissing
	}
	switch firstByte(raw) {
	case '{', '[':
		return bytes.TrimSpace(raw), nil
	}
	s, err := String(raw)
	if err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	return []byte(s), nil
}

// LooksLikeBase64 reports whether the host would decode s as base64 when it
// is an output value (Convert.FromBase64String succeeds): the length
// without white space is a multiple of four and every character is in the
// base64 alphabet with at most two trailing '='.
func LooksLikeBase64(s string) bool {
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if len(compact)%4 != 0 {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(compact)
	return err == nil
}

// describe names the JSON kind of raw for error messages without echoing
// its content (which may be large or sensitive).
func describe(raw []byte) string {
	switch firstByte(raw) {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	case 0:
		return "an empty value"
	}
	return "a JSON number"
}
