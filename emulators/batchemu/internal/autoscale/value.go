package autoscale

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

type kind int

const (
	kindDouble kind = iota
	kindVec
	kindString
	kindTimestamp
	kindInterval
)

func (k kind) String() string {
	return [...]string{"double", "doubleVec", "string", "timestamp", "timeinterval"}[k]
}

// value is a formula value. Intervals are held in 100 ns ticks (as a float,
// so arithmetic never wraps); timestamps are UTC instants.
type value struct {
	k     kind
	d     float64 // double, or interval ticks
	vec   []float64
	s     string
	t     time.Time
	ident bool // a string that came from a bare deallocation option name
}

func double(f float64) value                { return value{k: kindDouble, d: f} }
func vector(v []float64) value              { return value{k: kindVec, vec: v} }
func str(s string) value                    { return value{k: kindString, s: s} }
func timestamp(t time.Time) value           { return value{k: kindTimestamp, t: t.UTC()} }
func interval(ticks float64) value          { return value{k: kindInterval, d: ticks} }
func boolean(b bool) value                  { return double(b2f(b)) }
func durationTicks(d time.Duration) float64 { return float64(d) / 100 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// format renders a value the way the service's results string does: doubles
// in shortest round-trip form, vectors as [1,2], timestamps as ISO 8601 UTC
// with milliseconds, intervals as a .NET TimeSpan ([-][d.]hh:mm:ss[.fffffff]).
func (v value) format() string {
	switch v.k {
	case kindDouble:
		return formatDouble(v.d)
	case kindVec:
		parts := make([]string, len(v.vec))
		for i, f := range v.vec {
			parts[i] = formatDouble(f)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case kindString:
		return v.s
	case kindTimestamp:
		return v.t.UTC().Format("2006-01-02T15:04:05.000Z")
	default:
		return formatTicks(v.d)
	}
}

// formatDouble matches .NET's shortest round-trip double formatting:
// positional notation from 1e-5 up to 1e15, E notation outside.
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e-5 && a < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'E', -1, 64)
}

// formatTicks writes an interval as a .NET TimeSpan with
// internal/dotnettime. An interval outside a TimeSpan's range (formula
// arithmetic is in doubles) is written as its tick count.
func formatTicks(ticks float64) string {
	if math.IsNaN(ticks) || math.IsInf(ticks, 0) || math.Abs(ticks) > math.MaxInt64/2 {
		return formatDouble(ticks) + " ticks"
	}
	return dotnettime.FormatTimeSpanTicks(int64(math.Round(ticks)))
}

// ticksToDuration converts interval ticks to a Duration, saturating instead
// of overflowing.
func ticksToDuration(ticks float64) time.Duration {
	ns := ticks * 100
	switch {
	case math.IsNaN(ns):
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}
