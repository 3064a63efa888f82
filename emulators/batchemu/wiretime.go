package batchemu

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

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// wireTime is a timestamp rendered in the Batch wire format.
type wireTime struct{ time.Time }

func wt(t time.Time) wireTime { return wireTime{t.UTC()} }

// wtp returns a pointer, or nil for the zero time (so omitempty drops it).
func wtp(t time.Time) *wireTime {
	if t.IsZero() {
		return nil
	}
	v := wt(t)
	return &v
}

func (t wireTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + formatTime(t.Time) + `"`), nil
}

func (t *wireTime) UnmarshalJSON(b []byte) error {
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

// infiniteDuration is what the service reports for "no limit": .NET's
// TimeSpan.MaxValue, P10675199DT2H48M5.4775807S.
const infiniteDuration = dotnettime.Unlimited

// isoDuration is a time.Duration rendered as an ISO 8601 duration by
// internal/dotnettime, as the service's XmlConvert does.
type isoDuration time.Duration

func (d isoDuration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + formatDuration(time.Duration(d)) + `"`), nil
}

func (d *isoDuration) UnmarshalJSON(b []byte) error {
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
	*d = isoDuration(v)
	return nil
}

func durp(d time.Duration) *isoDuration {
	v := isoDuration(d)
	return &v
}

// formatDuration renders d as the service does (for error messages).
func formatDuration(d time.Duration) string { return dotnettime.FormatDuration(d) }
