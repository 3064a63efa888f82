package config

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// value is a Config field as a setting sees it. Decode is called by
// envconfig and never fails: it keeps the problem so that Load reports
// every bad setting at once instead of stopping at the first, as
// envconfig.Process would.
type value interface {
	envconfig.Decoder
	// String is the field's value as text (what Redacted shows).
	String() string
	// problem is why the text did not decode or is out of bounds; "" if
	// it is fine.
	problem() string
	// bounds is the accepted range for the README ("1–256"); "" if none.
	bounds() string
	// field is the address of the Config field, for the test that every
	// field is declared exactly once.
	field() any
}

var (
	_ value = (*textValue)(nil)
	_ value = (*intValue)(nil)
	_ value = (*durationValue)(nil)
	_ value = (*choiceValue[BatchAuth])(nil)
	_ value = (*levelValue)(nil)
	_ value = (*listValue)(nil)
)

// textValue is a string with surrounding space removed.
type textValue struct{ p *string }

func text(p *string) *textValue { return &textValue{p} }

func (v *textValue) Decode(s string) error { *v.p = strings.TrimSpace(s); return nil }
func (v *textValue) String() string        { return *v.p }
func (v *textValue) problem() string       { return "" }
func (v *textValue) bounds() string        { return "" }
func (v *textValue) field() any            { return v.p }

// intValue is a decimal integer in [min, max].
type intValue struct {
	p        *int
	min, max int
	raw      string // the text as given, for messages
	parsed   bool
}

func integer(p *int, min, max int) *intValue { return &intValue{p: p, min: min, max: max} }

func (v *intValue) Decode(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	v.parsed, v.raw, *v.p = err == nil, s, n
	return nil
}

func (v *intValue) String() string { return strconv.Itoa(*v.p) }
func (v *intValue) bounds() string { return fmt.Sprintf("%d–%d", v.min, v.max) }
func (v *intValue) field() any     { return v.p }

func (v *intValue) problem() string {
	switch {
	case !v.parsed:
		return fmt.Sprintf("must be an integer, got %q", v.raw)
	case *v.p < v.min || *v.p > v.max:
		return fmt.Sprintf("must be between %d and %d, got %d", v.min, v.max, *v.p)
	}
	return ""
}

// durationValue is a Go duration ("90s", "15m", "2h") in [min, max].
type durationValue struct {
	p        *time.Duration
	min, max time.Duration
	raw      string
	parsed   bool
}

func duration(p *time.Duration, min, max time.Duration) *durationValue {
	return &durationValue{p: p, min: min, max: max}
}

func (v *durationValue) Decode(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	v.parsed, v.raw, *v.p = err == nil, s, d
	return nil
}

func (v *durationValue) String() string { return shortDuration(*v.p) }
func (v *durationValue) field() any     { return v.p }

func (v *durationValue) bounds() string {
	return shortDuration(v.min) + "–" + shortDuration(v.max)
}

func (v *durationValue) problem() string {
	switch {
	case !v.parsed:
		return fmt.Sprintf(`must be a Go duration such as "90s", "15m" or "2h", got %q`, v.raw)
	case *v.p < v.min || *v.p > v.max:
		return fmt.Sprintf("must be between %s and %s, got %s", shortDuration(v.min), shortDuration(v.max), shortDuration(*v.p))
	}
	return ""
}

// shortDuration drops the zero units time.Duration.String keeps: 2h, not
// 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// choiceValue is one of a few typed strings, matched case-insensitively.
type choiceValue[T ~string] struct {
	p       *T
	choices []T
	raw     string
}

func choice[T ~string](p *T, choices ...T) *choiceValue[T] {
	return &choiceValue[T]{p: p, choices: choices}
}

func (v *choiceValue[T]) Decode(s string) error {
	v.raw = s
	*v.p = T(strings.ToLower(strings.TrimSpace(s)))
	return nil
}

func (v *choiceValue[T]) String() string { return string(*v.p) }
func (v *choiceValue[T]) bounds() string { return "" }
func (v *choiceValue[T]) field() any     { return v.p }

func (v *choiceValue[T]) problem() string {
	if slices.Contains(v.choices, *v.p) {
		return ""
	}
	names := make([]string, len(v.choices))
	for i, c := range v.choices {
		names[i] = string(c)
	}
	return fmt.Sprintf("must be %s, got %q", orList(names), v.raw)
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// levelValue is a log/slog level name.
type levelValue struct {
	p      *slog.Level
	raw    string
	parsed bool
}

func level(p *slog.Level) *levelValue { return &levelValue{p: p} }

func (v *levelValue) Decode(s string) error {
	v.raw = s
	v.parsed = v.p.UnmarshalText([]byte(strings.TrimSpace(s))) == nil
	return nil
}

func (v *levelValue) String() string { return strings.ToLower(v.p.String()) }
func (v *levelValue) bounds() string { return "" }
func (v *levelValue) field() any     { return v.p }

func (v *levelValue) problem() string {
	if v.parsed {
		return ""
	}
	return fmt.Sprintf("must be debug, info, warn or error, got %q", v.raw)
}

// listValue is a comma-separated list of distinct items, each checked by
// item (which returns a problem or ""). Space around items is dropped; an
// empty text is an empty list.
type listValue struct {
	p    *[]string
	item func(string) string
}

func list(p *[]string, item func(string) string) *listValue { return &listValue{p: p, item: item} }

func (v *listValue) Decode(s string) error {
	*v.p = nil
	if strings.TrimSpace(s) == "" {
		return nil
	}
	for _, it := range strings.Split(s, ",") {
		*v.p = append(*v.p, strings.TrimSpace(it))
	}
	return nil
}

func (v *listValue) String() string { return strings.Join(*v.p, ",") }
func (v *listValue) bounds() string { return "" }
func (v *listValue) field() any     { return v.p }

func (v *listValue) problem() string {
	for i, it := range *v.p {
		if it == "" {
			return fmt.Sprintf("entry %d is empty", i+1)
		}
		if p := v.item(it); p != "" {
			return fmt.Sprintf("entry %q: %s", it, p)
		}
		if slices.Contains((*v.p)[:i], it) {
			return fmt.Sprintf("entry %q is listed twice", it)
		}
	}
	return ""
}
