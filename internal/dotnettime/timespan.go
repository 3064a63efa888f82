package dotnettime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTimeSpan reads a TimeSpan as TimeSpan.Parse reads host.json's
// values with the invariant culture: [-]{d | [d.]hh:mm[:ss[.fffffff]]},
// with hours 0-23, minutes and seconds 0-59 and one to seven fraction
// digits; a bare integer is a number of days and "hh:mm" is hours and
// minutes. Leading and trailing white space is ignored. A value beyond
// time.Duration's range is an error, and so are Parse's culture-specific
// forms (d:hh:mm:ss) and its reading of hours above 23 as days.
func ParseTimeSpan(s string) (time.Duration, error) {
	d, err := scanTimeSpan(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse timespan %q: %w", s, err)
	}
	return d, nil
}

func scanTimeSpan(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	dayPart, clock := "", s
	if first, _, _ := strings.Cut(s, ":"); strings.Contains(first, ".") || !strings.Contains(s, ":") {
		var dot bool
		if dayPart, clock, dot = strings.Cut(s, "."); dot && clock == "" {
			return 0, fmt.Errorf("want [d.]hh:mm[:ss[.fffffff]]: nothing after the days' '.'")
		}
	}
	var ticks uint64
	if dayPart != "" || clock == "" {
		days, err := strconv.ParseUint(dayPart, 10, 31)
		if err != nil {
			return 0, fmt.Errorf("want [d.]hh:mm[:ss[.fffffff]]: bad days %q", dayPart)
		}
		ticks = days * 86400 * ticksPerSecond
	}
	if clock != "" {
		t, err := scanClock(clock)
		if err != nil {
			return 0, err
		}
		ticks += t
	}
	if ticks > uint64(math.MaxInt64/int64(Tick)) {
		return 0, fmt.Errorf("out of range")
	}
	d := time.Duration(ticks) * Tick
	if neg {
		d = -d
	}
	return d, nil
}

// scanClock reads hh:mm[:ss[.fffffff]] as ticks.
func scanClock(s string) (uint64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, fmt.Errorf("want [d.]hh:mm[:ss[.fffffff]]")
	}
	sec, frac, hasFrac := "0", "", false
	if len(parts) == 3 {
		sec, frac, hasFrac = strings.Cut(parts[2], ".")
	}
	var total uint64
	for i, f := range []struct {
		name, text string
		limit      uint64
	}{{"hours", parts[0], 23}, {"minutes", parts[1], 59}, {"seconds", sec, 59}} {
		n, err := strconv.ParseUint(f.text, 10, 8)
		if err != nil || n > f.limit || !allDigits(f.text) {
			return 0, fmt.Errorf("bad %s %q", f.name, f.text)
		}
		total += n * [3]uint64{3600, 60, 1}[i]
	}
	total *= ticksPerSecond
	if hasFrac {
		if frac == "" || len(frac) > 7 || !allDigits(frac) {
			return 0, fmt.Errorf("bad fraction %q: want one to seven digits", frac)
		}
		total += nanos(frac) / uint64(Tick)
	}
	return total, nil
}

// FormatTimeSpanTicks writes a TimeSpan of the given number of ticks in the
// constant ("c") format, as TimeSpan.ToString() does:
// [-][d.]hh:mm:ss[.fffffff], the day count only when it is not zero and
// the fraction, always seven digits, only when it is not zero. It takes
// ticks rather than a time.Duration because a TimeSpan reaches a hundred
// times further (TimeSpan.MaxValue is math.MaxInt64 ticks).
func FormatTimeSpanTicks(ticks int64) string {
	var b strings.Builder
	mag := uint64(ticks)
	if ticks < 0 {
		b.WriteByte('-')
		mag = -mag // two's complement: also right for math.MinInt64
	}
	secs, frac := mag/ticksPerSecond, mag%ticksPerSecond
	if days := secs / 86400; days > 0 {
		b.WriteString(strconv.FormatUint(days, 10))
		b.WriteByte('.')
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", secs/3600%24, secs/60%60, secs%60)
	if frac > 0 {
		fmt.Fprintf(&b, ".%07d", frac)
	}
	return b.String()
}
