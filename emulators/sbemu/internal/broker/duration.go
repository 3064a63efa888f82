package broker

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// maxDuration is used for ISO 8601 durations longer than time.Duration can
// hold, such as .NET's TimeSpan.MaxValue ("P10675199DT2H48M5.4775807S"),
// which Azure reports for "never expires". It is about 292 years.
const maxDuration = math.MaxInt64

// parseISODuration parses an ISO 8601 duration of the form
// P[nY][nM][nW][nD][T[nH][nM][n[.f]S]], the form the emulator's schema
// accepts. Years and months use .NET's XmlConvert convention (365 and 30
// days). Durations that overflow time.Duration saturate at about 292 years.
func parseISODuration(s string) (time.Duration, error) {
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration (want e.g. PT1M, PT30S, P1D)", s)
	}
	const (
		sec = 1_000_000_000
		day = 86400 * sec
	)
	datePart, timePart, hasT := strings.Cut(s[1:], "T")
	if hasT && timePart == "" {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration: empty time part after T", s)
	}
	total := new(big.Rat)
	parse := func(part string, units string, mult map[byte]int64) error {
		last := -1
		for part != "" {
			i := 0
			for i < len(part) && (part[i] >= '0' && part[i] <= '9' || part[i] == '.' || part[i] == ',') {
				i++
			}
			if i == 0 || i == len(part) {
				return fmt.Errorf("%q is not an ISO 8601 duration: expected a number followed by one of %s", s, units)
			}
			num, u := strings.ReplaceAll(part[:i], ",", "."), part[i]
			pos := strings.IndexByte(units, u)
			if pos < 0 {
				return fmt.Errorf("%q is not an ISO 8601 duration: unexpected designator %q", s, u)
			}
			if pos <= last {
				return fmt.Errorf("%q is not an ISO 8601 duration: designator %q out of order or repeated", s, u)
			}
			last = pos
			if strings.Contains(num, ".") && u != 'S' {
				return fmt.Errorf("%q: fractions are only supported on seconds", s)
			}
			r, ok := new(big.Rat).SetString(num)
			if !ok {
				return fmt.Errorf("%q is not an ISO 8601 duration: bad number %q", s, num)
			}
			total.Add(total, r.Mul(r, new(big.Rat).SetInt64(mult[u])))
			part = part[i+1:]
		}
		return nil
	}
	if err := parse(datePart, "YMWD", map[byte]int64{'Y': 365 * day, 'M': 30 * day, 'W': 7 * day, 'D': day}); err != nil {
		return 0, err
	}
	if err := parse(timePart, "HMS", map[byte]int64{'H': 3600 * sec, 'M': 60 * sec, 'S': sec}); err != nil {
		return 0, err
	}
	ns := new(big.Int).Quo(total.Num(), total.Denom())
	if !ns.IsInt64() {
		return maxDuration, nil
	}
	return time.Duration(ns.Int64()), nil
}

// formatISODuration formats d (nanoseconds) as an ISO 8601 duration.
func formatISODuration(d time.Duration) string {
	ns := int64(d)
	if ns == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	const sec = 1_000_000_000
	days := ns / (86400 * sec)
	ns -= days * 86400 * sec
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if ns == 0 {
		return b.String()
	}
	b.WriteString("T")
	h := ns / (3600 * sec)
	ns -= h * 3600 * sec
	m := ns / (60 * sec)
	ns -= m * 60 * sec
	if h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if ns > 0 {
		if ns%sec == 0 {
			fmt.Fprintf(&b, "%dS", ns/sec)
		} else {
			fmt.Fprintf(&b, "%sS", strings.TrimRight(fmt.Sprintf("%d.%09d", ns/sec, ns%sec), "0"))
		}
	}
	return b.String()
}
