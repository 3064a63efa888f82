package autoscale

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// exprPrelude defines operands of every type for TestExpressions:
// d double, v and w doubleVecs of length 3, s string, ts timestamp (a
// Monday), iv timeinterval.
const exprPrelude = `d = 2; v = $PendingTasks.GetSample(3); w = $RunningTasks.GetSample(3); s = "abc";
ts = time("2026-11-23T10:00:00Z"); iv = TimeInterval_Minute * 2;
`

func exprInputs() Inputs {
	return Inputs{
		Now: now,
		Samples: map[string][]Sample{
			VarPendingTasks: series(now, 30*time.Second, 1, 2, 3),
			VarRunningTasks: series(now, 30*time.Second, 10, 20, 30),
		},
		CurrentDedicatedNodes:   4,
		CurrentLowPriorityNodes: 2,
		TargetDedicatedNodes:    6,
		TargetLowPriorityNodes:  1,
		TaskSlotsPerNode:        4,
		PreemptedNodeCount:      1,
		Rand:                    func() float64 { return 0.25 },
	}
}

// resultOf returns the value the results string reports for a variable.
func resultOf(results, name string) (string, bool) {
	for _, part := range strings.Split(results, ";") {
		if v, ok := strings.CutPrefix(part, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestExpressions(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		want    string
		wantErr string
	}{
		// double op double
		{name: "double plus", expr: "2 + 3", want: "5"},
		{name: "double minus", expr: "2 - 3", want: "-1"},
		{name: "double times", expr: "2 * 3", want: "6"},
		{name: "double divide", expr: "7 / 2", want: "3.5"},
		{name: "double divide by zero", expr: "1 / 0", want: "Infinity"},
		{name: "negative divide by zero", expr: "-1 / 0", want: "-Infinity"},
		{name: "zero by zero", expr: "0 / 0", want: "NaN"},
		{name: "decimal and exponent literals", expr: "1.5e3 + 0.25", want: "1500.25"},
		{name: "large double uses E notation", expr: "1e16", want: "1E+16"},
		{name: "small double uses E notation", expr: "0.000001", want: "1E-06"},
		// doubleVec op double / doubleVec
		{name: "vec plus double", expr: "v + 1", want: "[2,3,4]"},
		{name: "vec minus double", expr: "v - 1", want: "[0,1,2]"},
		{name: "vec times double", expr: "v * 2", want: "[2,4,6]"},
		{name: "vec divide double", expr: "v / 2", want: "[0.5,1,1.5]"},
		{name: "vec plus vec", expr: "v + w", want: "[11,22,33]"},
		{name: "vec minus vec", expr: "w - v", want: "[9,18,27]"},
		{name: "vec times vec", expr: "v * w", want: "[10,40,90]"},
		{name: "vec divide vec", expr: "w / v", want: "[10,10,10]"},
		{name: "vec length mismatch", expr: "v + $PendingTasks.GetSample(2)", wantErr: "same length, got 3 and 2"},
		{name: "double plus vec is not documented", expr: "1 + v", wantErr: "operator '+' is not defined for double and doubleVec"},
		// timeinterval and timestamp arithmetic
		{name: "double times interval", expr: "3 * TimeInterval_Second", want: "00:00:03"},
		{name: "interval times double", expr: "TimeInterval_Hour * 1.5", want: "01:30:00"},
		{name: "interval divide double", expr: "TimeInterval_Day / 4", want: "06:00:00"},
		{name: "interval divide zero", expr: "TimeInterval_Day / 0", wantErr: "division of a timeinterval by zero"},
		{name: "interval plus interval", expr: "TimeInterval_Day + TimeInterval_Hour", want: "1.01:00:00"},
		{name: "interval minus interval", expr: "TimeInterval_Minute - TimeInterval_Hour", want: "-00:59:00"},
		{name: "interval plus timestamp", expr: "iv + ts", want: "2026-11-23T10:02:00.000Z"},
		{name: "timestamp plus interval", expr: "ts + -iv", want: "2026-11-23T09:58:00.000Z"},
		{name: "timestamp minus timestamp", expr: `ts - time("2026-11-22T09:59:59.5Z")`, want: "1.00:00:00.5000000"},
		{name: "timestamp minus interval is not documented", expr: "ts - iv", wantErr: "operator '-' is not defined for timestamp and timeinterval"},
		{name: "timestamp plus timestamp", expr: "ts + ts", wantErr: "not defined for timestamp and timestamp"},
		{name: "interval plus double", expr: "iv + 1", wantErr: "not defined for timeinterval and double"},
		{name: "interval divide interval", expr: "iv / iv", wantErr: "not defined for timeinterval and timeinterval"},
		{name: "string plus string", expr: `s + "d"`, wantErr: "not defined for string and string"},
		{name: "constant 100ns", expr: "TimeInterval_100ns * 5", want: "00:00:00.0000005"},
		{name: "constant microsecond", expr: "TimeInterval_Microsecond", want: "00:00:00.0000010"},
		{name: "constant millisecond", expr: "TimeInterval_Millisecond", want: "00:00:00.0010000"},
		{name: "constant zero", expr: "TimeInterval_Zero", want: "00:00:00"},
		{name: "constant week", expr: "TimeInterval_Week", want: "7.00:00:00"},
		{name: "constant year", expr: "TimeInterval_Year", want: "365.00:00:00"},
		{name: "constants are case-insensitive", expr: "timeinterval_MINUTE", want: "00:01:00"},
		{name: "interval longer than a time.Duration", expr: "TimeInterval_Year * 1000 + TimeInterval_Second", want: "365000.00:00:01"},
		// unary
		{name: "negate double", expr: "-d", want: "-2"},
		{name: "negate interval", expr: "-iv", want: "-00:02:00"},
		{name: "not zero", expr: "!0", want: "1"},
		{name: "not non-zero", expr: "!d", want: "0"},
		{name: "double negation", expr: "--d", want: "2"},
		{name: "negate vec", expr: "-v", wantErr: "operator '-' is not defined for doubleVec"},
		{name: "not interval", expr: "!iv", wantErr: "operator '!' is not defined for timeinterval"},
		{name: "negate string", expr: "-s", wantErr: "operator '-' is not defined for string"},
		// comparisons
		{name: "less", expr: "1 < 2", want: "1"},
		{name: "less or equal", expr: "2 <= 2", want: "1"},
		{name: "greater", expr: "3 > 4", want: "0"},
		{name: "greater or equal", expr: "3 >= 4", want: "0"},
		{name: "equal", expr: "d == 2", want: "1"},
		{name: "not equal", expr: "d != 2", want: "0"},
		{name: "NaN is unequal", expr: "(0/0) == (0/0)", want: "0"},
		{name: "string less", expr: `"abc" < "abd"`, want: "1"},
		{name: "string equal", expr: `s == "abc"`, want: "1"},
		{name: "string compare is case-sensitive", expr: `"a" != "A"`, want: "1"},
		{name: "timestamp greater", expr: `ts > time("2026-01-01")`, want: "1"},
		{name: "timestamp equal across formats", expr: `ts == time("Mon, 23 Nov 2026 10:00:00 GMT")`, want: "1"},
		{name: "interval greater", expr: "TimeInterval_Hour > TimeInterval_Minute", want: "1"},
		{name: "interval equal", expr: "iv == 2 * TimeInterval_Minute", want: "1"},
		{name: "compare double with string", expr: "1 < s", wantErr: "operator '<' is not defined for double and string"},
		{name: "compare vec with double", expr: "v > 1", wantErr: "operator '>' is not defined for doubleVec and double"},
		{name: "compare timestamp with interval", expr: "ts == iv", wantErr: "not defined for timestamp and timeinterval"},
		// logical
		{name: "and false", expr: "1 && 0", want: "0"},
		{name: "and true", expr: "2 && 3", want: "1"},
		{name: "or false", expr: "0 || 0", want: "0"},
		{name: "or true", expr: "0 || 5", want: "1"},
		{name: "and short-circuits", expr: "0 && s", want: "0"},
		{name: "or short-circuits", expr: "1 || s", want: "1"},
		{name: "and with string", expr: "1 && s", wantErr: "operator '&&' is not defined for double and string"},
		{name: "or with string first", expr: "s || 1", wantErr: "both operands must be doubles"},
		// ternary
		{name: "ternary true", expr: "1 ? 2 : 3", want: "2"},
		{name: "ternary false", expr: "0 ? 2 : 3", want: "3"},
		{name: "ternary is right-associative", expr: "0 ? 1 : 0 ? 2 : 3", want: "3"},
		{name: "ternary of vectors", expr: "d > 1 ? v : w", want: "[1,2,3]"},
		{name: "ternary without spaces", expr: "d>1?20:10", want: "20"},
		{name: "ternary on string", expr: "s ? 1 : 2", wantErr: "condition of '?:' must be a double, got string"},
		// precedence
		{name: "times before plus", expr: "1 + 2 * 3", want: "7"},
		{name: "parentheses", expr: "(1 + 2) * 3", want: "9"},
		{name: "minus is left-associative", expr: "1 - 2 - 3", want: "-4"},
		{name: "divide is left-associative", expr: "8 / 2 / 2", want: "2"},
		{name: "comparison before and", expr: "1 + 1 == 2 && 3 > 2", want: "1"},
		{name: "relational before equality", expr: "1 < 2 == 1", want: "1"},
		{name: "unary binds tightest", expr: "-2 * -3", want: "6"},
		{name: "not binds tighter than plus", expr: "!1 + 1", want: "1"},
		{name: "and before or", expr: "1 || 0 && 0", want: "1"},
		// functions
		{name: "avg of vec", expr: "avg(v)", want: "2"},
		{name: "avg flattens a doubleVecList", expr: "avg(v, 7)", want: "3.25"},
		{name: "avg of doubles", expr: "avg(1, 2, 3, 7)", want: "3.25"},
		{name: "avg of nothing", expr: "avg()", wantErr: "avg() of an empty list"},
		{name: "avg of empty sample", expr: "avg($FailedTasks.GetSample(5))", wantErr: "avg() of an empty list"},
		{name: "avg of string", expr: "avg(1, s)", wantErr: "argument 2 is a string"},
		{name: "len", expr: "len(v, 7)", want: "4"},
		{name: "len of nothing", expr: "len()", want: "0"},
		{name: "lg of double", expr: "lg(8)", want: "3"},
		{name: "ln of double", expr: "ln(1)", want: "0"},
		{name: "log of double", expr: "log(1000)", want: "3"},
		{name: "log of vec is component-wise", expr: "log(v * 10)", want: "[1,1.301029995663981,1.4771212547196624]"},
		{name: "lg of a list is component-wise", expr: "lg(v, 4)", want: "[0,1,1.5849625007211563,2]"},
		{name: "ln of timestamp", expr: "ln(ts)", wantErr: "argument 1 is a timestamp"},
		{name: "max", expr: "max(v, 7)", want: "7"},
		{name: "min", expr: "min(v, -1)", want: "-1"},
		{name: "min of nothing", expr: "min()", wantErr: "min() of an empty list"},
		{name: "max of empty sample and zero", expr: "max(0, $FailedTasks.GetSample(1))", want: "0"},
		{name: "norm", expr: "norm(3, 4)", want: "5"},
		{name: "norm of nothing", expr: "norm()", want: "0"},
		{name: "range", expr: "range(v, 10)", want: "9"},
		{name: "std is the sample deviation", expr: "std(2, 4, 4, 4, 5, 5, 7, 9)", want: "2.138089935299395"},
		{name: "std of one value", expr: "std(5)", want: "0"},
		{name: "sum", expr: "sum(v, 4)", want: "10"},
		{name: "sum of nothing", expr: "sum()", want: "0"},
		{name: "percentile median", expr: "percentile(w, 50)", want: "20"},
		{name: "percentile zero", expr: "percentile(w, 0)", want: "10"},
		{name: "percentile hundred", expr: "percentile(w, 100)", want: "30"},
		{name: "percentile unsorted", expr: "percentile(w - v * 20, 50)", want: "-20"},
		{name: "percentile of double", expr: "percentile(7, 90)", want: "7"},
		{name: "percentile out of range", expr: "percentile(w, 101)", wantErr: "between 0 and 100, got 101"},
		{name: "percentile of string", expr: "percentile(s, 50)", wantErr: "takes a doubleVec"},
		{name: "percentile of empty", expr: "percentile($FailedTasks.GetSample(3), 50)", wantErr: "empty doubleVec"},
		{name: "val first", expr: "val(v, 0)", want: "1"},
		{name: "val last", expr: "val(v, 2)", want: "3"},
		{name: "val truncates the index", expr: "val(v, 1.9)", want: "2"},
		{name: "val past the end", expr: "val(v, 3)", wantErr: "index 3 is out of range for a doubleVec of length 3"},
		{name: "val negative", expr: "val(v, -1)", wantErr: "index -1 is out of range"},
		{name: "val of string index", expr: "val(v, s)", wantErr: "takes a double index"},
		{name: "time now", expr: "time()", want: "2016-10-13T19:18:47.805Z"},
		{name: "time empty string", expr: `time("")`, want: "2016-10-13T19:18:47.805Z"},
		{name: "time date only", expr: `time("2016-10-13")`, want: "2016-10-13T00:00:00.000Z"},
		{name: "time with offset", expr: `time("2016-10-13T19:18:47.805+02:00")`, want: "2016-10-13T17:18:47.805Z"},
		{name: "time to minutes", expr: `time("2016-10-13T19:18Z")`, want: "2016-10-13T19:18:00.000Z"},
		{name: "time RFC 1123", expr: `time("Thu, 13 Oct 2016 19:18:47 GMT")`, want: "2016-10-13T19:18:47.000Z"},
		{name: "time rubbish", expr: `time("yesterday")`, wantErr: `time("yesterday"): not a W3C-DTF or RFC 1123`},
		{name: "time of double", expr: "time(1)", wantErr: "time() takes a string, got double"},
		{name: "rand", expr: "rand()", want: "0.25"},
		{name: "function names are case-insensitive", expr: "MAX(1, 2)", want: "2"},
		// timestamp members
		{name: "year", expr: "ts.year", want: "2026"},
		{name: "month", expr: "ts.month", want: "11"},
		{name: "day", expr: "ts.day", want: "23"},
		{name: "weekday Monday is 1", expr: "ts.weekday", want: "1"},
		{name: "weekday Sunday is 7", expr: `time("2026-11-29T00:00:00Z").weekday`, want: "7"},
		{name: "hour", expr: "(ts + TimeInterval_Hour * 13).hour", want: "23"},
		{name: "minute", expr: "(ts + iv).minute", want: "2"},
		{name: "second", expr: "time().second", want: "47"},
		{name: "member of double", expr: "d.hour", wantErr: "member 'hour' needs a timestamp, got double"},
		// sample methods and service-defined variables
		{name: "Count", expr: "$PendingTasks.Count()", want: "3"},
		{name: "HistoryBeginTime", expr: "$PendingTasks.HistoryBeginTime()", want: "2016-10-13T19:17:47.805Z"},
		{name: "HistoryBeginTime without samples", expr: "$FailedTasks.HistoryBeginTime()", wantErr: "$FailedTasks has no samples"},
		{name: "GetSamplePeriod", expr: "$PendingTasks.GetSamplePeriod()", want: "00:00:30"},
		{name: "GetSample last", expr: "$PendingTasks.GetSample(1)", want: "[3]"},
		{name: "GetSample none", expr: "$PendingTasks.GetSample(0)", want: "[]"},
		{name: "GetSample more than exist", expr: "$PendingTasks.GetSample(10)", want: "[1,2,3]"},
		{name: "GetSample negative count", expr: "$PendingTasks.GetSample(-1)", wantErr: "non-negative sample count"},
		{name: "GetSample of string", expr: "$PendingTasks.GetSample(s)", wantErr: "argument 1 of GetSample() must be a timeinterval or a timestamp, got string"},
		{name: "GetSample interval", expr: "$PendingTasks.GetSample(TimeInterval_Minute)", want: "[1,2,3]"},
		{name: "GetSample shorter interval", expr: "$PendingTasks.GetSample(TimeInterval_Second * 45)", want: "[2,3]"},
		{name: "GetSample absolute start", expr: `$PendingTasks.GetSample(time("2016-10-13T19:18:17.805Z"))`, want: "[2,3]"},
		{name: "GetSample start and end", expr: "$PendingTasks.GetSample(TimeInterval_Second * 10, TimeInterval_Second * 40)", want: "[2]"},
		{name: "GetSample end before start", expr: "$PendingTasks.GetSample(TimeInterval_Second * 40, TimeInterval_Second * 10)", want: "[2]"},
		{name: "GetSample with percent met", expr: "$PendingTasks.GetSample(TimeInterval_Minute * 1.5, 100)", want: "[1,2,3]"},
		{name: "GetSample bad percent", expr: "$PendingTasks.GetSample(iv, 150)", wantErr: "between 0 and 100, got 150"},
		{name: "GetSample third argument", expr: "$PendingTasks.GetSample(iv, iv, s)", wantErr: "third argument of GetSample() is a sample percentage (double), got string"},
		{name: "GetSamplePercent", expr: "$PendingTasks.GetSamplePercent(TimeInterval_Minute * 3)", want: "50"},
		{name: "GetSamplePercent window", expr: "$PendingTasks.GetSamplePercent(TimeInterval_Zero, TimeInterval_Minute)", want: "100"},
		{name: "GetSamplePercent of double", expr: "$PendingTasks.GetSamplePercent(5)", wantErr: "must be a timeinterval or a timestamp, got double"},
		{name: "method names are case-insensitive", expr: "$pendingtasks.getsample(1)", want: "[3]"},
		{name: "CurrentDedicatedNodes", expr: "$CurrentDedicatedNodes", want: "4"},
		{name: "CurrentDedicated alias", expr: "$CurrentDedicated * 1.5", want: "6"},
		{name: "CurrentLowPriorityNodes", expr: "$CurrentLowPriorityNodes", want: "2"},
		{name: "TaskSlotsPerNode", expr: "$TaskSlotsPerNode", want: "4"},
		{name: "PreemptedNodeCount as a value", expr: "$PreemptedNodeCount", want: "1"},
		{name: "PreemptedNodeCount as samples", expr: "$PreemptedNodeCount.Count()", want: "0"},
		{name: "TargetDedicatedNodes before assignment", expr: "$TargetDedicatedNodes", want: "6"},
		{name: "TargetLowPriority alias before assignment", expr: "$TargetLowPriority", want: "1"},
		{name: "NodeDeallocationOption default", expr: "$NodeDeallocationOption", want: "requeue"},
		{name: "deallocation option as a value", expr: "retaineddata", want: "retaineddata"},
		{name: "sample set used as a value", expr: "$PendingTasks + 1", wantErr: "'$PendingTasks' is a sample set, not a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, exprPrelude+"x = "+tt.expr+";")
			r, err := f.Evaluate(exprInputs())
			if tt.wantErr != "" {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("Evaluate(x = %s) = %+v, %v; want *Error containing %q", tt.expr, r, err, tt.wantErr)
				}
				if ae.Code != CodeEvaluationError || !strings.Contains(ae.Detail(), tt.wantErr) || !strings.HasPrefix(ae.Detail(), "Line 3, Col ") {
					t.Errorf("error = %v, want code %s, a Line 3 position and %q", ae, CodeEvaluationError, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate(x = %s): %v", tt.expr, err)
			}
			got, ok := resultOf(r.Results, "x")
			if !ok || got != tt.want {
				t.Errorf("x = %s evaluated to %q (results %s), want %q", tt.expr, got, r.Results, tt.want)
			}
		})
	}
}

func TestSystemVariables(t *testing.T) {
	tests := []struct {
		name        string
		formula     string
		in          Inputs
		want        [2]int
		wantDealloc string
		wantResults string
	}{
		{"full name wins over alias", "$TargetDedicatedNodes = 3; $TargetDedicated = 5", Inputs{Now: now},
			[2]int{3, 0}, "requeue", "$TargetDedicatedNodes=3;$NodeDeallocationOption=requeue"},
		{"alias alone", "$TargetLowPriority = 4", Inputs{Now: now},
			[2]int{0, 4}, "requeue", "$TargetLowPriority=4;$NodeDeallocationOption=requeue"},
		{"alias reads the full name", "$TargetDedicatedNodes = 3; x = $TargetDedicated", Inputs{Now: now},
			[2]int{3, 0}, "requeue", "$TargetDedicatedNodes=3;$NodeDeallocationOption=requeue;x=3"},
		{"full name reads the alias", "$TargetDedicated = 5; x = $TargetDedicatedNodes * 2", Inputs{Now: now},
			[2]int{5, 0}, "requeue", "$TargetDedicated=5;$NodeDeallocationOption=requeue;x=10"},
		{"unassigned targets keep the pool's", "x = 1", Inputs{Now: now, TargetDedicatedNodes: 7, TargetLowPriorityNodes: 3},
			[2]int{7, 3}, "requeue", "$NodeDeallocationOption=requeue;x=1"},
		{"negative target clamps to zero", "$TargetDedicatedNodes = -5", Inputs{Now: now},
			[2]int{0, 0}, "requeue", "$TargetDedicatedNodes=-5;$NodeDeallocationOption=requeue"},
		{"fractional target truncates", "$TargetDedicatedNodes = 2.9; $TargetLowPriorityNodes = 0.5", Inputs{Now: now},
			[2]int{2, 0}, "requeue", "$TargetDedicatedNodes=2.9;$TargetLowPriorityNodes=0.5;$NodeDeallocationOption=requeue"},
		{"huge target saturates", "$TargetDedicatedNodes = 1e12", Inputs{Now: now},
			[2]int{math.MaxInt32, 0}, "requeue", "$TargetDedicatedNodes=1000000000000;$NodeDeallocationOption=requeue"},
		{"system names are case-insensitive and keep their spelling", "$targetDedicatedNodes=5", Inputs{Now: now},
			[2]int{5, 0}, "requeue", "$targetDedicatedNodes=5;$NodeDeallocationOption=requeue"},
		{"deallocation option from a string", `$NodeDeallocationOption = "Terminate"`, Inputs{Now: now},
			[2]int{0, 0}, "terminate", "$NodeDeallocationOption=terminate"},
		{"deallocation option read back", "$NodeDeallocationOption = retaineddata; x = $NodeDeallocationOption == \"retaineddata\"", Inputs{Now: now},
			[2]int{0, 0}, "retaineddata", "$NodeDeallocationOption=retaineddata;x=1"},
		{"user variables sorted ordinally", "b = 1; $a = 2; A = 3; $TargetDedicated = 1", Inputs{Now: now},
			[2]int{1, 0}, "requeue", "$TargetDedicated=1;$NodeDeallocationOption=requeue;$a=2;A=3;b=1"},
		{"user variable reassigned with another type", `x = 1; x = "one"`, Inputs{Now: now},
			[2]int{0, 0}, "requeue", "$NodeDeallocationOption=requeue;x=one"},
		{"stop ends the evaluation", "$TargetDedicatedNodes = 2; x = stop(); $TargetDedicatedNodes = 9", Inputs{Now: now},
			[2]int{2, 0}, "requeue", "$TargetDedicatedNodes=2;$NodeDeallocationOption=requeue"},
		{"stop inside an untaken branch", "$TargetDedicatedNodes = 0 ? stop() : 4", Inputs{Now: now},
			[2]int{4, 0}, "requeue", "$TargetDedicatedNodes=4;$NodeDeallocationOption=requeue"},
		{"short-circuit skips a failing GetSample", "x = 0 && max($CPUPercent.GetSample(TimeInterval_Minute, 100)) > 0", Inputs{Now: now},
			[2]int{0, 0}, "requeue", "$NodeDeallocationOption=requeue;x=0"},
		{"empty statements and no final semicolon", ";; x = 1 ;; ; y = x\n", Inputs{Now: now},
			[2]int{0, 0}, "requeue", "$NodeDeallocationOption=requeue;x=1;y=1"},
		{"user variable named like a function", "max = 3; y = max(max, 4)", Inputs{Now: now},
			[2]int{0, 0}, "requeue", "$NodeDeallocationOption=requeue;max=3;y=4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustEvaluate(t, tt.formula, tt.in)
			if r.Results != tt.wantResults {
				t.Errorf("Results:\n got %s\nwant %s", r.Results, tt.wantResults)
			}
			if got := [2]int{r.TargetDedicatedNodes, r.TargetLowPriorityNodes}; got != tt.want || r.NodeDeallocationOption != tt.wantDealloc {
				t.Errorf("targets = %v %s, want %v %s", got, r.NodeDeallocationOption, tt.want, tt.wantDealloc)
			}
		})
	}
}

func TestEvaluationErrors(t *testing.T) {
	tests := []struct {
		name       string
		formula    string
		in         Inputs
		wantDetail string
	}{
		{"string target", `$TargetDedicatedNodes = "abc"`, Inputs{Now: now}, `Line 1, Col 25: $TargetDedicatedNodes must be a double, got string abc`},
		{"vector target", "$TargetLowPriority = $PendingTasks.GetSample(1)", Inputs{Now: now}, "Line 1, Col 22: $TargetLowPriority must be a double, got doubleVec []"},
		{"infinite target", "$TargetDedicatedNodes = 1/0", Inputs{Now: now}, "Line 1, Col 25: $TargetDedicatedNodes must be a finite number, got Infinity"},
		{"NaN target", "$TargetDedicatedNodes = 0;\n$TargetDedicatedNodes = 0/0", Inputs{Now: now}, "Line 2, Col 25: $TargetDedicatedNodes must be a finite number, got NaN"},
		{"bad deallocation option", "$NodeDeallocationOption = 5", Inputs{Now: now}, "Line 1, Col 27: $NodeDeallocationOption must be requeue, terminate, taskcompletion or retaineddata, got double 5"},
		{"bad deallocation string", `$NodeDeallocationOption = "later"`, Inputs{Now: now}, "got string later"},
		{"missing evaluation time", "x = 1", Inputs{}, "no evaluation time was given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustParse(t, tt.formula).Evaluate(tt.in)
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("Evaluate error = %v, want *Error", err)
			}
			if ae.Code != CodeEvaluationError || ae.Message != "Autoscale evaluation failed" || !strings.Contains(ae.Detail(), tt.wantDetail) {
				t.Errorf("error = %+v, want code %s and detail containing %q", ae, CodeEvaluationError, tt.wantDetail)
			}
		})
	}
}

// TestFormulaReuse checks that a parsed formula can be evaluated repeatedly
// and concurrently with different inputs.
func TestFormulaReuse(t *testing.T) {
	f := mustParse(t, taskBasedFormula)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := float64(i % 5)
			r, err := f.Evaluate(Inputs{Now: now, TargetDedicatedNodes: 4, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, append(repeat(0, 29), last)...),
			}})
			if err != nil {
				errs <- err
				return
			}
			want := int(last)
			if last == 0 {
				want = 2 // half of the current target
			}
			if r.TargetDedicatedNodes != want {
				errs <- errors.New("wrong target: " + r.Results)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if f.Source() != taskBasedFormula {
		t.Error("Source() does not return the parsed text")
	}
}
