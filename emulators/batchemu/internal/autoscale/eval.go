package autoscale

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// DefaultSampleInterval is the service's metric sampling period.
const DefaultSampleInterval = 30 * time.Second

// Sample is one metric sample.
type Sample struct {
	Time  time.Time
	Value float64
}

// Inputs is everything a formula can observe.
type Inputs struct {
	// Now is the evaluation time; time() returns it and GetSample windows
	// end at it. Required.
	Now time.Time
	// Samples holds each metric's history, oldest first, keyed by the
	// canonical variable name ("$PendingTasks", "$ActiveTasks",
	// "$RunningTasks", "$SucceededTasks", "$FailedTasks", "$CPUPercent",
	// "$PreemptedNodeCount", …; see the Var* constants). A missing key is an
	// empty history.
	Samples map[string][]Sample

	CurrentDedicatedNodes   float64
	CurrentLowPriorityNodes float64
	// TargetDedicatedNodes and TargetLowPriorityNodes are the pool's current
	// targets: what $TargetDedicatedNodes reads before the formula assigns
	// it, and the result when the formula never assigns it.
	TargetDedicatedNodes   float64
	TargetLowPriorityNodes float64
	TaskSlotsPerNode       float64
	PreemptedNodeCount     float64

	// SampleInterval is the sampling period used to compute sample
	// percentages (expected samples = window / SampleInterval).
	// Zero means DefaultSampleInterval.
	SampleInterval time.Duration
	// SampleDelay hides samples newer than Now-SampleDelay, modelling the
	// service's roughly one-minute propagation delay. Zero (the default)
	// makes every sample up to Now visible, which suits a fast local loop.
	// Samples after Now are never visible; a negative delay counts as zero.
	SampleDelay time.Duration
	// Rand returns values in [0,1) for rand(). Nil means math/rand/v2.
	Rand func() float64
}

// Result is a successful evaluation.
type Result struct {
	// TargetDedicatedNodes and TargetLowPriorityNodes are the final targets:
	// negative values become 0 and fractions are truncated (2.9 → 2), the
	// behaviour the documentation's "+ 3) / 4" round-up idiom relies on.
	TargetDedicatedNodes   int
	TargetLowPriorityNodes int
	// NodeDeallocationOption is requeue, terminate, taskcompletion or
	// retaineddata (requeue unless the formula assigns it).
	NodeDeallocationOption string
	// Results is the AutoScaleRun.results string, for example
	// "$TargetDedicatedNodes=1;$NodeDeallocationOption=requeue;$x=[1,2]".
	Results string
}

// errStop is returned internally when the formula calls stop().
var errStop = &Error{Code: "stop"}

// assignment records a write to one spelling of a read-write variable.
type assignment struct {
	set      bool
	spelling string
	v        value
}

type evaluator struct {
	f        *Formula
	in       Inputs
	users    map[string]value
	full     [3]assignment // indexed by target*
	alias    [3]assignment
	metrics  map[string][]Sample // visible samples, oldest first, per canonical name
	interval time.Duration
}

const (
	targetDedicated = iota
	targetLowPriority
	targetDeallocation
)

func targetIndex(k sysKind) int {
	switch k {
	case sysTargetDedicated:
		return targetDedicated
	case sysTargetLowPriority:
		return targetLowPriority
	}
	return targetDeallocation
}

