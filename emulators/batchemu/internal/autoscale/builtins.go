package autoscale

import (
	"math"
	"slices"
	"strings"
	"time"
)

func (ev *evaluator) call(e callExpr) (value, *Error) {
	if e.name == "stop" {
		return value{}, errStop
	}
	args := make([]value, len(e.args))
	for i, a := range e.args {
		v, err := ev.eval(a)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	switch e.name {
	case "rand":
		return double(ev.in.Rand()), nil
	case "time":
		return ev.timeFunc(e, args)
	case "val":
		return ev.val(e, args)
	case "percentile":
		return ev.percentile(e, args)
	case "lg", "ln", "log":
		return ev.logFunc(e, args)
	}
	xs, err := ev.flatten(e, args)
	if err != nil {
		return value{}, err
	}
	switch e.name {
	case "len":
		return double(float64(len(xs))), nil
	case "sum":
		return double(sum(xs)), nil
	case "norm":
		var sq float64
		for _, x := range xs {
			sq += x * x
		}
		return double(math.Sqrt(sq)), nil
	}
	if len(xs) == 0 {
		return value{}, ev.errorf(e.pos, "%s() of an empty list", e.name)
	}
	switch e.name {
	case "avg":
		return double(sum(xs) / float64(len(xs))), nil
	case "max":
		return double(slices.Max(xs)), nil
	case "min":
		return double(slices.Min(xs)), nil
	case "range":
		return double(slices.Max(xs) - slices.Min(xs)), nil
	default: // std
		return double(sampleStdDev(xs)), nil
	}
}

// flatten converts a doubleVecList (any mix of doubles and doubleVecs) into
// one vector.
func (ev *evaluator) flatten(e callExpr, args []value) ([]float64, *Error) {
	var xs []float64
	for i, a := range args {
		switch a.k {
		case kindDouble:
			xs = append(xs, a.d)
		case kindVec:
			xs = append(xs, a.vec...)
		default:
			return nil, ev.errorf(e.args[i].position(), "%s() takes doubles and doubleVecs, argument %d is a %s", e.name, i+1, a.k)
		}
	}
	return xs, nil
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// sampleStdDev is the sample standard deviation (n-1 denominator); a single
// value has a deviation of 0.
func sampleStdDev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	mean := sum(xs) / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// logFunc implements lg (base 2), ln and log (base 10): a single double gives
// a double, anything else is flattened and mapped component-wise.
func (ev *evaluator) logFunc(e callExpr, args []value) (value, *Error) {
	f := math.Log10
	switch e.name {
	case "lg":
		f = math.Log2
	case "ln":
		f = math.Log
	}
	if len(args) == 1 && args[0].k == kindDouble {
		return double(f(args[0].d)), nil
	}
	xs, err := ev.flatten(e, args)
	if err != nil {
		return value{}, err
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return vector(out), nil
}

// percentile returns the nearest-rank element: the smallest element with at
// least p percent of the values at or below it.
func (ev *evaluator) percentile(e callExpr, args []value) (value, *Error) {
	var xs []float64
	switch args[0].k {
	case kindVec:
		xs = slices.Clone(args[0].vec)
	case kindDouble:
		xs = []float64{args[0].d}
	default:
		return value{}, ev.errorf(e.args[0].position(), "percentile() takes a doubleVec as its first argument, got %s", args[0].k)
	}
	if args[1].k != kindDouble {
		return value{}, ev.errorf(e.args[1].position(), "percentile() takes a double percentile, got %s", args[1].k)
	}
	p := args[1].d
	if !(p >= 0 && p <= 100) {
		return value{}, ev.errorf(e.args[1].position(), "percentile() needs a percentile between 0 and 100, got %s", formatDouble(p))
	}
	if len(xs) == 0 {
		return value{}, ev.errorf(e.pos, "percentile() of an empty doubleVec")
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	if rank < 1 {
		rank = 1
	}
	return double(xs[rank-1]), nil
}

// val returns element i (zero-based) of a doubleVec.
func (ev *evaluator) val(e callExpr, args []value) (value, *Error) {
	var xs []float64
	switch args[0].k {
	case kindVec:
		xs = args[0].vec
	case kindDouble:
		xs = []float64{args[0].d}
	default:
		return value{}, ev.errorf(e.args[0].position(), "val() takes a doubleVec as its first argument, got %s", args[0].k)
	}
	if args[1].k != kindDouble {
		return value{}, ev.errorf(e.args[1].position(), "val() takes a double index, got %s", args[1].k)
	}
	i := args[1].d
	if !(i >= 0 && i < float64(len(xs))) {
		return value{}, ev.errorf(e.args[1].position(), "val() index %s is out of range for a doubleVec of length %d", formatDouble(i), len(xs))
	}
	return double(xs[int(i)]), nil
}

// timeFunc implements time() and time(string) with W3C-DTF or RFC 1123 input.
func (ev *evaluator) timeFunc(e callExpr, args []value) (value, *Error) {
	if len(args) == 0 {
		return timestamp(ev.in.Now), nil
	}
	if args[0].k != kindString {
		return value{}, ev.errorf(e.args[0].position(), "time() takes a string, got %s", args[0].k)
	}
	s := strings.TrimSpace(args[0].s)
	if s == "" {
		return timestamp(ev.in.Now), nil
	}
	t, ok := parseDateTime(s)
	if !ok {
		return value{}, ev.errorf(e.args[0].position(), "time(\"%s\"): not a W3C-DTF or RFC 1123 date and time", args[0].s)
	}
	return timestamp(t), nil
}

// dateTimeLayouts covers W3C-DTF (the ISO 8601 profile: year, year-month,
// date, date and time to minutes, seconds or fractions, with Z or an offset)
// and RFC 1123 as produced by .NET's "r" format.
var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
	"2006-01",
	"2006",
	time.RFC1123,
	time.RFC1123Z,
}

func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
