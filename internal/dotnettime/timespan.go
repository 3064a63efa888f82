package dotnettime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTimeSpan reads a TimeSpan in the constant ("c") format that
// host.json uses, [-][d.]hh:mm:ss[.fffffff], with hours 0-23, minutes and
// seconds 0-59 and one to seven fraction digits. A bare integer is a number
// of days, as TimeSpan.Parse reads it. Leading and trailing white space is
// ignored. A value beyond time.Duration's range is an error.
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
		dayPart, clock, _ = strings.Cut(s, ".")
	}
	var ticks uint64
	if dayPart != "" || clock == "" {
		days, err := strconv.ParseUint(dayPart, 10, 31)
		if err != nil {
			return 0, fmt.Errorf("want [d.]hh:mm:ss[.fffffff]: bad days %q", dayPart)
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

// scanClock reads hh:mm:ss[.fffffff] as ticks.
func scanClock(s string) (uint64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("want [d.]hh:mm:ss[.fffffff]")
	}
	sec, frac, hasFrac := strings.Cut(parts[2], ".")
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
