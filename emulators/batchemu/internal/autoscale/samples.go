package autoscale

import (
	"math"
	"slices"
	"time"
)

// history returns the visible samples of a metric, oldest first: those at or
// before Now-SampleDelay.
func (ev *evaluator) history(canonical string) []Sample {
	if h, ok := ev.metrics[canonical]; ok {
		return h
	}
	cutoff := ev.in.Now.Add(-ev.in.SampleDelay)
	var h []Sample
	for _, s := range ev.in.Samples[canonical] {
		if !s.Time.After(cutoff) {
			h = append(h, s)
		}
	}
	slices.SortStableFunc(h, func(a, b Sample) int { return a.Time.Compare(b.Time) })
	ev.metrics[canonical] = h
	return h
}

func (ev *evaluator) method(e methodExpr) (value, *Error) {
	args := make([]value, len(e.args))
	for i, a := range e.args {
		v, err := ev.eval(a)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	h := ev.history(e.recv.v.canonical)
	switch e.name {
	case "count":
		return double(float64(len(h))), nil
	case "getsampleperiod":
		return interval(durationTicks(ev.interval)), nil
	case "historybegintime":
		if len(h) == 0 {
			return value{}, ev.errorf(e.lparen, "%s has no samples, so HistoryBeginTime() has no value", e.recv.spelling)
		}
		return timestamp(h[0].Time), nil
	case "getsamplepercent":
		from, to, err := ev.window(e, args)
		if err != nil {
			return value{}, err
		}
		_, pct := ev.inWindow(h, from, to)
		return double(pct), nil
	}
	return ev.getSample(e, args, h)
}

// getSample implements the three GetSample forms: a sample count, a window
// start (up to now), or a window start and end; the window forms take an
// optional minimum sample percentage.
func (ev *evaluator) getSample(e methodExpr, args []value, h []Sample) (value, *Error) {
	if len(args) == 1 && args[0].k == kindDouble {
		n := args[0].d
		if !(n >= 0) {
			return value{}, ev.errorf(e.args[0].position(), "GetSample() needs a non-negative sample count, got %s", formatDouble(n))
		}
		k := len(h)
		if n < float64(k) {
			k = int(n)
		}
		out := make([]float64, 0, k)
		for _, s := range h[len(h)-k:] {
			out = append(out, s.Value)
		}
		return vector(out), nil
	}
	windowArgs, percent := args, -1.0
	if last := args[len(args)-1]; len(args) > 1 && last.k == kindDouble {
		windowArgs = args[:len(args)-1]
		percent = last.d
		if !(percent >= 0 && percent <= 100) {
			return value{}, ev.errorf(e.args[len(args)-1].position(), "GetSample() needs a sample percentage between 0 and 100, got %s", formatDouble(percent))
		}
	} else if len(args) == 3 {
		return value{}, ev.errorf(e.args[2].position(), "the third argument of GetSample() is a sample percentage (double), got %s", last.k)
	}
	from, to, err := ev.window(e, windowArgs)
	if err != nil {
		return value{}, err
	}
	got, pct := ev.inWindow(h, from, to)
	if percent >= 0 && pct < percent {
		return value{}, newError(CodeInsufficientSampleData, msgInsufficientData, ev.f.src, e.lparen,
			"Insufficient data from data set: %s wanted %s%%, received %d%%", e.recv.spelling, formatDouble(percent), int(math.Floor(pct)))
	}
	return vector(got), nil
}

// window converts one or two timestamp/timeinterval arguments into an
// absolute time range. An interval means "that long before now"; a single
// argument is the start of a window that ends now. The range is ordered, so
// GetSample(1 * TimeInterval_Minute, 6 * TimeInterval_Minute) covers
// [now-6m, now-1m].
func (ev *evaluator) window(e methodExpr, args []value) (time.Time, time.Time, *Error) {
	instants := make([]time.Time, 0, 2)
	for i, a := range args {
		switch a.k {
		case kindInterval:
			instants = append(instants, ev.in.Now.Add(-ticksToDuration(a.d)))
		case kindTimestamp:
			instants = append(instants, a.t)
		default:
			return time.Time{}, time.Time{}, ev.errorf(e.args[i].position(),
				"argument %d of %s() must be a timeinterval or a timestamp, got %s", i+1, methodName(e.name), a.k)
		}
	}
	if len(instants) == 1 {
		instants = append(instants, ev.in.Now)
	}
	from, to := instants[0], instants[1]
	if from.After(to) {
		from, to = to, from
	}
	return from, to, nil
}

// inWindow returns the values of the samples in [from, to] and the
// percentage of the expected samples (one per SampleInterval) they make up,
// capped at 100.
func (ev *evaluator) inWindow(h []Sample, from, to time.Time) ([]float64, float64) {
	got := []float64{}
	for _, s := range h {
		if !s.Time.Before(from) && !s.Time.After(to) {
			got = append(got, s.Value)
		}
	}
	expected := math.Floor(float64(to.Sub(from)) / float64(ev.interval))
	if expected < 1 {
		expected = 1
	}
	return got, math.Min(100, 100*float64(len(got))/expected)
}

func methodName(lower string) string {
	switch lower {
	case "getsample":
		return "GetSample"
	case "getsamplepercent":
		return "GetSamplePercent"
	}
	return lower
}
