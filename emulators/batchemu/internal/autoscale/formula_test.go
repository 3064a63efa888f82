package autoscale

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// now is a fixed evaluation time: Thursday 2016-10-13 19:18:47.805 UTC, the
// instant of the documentation's sample AutoScaleRun output.
var now = time.Date(2016, 10, 13, 19, 18, 47, 805_000_000, time.UTC)

// series returns samples ending at end, one per step, oldest first.
func series(end time.Time, step time.Duration, values ...float64) []Sample {
	out := make([]Sample, len(values))
	for i, v := range values {
		out[i] = Sample{Time: end.Add(-time.Duration(len(values)-1-i) * step), Value: v}
	}
	return out
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func mustParse(t *testing.T, formula string) *Formula {
	t.Helper()
	f, err := Parse(formula)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func mustEvaluate(t *testing.T, formula string, in Inputs) *Result {
	t.Helper()
	r, err := mustParse(t, formula).Evaluate(in)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return r
}

const (
	// Documentation: "Pending tasks" sample formula.
	pendingTasksFormula = `startingNumberOfVMs = 1;
maxNumberofVMs = 25;
pendingTaskSamplePercent = $PendingTasks.GetSamplePercent(180 * TimeInterval_Second);
pendingTaskSamples = pendingTaskSamplePercent < 70 ? startingNumberOfVMs : avg($PendingTasks.GetSample(180 * TimeInterval_Second));
$TargetDedicatedNodes=min(maxNumberofVMs, pendingTaskSamples);
$NodeDeallocationOption = taskcompletion;`

	// Documentation: Example 2, task-based adjustment, with its comments.
	taskBasedFormula = `// Get pending tasks for the past 15 minutes.
$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 15);
// If we have fewer than 70 percent data points, we use the last sample point,
// otherwise we use the maximum of last sample point and the history average.
$tasks = $samples < 70 ? max(0,$PendingTasks.GetSample(1)) : max( $PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 15)));
// If number of pending tasks is not 0, set targetVM to pending tasks, otherwise
// half of current dedicated.
$targetVMs = $tasks > 0? $tasks:max(0, $TargetDedicatedNodes/2);
// The pool size is capped at 20, if target VM value is more than that, set it
// to 20. This value should be adjusted according to your use case.
$TargetDedicatedNodes = max(0, min($targetVMs, 20));
// Set node deallocation mode - let running tasks finish before removing a node
$NodeDeallocationOption = taskcompletion;`

	// Documentation: the time-based formula as evaluated in the .NET sample.
	timeBasedFormula = `
        $curTime = time();
        $workHours = $curTime.hour >= 8 && $curTime.hour < 18;
        $isWeekday = $curTime.weekday >= 1 && $curTime.weekday <= 5;
        $isWorkingWeekdayHour = $workHours && $isWeekday;
        $TargetDedicatedNodes = $isWorkingWeekdayHour ? 20:10;
    `

	// Documentation: "Preempted nodes" sample formula.
	preemptionFormula = `maxNumberofVMs = 25;
$TargetDedicatedNodes = min(maxNumberofVMs, $PreemptedNodeCount.GetSample(180 * TimeInterval_Second));
$TargetLowPriorityNodes = min(maxNumberofVMs , maxNumberofVMs - $TargetDedicatedNodes);
$NodeDeallocationOption = taskcompletion;`

	// Documentation: Example 3, accounting for parallel tasks.
	parallelTasksFormula = `$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0,$ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1),avg($ActiveTasks.GetSample(TimeInterval_Minute * 15)));
$cores = $TargetDedicatedNodes * 4;
$extraVMs = (($tasks - $cores) + 3) / 4;
$targetVMs = ($TargetDedicatedNodes + $extraVMs);
$TargetDedicatedNodes = max(0,min($targetVMs,3));
$NodeDeallocationOption = taskcompletion;`

	// Documentation: Example 4, initial pool size, with the C# placeholders
	// filled in (start time 2016-10-13 17:00 UTC, initial size 4).
	initialSizeFormula = `
    $TargetDedicatedNodes = 4;
    lifespan         = time() - time("Thu, 13 Oct 2016 17:00:00 GMT");
    span             = TimeInterval_Minute * 60;
    startup          = TimeInterval_Minute * 10;
    ratio            = 50;

    $TargetDedicatedNodes = (lifespan > startup ? (max($RunningTasks.GetSample(span, ratio), $ActiveTasks.GetSample(span, ratio)) == 0 ? 0 : $TargetDedicatedNodes) : 4);
    `

	// Test-AzBatchAutoScale example.
	powershellFormula = `totalNodes=($CPUPercent.GetSamplePercent(TimeInterval_Minute*0,TimeInterval_Minute*10)<0.7?5:(min($CPUPercent.GetSample(TimeInterval_Minute*0, TimeInterval_Minute*10))>0.8?($CurrentDedicated*1.1):$CurrentDedicated));$TargetDedicated=min(100,totalNodes);`
)

func TestDocumentedFormulas(t *testing.T) {
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		formula       string
		in            Inputs
		wantDedicated int
		wantLowPri    int
		wantDealloc   string
		wantResults   string
	}{
		{
			name:          "pending tasks, no samples yet",
			formula:       pendingTasksFormula,
			in:            Inputs{Now: now},
			wantDedicated: 1, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=1;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25;pendingTaskSamplePercent=0;pendingTaskSamples=1;startingNumberOfVMs=1",
		},
		{
			name:    "pending tasks, full window averaged and capped",
			formula: pendingTasksFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, 10, 20, 30, 40, 50, 60),
			}},
			wantDedicated: 25, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=25;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25;pendingTaskSamplePercent=100;pendingTaskSamples=35;startingNumberOfVMs=1",
		},
		{
			name:    "pending tasks, 5 of 6 samples is enough",
			formula: pendingTasksFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, 2, 3, 4, 5, 6),
			}},
			wantDedicated: 4, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=4;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25;pendingTaskSamplePercent=83.33333333333333;pendingTaskSamples=4;startingNumberOfVMs=1",
		},
		{
			name:    "pending tasks, 4 of 6 samples falls back to the starting size",
			formula: pendingTasksFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, 9, 9, 9, 9),
			}},
			wantDedicated: 1, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=1;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25;pendingTaskSamplePercent=66.66666666666667;pendingTaskSamples=1;startingNumberOfVMs=1",
		},
		{
			name:    "pending tasks, samples older than the window are ignored",
			formula: pendingTasksFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPendingTasks: series(now.Add(-10*time.Minute), 30*time.Second, 9, 9, 9, 9, 9, 9),
			}},
			wantDedicated: 1, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=1;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25;pendingTaskSamplePercent=0;pendingTaskSamples=1;startingNumberOfVMs=1",
		},
		{
			name:    "task-based, busy queue",
			formula: taskBasedFormula,
			in: Inputs{Now: now, TargetDedicatedNodes: 2, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, append(repeat(8, 29), 12)...),
			}},
			wantDedicated: 12, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=12;$NodeDeallocationOption=taskcompletion;$samples=100;$targetVMs=12;$tasks=12",
		},
		{
			name:    "task-based, average above the last sample",
			formula: taskBasedFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, append(repeat(9, 29), 1)...),
			}},
			wantDedicated: 8, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=8.733333333333333;$NodeDeallocationOption=taskcompletion;$samples=100;$targetVMs=8.733333333333333;$tasks=8.733333333333333",
		},
		{
			name:          "task-based, empty queue halves the pool",
			formula:       taskBasedFormula,
			in:            Inputs{Now: now, TargetDedicatedNodes: 5, CurrentDedicatedNodes: 5},
			wantDedicated: 2, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=2.5;$NodeDeallocationOption=taskcompletion;$samples=0;$targetVMs=2.5;$tasks=0",
		},
		{
			name:    "task-based, sparse samples use the last one and the cap",
			formula: taskBasedFormula,
			in: Inputs{Now: now, TargetDedicatedNodes: 3, Samples: map[string][]Sample{
				VarPendingTasks: series(now, 30*time.Second, 40, 50),
			}},
			wantDedicated: 20, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=20;$NodeDeallocationOption=taskcompletion;$samples=6.666666666666667;$targetVMs=50;$tasks=50",
		},
		{
			name:          "time-based, documented output at 2016-10-13T19:18:47.805Z",
			formula:       timeBasedFormula,
			in:            Inputs{Now: now},
			wantDedicated: 10, wantDealloc: "requeue",
			wantResults: "$TargetDedicatedNodes=10;$NodeDeallocationOption=requeue;$curTime=2016-10-13T19:18:47.805Z;$isWeekday=1;$isWorkingWeekdayHour=0;$workHours=0",
		},
		{
			name:          "time-based with the alias during working hours",
			formula:       strings.ReplaceAll(timeBasedFormula, "$TargetDedicatedNodes", "$TargetDedicated") + "$NodeDeallocationOption = taskcompletion;",
			in:            Inputs{Now: monday10},
			wantDedicated: 20, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicated=20;$NodeDeallocationOption=taskcompletion;$curTime=2026-11-23T10:00:00.000Z;$isWeekday=1;$isWorkingWeekdayHour=1;$workHours=1",
		},
		{
			name:          "time-based on a Sunday",
			formula:       timeBasedFormula,
			in:            Inputs{Now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)},
			wantDedicated: 10, wantDealloc: "requeue",
			wantResults: "$TargetDedicatedNodes=10;$NodeDeallocationOption=requeue;$curTime=2026-11-29T12:00:00.000Z;$isWeekday=0;$isWorkingWeekdayHour=0;$workHours=1",
		},
		{
			name:    "preemption replaces preempted low-priority nodes",
			formula: preemptionFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPreemptedNodeCount: series(now, 30*time.Second, 3, 3, 3, 3, 3, 3),
			}},
			wantDedicated: 3, wantLowPri: 22, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=22;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25",
		},
		{
			name:    "preemption takes the minimum of the window",
			formula: preemptionFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarPreemptedNodeCount: series(now, 30*time.Second, 0, 1, 2, 3),
			}},
			wantDedicated: 0, wantLowPri: 25, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=0;$TargetLowPriorityNodes=25;$NodeDeallocationOption=taskcompletion;maxNumberofVMs=25",
		},
		{
			name:    "parallel tasks, four slots per node",
			formula: parallelTasksFormula,
			in: Inputs{Now: now, TargetDedicatedNodes: 1, Samples: map[string][]Sample{
				VarActiveTasks: series(now, 30*time.Second, repeat(10, 30)...),
			}},
			wantDedicated: 3, wantDealloc: "taskcompletion",
			wantResults: "$TargetDedicatedNodes=3;$NodeDeallocationOption=taskcompletion;$cores=4;$extraVMs=2.25;$samples=100;$targetVMs=3.25;$tasks=10",
		},
		{
			name:          "initial size holds during start-up",
			formula:       initialSizeFormula,
			in:            Inputs{Now: time.Date(2016, 10, 13, 17, 5, 0, 0, time.UTC)},
			wantDedicated: 4, wantDealloc: "requeue",
			wantResults: "$TargetDedicatedNodes=4;$NodeDeallocationOption=requeue;lifespan=00:05:00;ratio=50;span=01:00:00;startup=00:10:00",
		},
		{
			name:    "initial size drops to zero after an idle hour",
			formula: initialSizeFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarRunningTasks: series(now, 30*time.Second, repeat(0, 120)...),
				VarActiveTasks:  series(now, 30*time.Second, repeat(0, 120)...),
			}},
			wantDedicated: 0, wantDealloc: "requeue",
			wantResults: "$TargetDedicatedNodes=0;$NodeDeallocationOption=requeue;lifespan=02:18:47.8050000;ratio=50;span=01:00:00;startup=00:10:00",
		},
		{
			name:    "initial size keeps the pool while tasks run",
			formula: initialSizeFormula,
			in: Inputs{Now: now, Samples: map[string][]Sample{
				VarRunningTasks: series(now, 30*time.Second, repeat(1, 120)...),
				VarActiveTasks:  series(now, 30*time.Second, repeat(0, 120)...),
			}},
			wantDedicated: 4, wantDealloc: "requeue",
			wantResults: "$TargetDedicatedNodes=4;$NodeDeallocationOption=requeue;lifespan=02:18:47.8050000;ratio=50;span=01:00:00;startup=00:10:00",
		},
		{
			name:          "Test-AzBatchAutoScale documented output",
			formula:       powershellFormula,
			in:            Inputs{Now: now},
			wantDedicated: 5, wantDealloc: "requeue",
			wantResults: "$TargetDedicated=5;$NodeDeallocationOption=requeue;totalNodes=5",
		},
		{
			name:          "REST example evaluate response",
			formula:       "$TargetDedicated=1",
			in:            Inputs{Now: now},
			wantDedicated: 1, wantDealloc: "requeue",
			wantResults: "$TargetDedicated=1;$NodeDeallocationOption=requeue",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustEvaluate(t, tt.formula, tt.in)
			if r.Results != tt.wantResults {
				t.Errorf("Results:\n got %s\nwant %s", r.Results, tt.wantResults)
			}
			if r.TargetDedicatedNodes != tt.wantDedicated || r.TargetLowPriorityNodes != tt.wantLowPri || r.NodeDeallocationOption != tt.wantDealloc {
				t.Errorf("targets = (%d, %d, %s), want (%d, %d, %s)", r.TargetDedicatedNodes, r.TargetLowPriorityNodes, r.NodeDeallocationOption,
					tt.wantDedicated, tt.wantLowPri, tt.wantDealloc)
			}
		})
	}
}

