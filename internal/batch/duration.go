package batch

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time span that travels as an ISO 8601 duration, the way
// the Batch service writes .NET TimeSpan values: "PT15M", "P1DT2H",
// "PT0.5S". Precision is 100 ns (one .NET tick).
//
// InfiniteDuration stands for the service's "unlimited" value
// P10675199DT2H48M5.4775807S (TimeSpan.MaxValue), which does not fit in a
// time.Duration; any decoded value beyond time.Duration's range becomes
// InfiniteDuration.
type Duration time.Duration

// InfiniteDuration is the service's "no limit" duration.
const InfiniteDuration = Duration(math.MaxInt64)

// infiniteWire is TimeSpan.MaxValue as the service writes it.
const infiniteWire = "P10675199DT2H48M5.4775807S"

const tick = 100 * time.Nanosecond

// String returns the ISO 8601 form.
func (d Duration) String() string {
	if d == InfiniteDuration {
		return infiniteWire
	}
	v := time.Duration(d)
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
		if v == math.MinInt64 {
			v = math.MaxInt64 // off by one tick below 100 ns; never sent
		} else {
			v = -v
		}
	}
	v = v.Truncate(tick)
	days := v / (24 * time.Hour)
	v -= days * 24 * time.Hour
	hours := v / time.Hour
	v -= hours * time.Hour
	minutes := v / time.Minute
	v -= minutes * time.Minute
	b.WriteByte('P')
	if days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10))
		b.WriteByte('D')
	}
	if hours == 0 && minutes == 0 && v == 0 {
		if days == 0 {
			b.WriteString("T0S")
		}
		return b.String()
	}
	b.WriteByte('T')
	if hours > 0 {
		b.WriteString(strconv.FormatInt(int64(hours), 10))
		b.WriteByte('H')
	}
	if minutes > 0 {
		b.WriteString(strconv.FormatInt(int64(minutes), 10))
		b.WriteByte('M')
	}
	if v > 0 {
		secs := v / time.Second
		frac := (v - secs*time.Second) / tick
		b.WriteString(strconv.FormatInt(int64(secs), 10))
		if frac > 0 {
			f := fmt.Sprintf("%07d", int64(frac))
			b.WriteByte('.')
			b.WriteString(strings.TrimRight(f, "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON implements json.Unmarshaler. It accepts null (leaving d
// unchanged) and ISO 8601 strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a JSON string, got %s", b)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses an ISO 8601 duration of the form
// [-]P[nW][nD][T[nH][nM][n[.f]S]]. Year and month components are rejected
// because their length is ambiguous and the service never writes them.
func ParseDuration(s string) (Duration, error) {
	if s == infiniteWire {
		return InfiniteDuration, nil
	}
	in := s
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, fmt.Errorf("duration %q: want ISO 8601 such as PT15M or P1DT2H", in)
	}
	s = s[1:]
	var ticks int64 // saturates at math.MaxInt64
	overflow := false
	add := func(n, per int64) {
		if overflow || (n > 0 && n > (math.MaxInt64-ticks)/per) {
			overflow = true
			return
		}
		ticks += n * per
	}
	inTime := false
	units := 0
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("duration %q: repeated T", in)
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return 0, fmt.Errorf("duration %q: T without a time component", in)
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("duration %q: want a number followed by a unit letter", in)
		}
		num, unit := s[:i], s[i]
		s = s[i+1:]
		whole, frac, hasFrac := strings.Cut(num, ".")
		if hasFrac && !(inTime && unit == 'S') {
			return 0, fmt.Errorf("duration %q: only seconds may have a fraction", in)
		}
		if whole == "" || strings.Contains(frac, ".") || (hasFrac && frac == "") {
			return 0, fmt.Errorf("duration %q: bad number %q", in, num)
		}
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			// Only digits reach here, so the error is a value out of range.
			overflow = true
		}
		var per time.Duration
		switch {
		case !inTime && unit == 'W':
			per = 7 * 24 * time.Hour
		case !inTime && unit == 'D':
			per = 24 * time.Hour
		case inTime && unit == 'H':
			per = time.Hour
		case inTime && unit == 'M':
			per = time.Minute
		case inTime && unit == 'S':
			per = time.Second
		case !inTime && (unit == 'Y' || unit == 'M'):
			return 0, fmt.Errorf("duration %q: year and month components are not supported", in)
		default:
			return 0, fmt.Errorf("duration %q: unexpected unit %q", in, unit)
		}
		add(n, int64(per/tick))
		if hasFrac {
			// Seven fractional digits are whole ticks; further digits are
			// below the service's precision and are dropped.
			f := (frac + "0000000")[:7]
			ft, _ := strconv.ParseInt(f, 10, 64)
			add(ft, 1)
		}
		units++
	}
	if units == 0 {
		return 0, fmt.Errorf("duration %q: no components", in)
	}
	if overflow || ticks > math.MaxInt64/int64(tick) {
		if neg {
			return 0, fmt.Errorf("duration %q: negative duration out of range", in)
		}
		return InfiniteDuration, nil
	}
	v := Duration(time.Duration(ticks) * tick)
	if neg {
		v = -v
	}
	return v, nil
}
