package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

// timeLayout is the Batch wire format of timestamps: RFC 3339 in UTC with
// seven fractional digits.
const timeLayout = "2006-01-02T15:04:05.0000000Z"

func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Time is a timestamp rendered in the Batch wire format.
type Time struct{ time.Time }

func At(t time.Time) Time { return Time{t.UTC()} }

// AtPtr returns a pointer, or nil for the zero time (so omitempty drops it).
func AtPtr(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	v := At(t)
	return &v
}

func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(t.Time) + `"`), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode timestamp: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("decode timestamp %q: %w", s, err)
	}
	t.Time = v
	return nil
}

// InfiniteDuration is what the service reports for "no limit": .NET's
// TimeSpan.MaxValue, P10675199DT2H48M5.4775807S.
const InfiniteDuration = dotnettime.Unlimited

// Duration is a time.Duration rendered as an ISO 8601 duration by
// internal/dotnettime, as the service's XmlConvert does.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatDuration(time.Duration(d)) + `"`), nil
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode duration: %w", err)
	}
	v, err := dotnettime.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func DurationPtr(d time.Duration) *Duration {
	v := Duration(d)
	return &v
}

// FormatDuration renders d as the service does (for error messages).
func FormatDuration(d time.Duration) string { return dotnettime.FormatDuration(d) }