func TestInsufficientSampleData(t *testing.T) {
	tests := []struct {
		name       string
		formula    string
		samples    []Sample
		wantDetail string
	}{
		{
			name:       "no samples at all",
			formula:    "$TargetDedicated = avg($CPUPercent.GetSample(TimeInterval_Minute * 10, 10));",
			wantDetail: "Line 1, Col 45: Insufficient data from data set: $CPUPercent wanted 10%, received 0%",
		},
		{
			name:       "documented 18 of 20 samples against 95 percent",
			formula:    "x = 1;\n$TargetDedicated = avg($CPUPercent.GetSample(TimeInterval_Minute * 10, 95));",
			samples:    series(now.Add(-time.Minute), 30*time.Second, repeat(50, 18)...),
			wantDetail: "Line 2, Col 45: Insufficient data from data set: $CPUPercent wanted 95%, received 90%",
		},
		{
			name:       "start and end window",
			formula:    "$TargetDedicatedNodes = max($CPUPercent.GetSample(60 * TimeInterval_Second, 120 * TimeInterval_Second, 75.5));",
			samples:    series(now.Add(-time.Minute), 30*time.Second, 1),
			wantDetail: "Line 1, Col 50: Insufficient data from data set: $CPUPercent wanted 75.5%, received 50%",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.formula)
			_, err := f.Evaluate(Inputs{Now: now, Samples: map[string][]Sample{VarCPUPercent: tt.samples}})
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("Evaluate error = %v, want *Error", err)
			}
			if ae.Code != CodeInsufficientSampleData || ae.Message != "Autoscale evaluation failed due to insufficient sample data" {
				t.Errorf("code/message = %q / %q", ae.Code, ae.Message)
			}
			if len(ae.Values) != 1 || ae.Values[0].Name != "Message" || ae.Values[0].Value != tt.wantDetail {
				t.Errorf("values = %+v, want Message %q", ae.Values, tt.wantDetail)
			}
		})
	}
	// The same formula succeeds once 80 percent is enough (documentation).
	f := mustParse(t, "$TargetDedicatedNodes = len($CPUPercent.GetSample(TimeInterval_Minute * 10, 80));")
	r, err := f.Evaluate(Inputs{Now: now, Samples: map[string][]Sample{VarCPUPercent: series(now.Add(-time.Minute), 30*time.Second, repeat(50, 18)...)}})
	if err != nil || r.TargetDedicatedNodes != 18 {
		t.Fatalf("80 percent: got %+v, %v; want 18 samples", r, err)
	}
}

