package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
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
const InfiniteDuration = time.Duration(math.MaxInt64)

// Duration is a time.Duration rendered as an ISO 8601 duration.
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
	v, err := ParseDuration(s)
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

// FormatDuration renders d as the service does: days, hours, minutes and
// seconds with up to seven fractional digits; zero is PT0S.
func FormatDuration(d time.Duration) string {
	if d == InfiniteDuration {
		return "P10675199DT2H48M5.4775807S"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	ticks := int64(d / 100) // 100ns units
	days := ticks / (864000000000)
	ticks %= 864000000000
	hours := ticks / 36000000000
	ticks %= 36000000000
	mins := ticks / 600000000
	ticks %= 600000000
	secs := ticks / 10000000
	frac := ticks % 10000000
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte('P')
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if hours == 0 && mins == 0 && secs == 0 && frac == 0 {
		if days == 0 {
			return b.String() + "T0S"
		}
		return b.String()
	}
	b.WriteByte('T')
	if hours > 0 {
		fmt.Fprintf(&b, "%dH", hours)
	}
	if mins > 0 {
		fmt.Fprintf(&b, "%dM", mins)
	}
	if secs > 0 || frac > 0 {
		fmt.Fprintf(&b, "%d", secs)
		if frac > 0 {
			fmt.Fprintf(&b, ".%s", strings.TrimRight(fmt.Sprintf("%07d", frac), "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// ParseDuration parses an ISO 8601 duration (PnW, PnDTnHnMn.nS; years and
// months are rejected because their length is ambiguous). Durations that
// overflow are clamped to infiniteDuration, as the service treats
// TimeSpan.MaxValue as "unlimited".
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "P10675199DT2H48M5.4775807S" {
		return InfiniteDuration, nil
	}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return 0, fmt.Errorf("parse duration %q: not an ISO 8601 duration", orig)
	}
	s = s[1:]
	var total float64 // seconds
	inTime := false
	seen := false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("parse duration %q: repeated T", orig)
			}
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("parse duration %q: malformed component", orig)
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", "."), 64)
		if err != nil {
			return 0, fmt.Errorf("parse duration %q: %w", orig, err)
		}
		unit := s[i]
		s = s[i+1:]
		seen = true
		switch {
		case !inTime && unit == 'W':
			total += n * 7 * 86400
		case !inTime && unit == 'D':
			total += n * 86400
		case inTime && unit == 'H':
			total += n * 3600
		case inTime && unit == 'M':
			total += n * 60
		case inTime && unit == 'S':
			total += n
		default:
			return 0, fmt.Errorf("parse duration %q: unsupported unit %q", orig, unit)
		}
	}
	if !seen {
		return 0, fmt.Errorf("parse duration %q: no components", orig)
	}
	if total*1e9 >= float64(math.MaxInt64) {
		return InfiniteDuration, nil
	}
	d := time.Duration(math.Round(total * 1e9))
	if neg {
		d = -d
	}
	return d, nil
}
