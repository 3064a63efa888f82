package funchost

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseTimeSpan parses a .NET TimeSpan in the constant ("c") format used in
// host.json: [-][d.]hh:mm:ss[.fffffff]. A bare integer is a number of days,
// as TimeSpan.Parse reads it.
func parseTimeSpan(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("parse timespan %q: empty", s)
	}
	neg := false
	if strings.HasPrefix(in, "-") {
		neg = true
		in = in[1:]
	}
	var days int64
	if !strings.Contains(in, ":") {
		d, err := strconv.ParseInt(in, 10, 64)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("parse timespan %q: want [d.]hh:mm:ss[.fffffff]", s)
		}
		return signed(time.Duration(d)*24*time.Hour, neg), nil
	}
	parts := strings.Split(in, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("parse timespan %q: want [d.]hh:mm:ss[.fffffff]", s)
	}
	hourPart := parts[0]
	if i := strings.IndexByte(hourPart, '.'); i >= 0 {
		d, err := strconv.ParseInt(hourPart[:i], 10, 64)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("parse timespan %q: bad days %q", s, hourPart[:i])
		}
		days = d
		hourPart = hourPart[i+1:]
	}
	hours, err := strconv.Atoi(hourPart)
	if err != nil || hours < 0 || hours > 23 {
		return 0, fmt.Errorf("parse timespan %q: bad hours %q", s, hourPart)
	}
	minutes, err := strconv.Atoi(parts[1])
	if err != nil || minutes < 0 || minutes > 59 {
		return 0, fmt.Errorf("parse timespan %q: bad minutes %q", s, parts[1])
	}
	secPart, fracPart, hasFrac := strings.Cut(parts[2], ".")
	secs, err := strconv.Atoi(secPart)
	if err != nil || secs < 0 || secs > 59 {
		return 0, fmt.Errorf("parse timespan %q: bad seconds %q", s, secPart)
	}
	var frac time.Duration
	if hasFrac {
		if fracPart == "" || len(fracPart) > 7 {
			return 0, fmt.Errorf("parse timespan %q: bad fraction %q", s, fracPart)
		}
		f, err := strconv.Atoi(fracPart)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("parse timespan %q: bad fraction %q", s, fracPart)
		}
		for range 7 - len(fracPart) {
			f *= 10
		}
		frac = time.Duration(f) * 100 // ticks of 100ns
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(hours)*time.Hour +
		time.Duration(minutes)*time.Minute + time.Duration(secs)*time.Second + frac
	return signed(d, neg), nil
}

func signed(d time.Duration, neg bool) time.Duration {
	if neg {
		return -d
	}
	return d
}
