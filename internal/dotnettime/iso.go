package dotnettime

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Tick is the precision of a .NET TimeSpan.
const Tick = 100 * time.Nanosecond

// Unlimited stands for TimeSpan.MaxValue, the services' "no limit".
const Unlimited = time.Duration(math.MaxInt64)

// UnlimitedISO is TimeSpan.MaxValue as XmlConvert writes it.
const UnlimitedISO = "P10675199DT2H48M5.4775807S"

const (
	ticksPerSecond = uint64(time.Second / Tick)
	maxTicks       = uint64(math.MaxInt64) // TimeSpan.MaxValue.Ticks
)

// isoFields are the components of an ISO 8601 duration, each at most
// math.MaxInt32 as in .NET's XsdDuration.
type isoFields struct {
	neg                                 bool
	years, months, days, hours, minutes uint64
	seconds, nanos                      uint64
}

// ParseDuration reads an ISO 8601 duration as XmlConvert.ToTimeSpan does:
// [-]P[nY][nM][nD][T[nH][nM][n[.f]S]], components in that order, digits
// only, a fraction only on seconds (digits past the ninth are dropped,
// then the value is truncated to a tick). Leading and trailing white space
// is ignored. A value longer than a time.Duration can hold but no longer
// than TimeSpan.MaxValue is Unlimited; a longer one, or a negative one out
// of time.Duration's range, is an error.
func ParseDuration(s string) (time.Duration, error) {
	f, err := scanISO(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse ISO 8601 duration %q: %w", s, err)
	}
	ticks, ok := f.ticks()
	if !ok || ticks > maxTicks {
		return 0, fmt.Errorf("parse ISO 8601 duration %q: longer than .NET's TimeSpan.MaxValue %s", s, UnlimitedISO)
	}
	if ticks > uint64(math.MaxInt64/int64(Tick)) {
		if f.neg {
			return 0, fmt.Errorf("parse ISO 8601 duration %q: negative duration out of range", s)
		}
		return Unlimited, nil
	}
	d := time.Duration(ticks) * Tick
	if f.neg {
		d = -d
	}
	return d, nil
}

// ticks converts f to 100 ns ticks the way XsdDuration.ToTimeSpan does;
// ok is false when the count does not fit in 64 bits.
func (f isoFields) ticks() (uint64, bool) {
	days := (f.years+f.months/12)*365 + (f.months%12)*30 + f.days
	secs := ((days*24+f.hours)*60+f.minutes)*60 + f.seconds // < 2^64: each field < 2^31
	hi, lo := bits.Mul64(secs, ticksPerSecond)
	sum, carry := bits.Add64(lo, f.nanos/uint64(Tick), 0)
	return sum, hi == 0 && carry == 0
}

// scanISO splits s into its components.
func scanISO(s string) (isoFields, error) {
	var f isoFields
	f.neg = strings.HasPrefix(s, "-")
	if f.neg {
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") {
		return f, fmt.Errorf("want an ISO 8601 duration such as PT15M or P1DT2H")
	}
	date, clock, hasT := strings.Cut(s[1:], "T")
	if date == "" && !hasT || hasT && clock == "" {
		return f, fmt.Errorf("no components")
	}
	if err := scanFields(date, "YMD", []*uint64{&f.years, &f.months, &f.days}); err != nil {
		return f, err
	}
	if whole, frac, ok := strings.Cut(clock, "."); ok {
		// Only the seconds may have a fraction, so "n.fS" ends the string.
		digits, isSec := strings.CutSuffix(frac, "S")
		j := len(whole)
		for j > 0 && whole[j-1] >= '0' && whole[j-1] <= '9' {
			j--
		}
		if !isSec || !allDigits(digits) || j == len(whole) {
			return f, fmt.Errorf("only seconds may have a fraction, written n.fS")
		}
		clock = whole + "S"
		f.nanos = nanos(digits)
	}
	return f, scanFields(clock, "HMS", []*uint64{&f.hours, &f.minutes, &f.seconds})
}

// scanFields reads "nXnY..." where each designator comes from units, in
// order, at most once, and stores each number in the matching slot.
func scanFields(s, units string, slots []*uint64) error {
	next := 0
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == len(s) {
			return fmt.Errorf("%q has no unit designator", s)
		}
		pos := strings.IndexByte(units[next:], s[i])
		if pos < 0 {
			return fmt.Errorf("unexpected designator %q (want one of %s, in that order)", s[i], units[next:])
		}
		if i == 0 {
			return fmt.Errorf("designator %q without a number", s[i])
		}
		n, err := strconv.ParseUint(s[:i], 10, 31)
		if err != nil {
			return fmt.Errorf("component %s%c out of range", s[:i], s[i])
		}
		*slots[next+pos] = n
		next += pos + 1
		s = s[i+1:]
	}
	return nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nanos reads fraction digits as nanoseconds, dropping digits past the ninth.
func nanos(digits string) uint64 {
	digits = (digits + "000000000")[:9]
	n, _ := strconv.ParseUint(digits, 10, 64)
	return n
}

// FormatDuration writes d as XmlConvert.ToString(TimeSpan) does: days,
// hours, minutes and seconds with the fraction's trailing zeros removed,
// "PT0S" for zero, a leading "-" when negative. d is truncated to a tick;
// Unlimited is written as UnlimitedISO.
func FormatDuration(d time.Duration) string {
	if d == Unlimited {
		return UnlimitedISO
	}
	var b strings.Builder
	ticks := uint64(d / Tick)
	if d < 0 {
		b.WriteByte('-')
		ticks = uint64(-(d / Tick))
	}
	secs, frac := ticks/ticksPerSecond, ticks%ticksPerSecond
	days, hours, minutes := secs/86400, secs/3600%24, secs/60%60
	secs %= 60
	b.WriteByte('P')
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if hours+minutes+secs+frac > 0 {
		b.WriteByte('T')
		writeUnit(&b, hours, 'H')
		writeUnit(&b, minutes, 'M')
		if secs+frac > 0 {
			b.WriteString(strconv.FormatUint(secs, 10))
			if frac > 0 {
				b.WriteString(strings.TrimRight(fmt.Sprintf(".%07d", frac), "0"))
			}
			b.WriteByte('S')
		}
	}
	if days == 0 && hours+minutes+secs+frac == 0 {
		b.WriteString("T0S")
	}
	return b.String()
}

func writeUnit(b *strings.Builder, n uint64, unit byte) {
	if n > 0 {
		b.WriteString(strconv.FormatUint(n, 10))
		b.WriteByte(unit)
	}
}