func TestSampleDelayAndInterval(t *testing.T) {
	samples := map[string][]Sample{VarPendingTasks: series(now, 30*time.Second, repeat(1, 20)...)}
	tests := []struct {
		name     string
		in       Inputs
		wantPct  string
		wantN    string
		wantBase string
	}{
		{"all visible", Inputs{Now: now, Samples: samples}, "p=100", "n=20", "period=00:00:30"},
		{"one minute delay hides two samples", Inputs{Now: now, Samples: samples, SampleDelay: time.Minute}, "p=90", "n=18", "period=00:00:30"},
		{"one minute sample interval", Inputs{Now: now, Samples: samples, SampleInterval: time.Minute}, "p=100", "n=20", "period=00:01:00"},
		{"samples after now are invisible", Inputs{Now: now.Add(-5 * time.Minute), Samples: samples}, "p=50", "n=10", "period=00:00:30"},
		{"negative delay counts as zero", Inputs{Now: now.Add(-5 * time.Minute), Samples: samples, SampleDelay: -time.Hour}, "p=50", "n=10", "period=00:00:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustEvaluate(t, "p = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 10); n = $PendingTasks.Count(); period = $PendingTasks.GetSamplePeriod()", tt.in)
			for _, want := range []string{tt.wantPct, tt.wantN, tt.wantBase} {
				if !strings.Contains(r.Results+";", want+";") {
					t.Errorf("Results %q lacks %q", r.Results, want)
				}
			}
		})
	}
}