// Evaluate runs the formula against the inputs. Failures are *Error with
// code InsufficientSampleData or AutoScalingFormulaEvaluationError.
func (f *Formula) Evaluate(in Inputs) (*Result, error) {
	r, err := f.evaluate(in)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (f *Formula) evaluate(in Inputs) (*Result, *Error) {
	if in.Now.IsZero() {
		return nil, &Error{Code: CodeEvaluationError, Message: msgEvaluation, Values: []NameValue{{Name: "Message", Value: "no evaluation time was given"}}}
	}
	if in.SampleInterval <= 0 {
		in.SampleInterval = DefaultSampleInterval
	}
	if in.SampleDelay < 0 {
		in.SampleDelay = 0
	}
	if in.Rand == nil {
		in.Rand = rand.Float64
	}
	ev := &evaluator{f: f, in: in, users: map[string]value{}, metrics: map[string][]Sample{}, interval: in.SampleInterval}
	for _, st := range f.stmts {
		v, err := ev.eval(st.value)
		if err == errStop {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := ev.assign(st, v); err != nil {
			return nil, err
		}
	}
	return ev.result()
}

func (ev *evaluator) errorf(pos int, format string, args ...any) *Error {
	return newError(CodeEvaluationError, msgEvaluation, ev.f.src, pos, format, args...)
}

func (ev *evaluator) assign(st statement, v value) *Error {
	if st.sys.kind == sysNone {
		ev.users[st.target] = v
		return nil
	}
	if st.sys.kind == sysNodeDeallocation {
		opt, ok := "", false
		if v.k == kindString {
			opt, ok = deallocationOptions[strings.ToLower(v.s)]
		}
		if !ok {
			return ev.errorf(st.valuePos, "%s must be requeue, terminate, taskcompletion or retaineddata, got %s %s", st.target, v.k, v.format())
		}
		v = value{k: kindString, s: opt, ident: true}
	}
	a := assignment{set: true, spelling: st.target, v: v}
	if st.sys.alias {
		ev.alias[targetIndex(st.sys.kind)] = a
	} else {
		ev.full[targetIndex(st.sys.kind)] = a
	}
	return nil
}

// current returns the effective assignment of a read-write variable: the
// full name wins over its alias, as documented.
func (ev *evaluator) current(idx int) (assignment, bool) {
	if ev.full[idx].set {
		return ev.full[idx], true
	}
	if ev.alias[idx].set {
		return ev.alias[idx], true
	}
	return assignment{}, false
}

// readTarget is the value a read of a read-write variable sees: the latest
// write to the spelling read, else to the other spelling, else the input.
func (ev *evaluator) readTarget(v sysVar) value {
	idx := targetIndex(v.kind)
	first, second := ev.full[idx], ev.alias[idx]
	if v.alias {
		first, second = second, first
	}
	switch {
	case first.set:
		return first.v
	case second.set:
		return second.v
	}
	switch idx {
	case targetDedicated:
		return double(ev.in.TargetDedicatedNodes)
	case targetLowPriority:
		return double(ev.in.TargetLowPriorityNodes)
	}
	return value{k: kindString, s: "requeue", ident: true}
}

func (ev *evaluator) result() (*Result, *Error) {
	r := &Result{NodeDeallocationOption: "requeue"}
	var parts []string
	var err *Error
	if r.TargetDedicatedNodes, parts, err = ev.target(targetDedicated, ev.in.TargetDedicatedNodes, parts); err != nil {
		return nil, err
	}
	if r.TargetLowPriorityNodes, parts, err = ev.target(targetLowPriority, ev.in.TargetLowPriorityNodes, parts); err != nil {
		return nil, err
	}
	spelling := VarNodeDeallocationOption
	if a, ok := ev.current(targetDeallocation); ok {
		spelling, r.NodeDeallocationOption = a.spelling, a.v.s
	}
	parts = append(parts, spelling+"="+r.NodeDeallocationOption)
	names := make([]string, 0, len(ev.users))
	for name := range ev.users {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		parts = append(parts, name+"="+ev.users[name].format())
	}
	r.Results = strings.Join(parts, ";")
	return r, nil
}

// target converts the effective value of a node-count variable to the final
// integer target and appends its results entry when the formula assigned it.
func (ev *evaluator) target(idx int, current float64, parts []string) (int, []string, *Error) {
	a, ok := ev.current(idx)
	if !ok {
		return clampTarget(current), parts, nil
	}
	if a.v.k != kindDouble {
		return 0, nil, ev.errorf(ev.lastAssignPos(a.spelling), "%s must be a double, got %s %s", a.spelling, a.v.k, a.v.format())
	}
	if math.IsNaN(a.v.d) || math.IsInf(a.v.d, 0) {
		return 0, nil, ev.errorf(ev.lastAssignPos(a.spelling), "%s must be a finite number, got %s", a.spelling, formatDouble(a.v.d))
	}
	return clampTarget(a.v.d), append(parts, a.spelling+"="+a.v.format()), nil
}

func (ev *evaluator) lastAssignPos(spelling string) int {
	pos := 0
	for _, st := range ev.f.stmts {
		if st.target == spelling {
			pos = st.valuePos
		}
	}
	return pos
}

func clampTarget(f float64) int {
	switch {
	case math.IsNaN(f) || f <= 0:
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	}
	return int(f)
}

func (ev *evaluator) eval(e expr) (value, *Error) {
	switch e := e.(type) {
	case numberLit:
		return double(e.v), nil
	case stringLit:
		return str(e.v), nil
	case intervalLit:
		return interval(e.ticks), nil
	case deallocLit:
		return value{k: kindString, s: e.v, ident: true}, nil
	case userRef:
		v, ok := ev.users[e.name]
		if !ok {
			return value{}, ev.errorf(e.pos, "variable '%s' has no value", e.name)
		}
		return v, nil
	case sysRef:
		return ev.sysValue(e)
	case unaryExpr:
		return ev.unary(e)
	case binaryExpr:
		return ev.binary(e)
	case condExpr:
		c, err := ev.eval(e.cond)
		if err != nil {
			return value{}, err
		}
		if c.k != kindDouble {
			return value{}, ev.errorf(e.cond.position(), "the condition of '?:' must be a double, got %s", c.k)
		}
		if c.d != 0 {
			return ev.eval(e.a)
		}
		return ev.eval(e.b)
	case callExpr:
		return ev.call(e)
	case methodExpr:
		return ev.method(e)
	case memberExpr:
		return ev.member(e)
	}
	return value{}, ev.errorf(e.position(), "unsupported expression")
}

func (ev *evaluator) sysValue(e sysRef) (value, *Error) {
	switch e.v.kind {
	case sysTargetDedicated, sysTargetLowPriority, sysNodeDeallocation:
		return ev.readTarget(e.v), nil
	case sysTaskSlots:
		return double(ev.in.TaskSlotsPerNode), nil
	case sysNodeCount:
		switch e.v.canonical {
		case VarCurrentDedicatedNodes:
			return double(ev.in.CurrentDedicatedNodes), nil
		case VarCurrentLowPriorityNodes:
			return double(ev.in.CurrentLowPriorityNodes), nil
		default:
			return double(ev.in.PreemptedNodeCount), nil
		}
	}
	return value{}, ev.errorf(e.pos, "'%s' is a sample set, not a value; use a method such as %s.GetSample(TimeInterval_Minute * 5)", e.spelling, e.spelling)
}

func (ev *evaluator) member(e memberExpr) (value, *Error) {
	x, err := ev.eval(e.x)
	if err != nil {
		return value{}, err
	}
	if x.k != kindTimestamp {
		return value{}, ev.errorf(e.pos, "member '%s' needs a timestamp, got %s", e.name, x.k)
	}
	t := x.t
	switch e.name {
	case "year":
		return double(float64(t.Year())), nil
	case "month":
		return double(float64(t.Month())), nil
	case "day":
		return double(float64(t.Day())), nil
	case "weekday":
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7 // Sunday; Monday is 1
		}
		return double(float64(wd)), nil
	case "hour":
		return double(float64(t.Hour())), nil
	case "minute":
		return double(float64(t.Minute())), nil
	default:
		return double(float64(t.Second())), nil
	}
}

func (ev *evaluator) unary(e unaryExpr) (value, *Error) {
	x, err := ev.eval(e.x)
	if err != nil {
		return value{}, err
	}
	switch {
	case e.op == "-" && x.k == kindDouble:
		return double(-x.d), nil
	case e.op == "-" && x.k == kindInterval:
		return interval(-x.d), nil
	case e.op == "!" && x.k == kindDouble:
		return boolean(x.d == 0), nil
	}
	return value{}, ev.errorf(e.pos, "operator '%s' is not defined for %s", e.op, x.k)
}

func (ev *evaluator) binary(e binaryExpr) (value, *Error) {
	l, err := ev.eval(e.l)
	if err != nil {
		return value{}, err
	}
	if e.op == "&&" || e.op == "||" {
		if l.k != kindDouble {
			return value{}, ev.errorf(e.pos, "operator '%s' is not defined for %s and ...; both operands must be doubles", e.op, l.k)
		}
		if (e.op == "&&" && l.d == 0) || (e.op == "||" && l.d != 0) {
			return boolean(e.op == "||"), nil
		}
		r, err := ev.eval(e.r)
		if err != nil {
			return value{}, err
		}
		if r.k != kindDouble {
			return value{}, ev.errorf(e.pos, "operator '%s' is not defined for double and %s", e.op, r.k)
		}
		return boolean(r.d != 0), nil
	}
	r, err := ev.eval(e.r)
	if err != nil {
		return value{}, err
	}
	switch e.op {
	case "<", "<=", ">", ">=", "==", "!=":
		return ev.compare(e, l, r)
	}
	return ev.arith(e, l, r)
}

func (ev *evaluator) compare(e binaryExpr, l, r value) (value, *Error) {
	if l.k != r.k || l.k == kindVec {
		return value{}, ev.errorf(e.pos, "operator '%s' is not defined for %s and %s", e.op, l.k, r.k)
	}
	var c int
	switch l.k {
	case kindDouble, kindInterval:
		if math.IsNaN(l.d) || math.IsNaN(r.d) {
			return boolean(e.op == "!="), nil
		}
		c = cmpFloat(l.d, r.d)
	case kindString:
		c = strings.Compare(l.s, r.s)
	case kindTimestamp:
		c = l.t.Compare(r.t)
	}
	switch e.op {
	case "<":
		return boolean(c < 0), nil
	case "<=":
		return boolean(c <= 0), nil
	case ">":
		return boolean(c > 0), nil
	case ">=":
		return boolean(c >= 0), nil
	case "==":
		return boolean(c == 0), nil
	}
	return boolean(c != 0), nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// arith implements + - * / for the combinations the documentation lists.
func (ev *evaluator) arith(e binaryExpr, l, r value) (value, *Error) {
	op := e.op
	switch {
	case l.k == kindDouble && r.k == kindDouble:
		return double(applyOp(op, l.d, r.d)), nil
	case l.k == kindVec && r.k == kindDouble:
		out := make([]float64, len(l.vec))
		for i, x := range l.vec {
			out[i] = applyOp(op, x, r.d)
		}
		return vector(out), nil
	case l.k == kindVec && r.k == kindVec:
		if len(l.vec) != len(r.vec) {
			return value{}, ev.errorf(e.pos, "operator '%s' needs doubleVecs of the same length, got %d and %d", op, len(l.vec), len(r.vec))
		}
		out := make([]float64, len(l.vec))
		for i := range l.vec {
			out[i] = applyOp(op, l.vec[i], r.vec[i])
		}
		return vector(out), nil
	case op == "*" && l.k == kindDouble && r.k == kindInterval:
		return interval(l.d * r.d), nil
	case (op == "*" || op == "/") && l.k == kindInterval && r.k == kindDouble:
		if op == "/" && r.d == 0 {
			return value{}, ev.errorf(e.pos, "division of a timeinterval by zero")
		}
		return interval(applyOp(op, l.d, r.d)), nil
	case (op == "+" || op == "-") && l.k == kindInterval && r.k == kindInterval:
		return interval(applyOp(op, l.d, r.d)), nil
	case op == "+" && l.k == kindTimestamp && r.k == kindInterval:
		return addInterval(l.t, r.d), nil
	case op == "+" && l.k == kindInterval && r.k == kindTimestamp:
		return addInterval(r.t, l.d), nil
	case op == "-" && l.k == kindTimestamp && r.k == kindTimestamp:
		return interval(durationTicks(l.t.Sub(r.t))), nil
	}
	return value{}, ev.errorf(e.pos, "operator '%s' is not defined for %s and %s", op, l.k, r.k)
}

func applyOp(op string, a, b float64) float64 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	}
	return a / b
}

func addInterval(t time.Time, ticks float64) value {
	return timestamp(t.Add(ticksToDuration(ticks)))
}
