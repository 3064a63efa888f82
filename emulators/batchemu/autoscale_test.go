package batchemu

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func autoscalePool(id, formula, interval string) map[string]any {
	p := pool(id, 0)
	delete(p, "targetDedicatedNodes")
	p["enableAutoScale"] = true
	p["autoScaleFormula"] = formula
	p["autoScaleEvaluationInterval"] = interval
	return p
}

func TestAutoScaleGrowsAndShrinks(t *testing.T) {
	tests := []struct {
		name             string
		formula          string
		slots            int
		wantDed, wantLow float64
		wantResults      []string
	}{
		{
			name:        "pending tasks, one slot",
			formula:     "$TargetDedicatedNodes = min(3, $PendingTasks.GetSample(1));\n$NodeDeallocationOption = taskcompletion;",
			slots:       1,
			wantDed:     3,
			wantResults: []string{"$TargetDedicatedNodes=0", "$NodeDeallocationOption=taskcompletion"},
		},
		{
			// The shape of the pipeline's formula (internal/plan): slot-aware, dedicated first, then spot.
			name: "pipeline formula, two slots",
			formula: `$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);
$pending = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));
$need = ($pending + 2 - 1) / 2;
$dedicated = min(2, max(0, $need));
$spot = min(3, max(0, $need - $dedicated));
$TargetDedicatedNodes = $dedicated;
$TargetLowPriorityNodes = $spot;
$NodeDeallocationOption = taskcompletion;`,
			slots:       2,
			wantDed:     2,
			wantLow:     1,
			wantResults: []string{"$TargetDedicatedNodes=0", "$TargetLowPriorityNodes=0", "$NodeDeallocationOption=taskcompletion"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startServer(t, &Options{AutoScaleMinInterval: 50 * time.Millisecond, SampleInterval: 10 * time.Millisecond, Concurrency: 6})
			p := autoscalePool("asp", tc.formula, "PT0.05S")
			p["taskSlotsPerNode"] = tc.slots
			env.must(http.StatusCreated, "POST", "/pools", p)
			pl := env.must(200, "GET", "/pools/asp", nil).json(t)
			if lookupPath(pl, "autoScaleRun/results") == nil || pl["currentDedicatedNodes"] != 0.0 {
				t.Fatalf("pool after creation: autoScaleRun %v current %v", pl["autoScaleRun"], pl["currentDedicatedNodes"])
			}
			env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "asp"}})
			var tasks []any
			for i := 0; i < 6; i++ {
				tasks = append(tasks, map[string]any{"id": fmt.Sprintf("t%d", i), "commandLine": "sleep 0.3"})
			}
			env.must(200, "POST", "/jobs/j/addtaskcollection", map[string]any{"value": tasks})
			maxDed, maxLow := 0.0, 0.0
			env.waitFor("all tasks completed", 60*time.Second, func() bool {
				p := env.must(200, "GET", "/pools/asp", nil).json(t)
				maxDed = max(maxDed, p["currentDedicatedNodes"].(float64))
				maxLow = max(maxLow, p["currentLowPriorityNodes"].(float64))
				c := env.must(200, "GET", "/jobs/j/taskcounts", nil).json(t)
				return lookupPath(c, "taskCounts/succeeded") == 6.0
			})
			if maxDed != tc.wantDed || maxLow != tc.wantLow {
				t.Errorf("pool grew to %v dedicated + %v low-priority nodes, want %v + %v", maxDed, maxLow, tc.wantDed, tc.wantLow)
			}
			env.waitFor("pool shrank to 0", 60*time.Second, func() bool {
				p := env.must(200, "GET", "/pools/asp", nil).json(t)
				return p["currentDedicatedNodes"] == 0.0 && p["currentLowPriorityNodes"] == 0.0 && p["allocationState"] == "steady"
			})
			run := env.must(200, "GET", "/pools/asp", nil).json(t)["autoScaleRun"].(map[string]any)
			for _, want := range tc.wantResults {
				if r, _ := run["results"].(string); !strings.Contains(r, want) {
					t.Errorf("autoScaleRun results %q lack %q", r, want)
				}
			}
		})
	}
}

func TestAutoScaleOperations(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	env := startServer(t, &Options{Now: clock.Now, AutoScaleMinInterval: time.Minute})
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
	if r := env.call("POST", "/pools/p/evaluateautoscale", map[string]any{"autoScaleFormula": "$TargetDedicatedNodes=1;"}); r.status != 409 {
		t.Errorf("evaluate without autoscale: %d %s", r.status, r.body)
	}
	if r := env.call("POST", "/pools/p/enableautoscale", map[string]any{}); r.status != 400 || r.code() != wireerr.CodeMissingRequiredProperty {
		t.Errorf("enable without formula: %d %s", r.status, r.body)
	}
	env.must(http.StatusOK, "POST", "/pools/p/enableautoscale", map[string]any{"autoScaleFormula": "$TargetDedicated=2;", "autoScaleEvaluationInterval": "PT1M"})
	p := env.must(200, "GET", "/pools/p", nil).json(t)
	if p["enableAutoScale"] != true || p["autoScaleEvaluationInterval"] != "PT1M" || lookupPath(p, "autoScaleRun/results") == nil {
		t.Errorf("pool after enable: %v", p)
	}
	if p["targetDedicatedNodes"] != 2.0 {
		t.Errorf("targetDedicatedNodes %v, want 2 from the formula", p["targetDedicatedNodes"])
	}
	if r := env.call("POST", "/pools/p/enableautoscale", map[string]any{"autoScaleFormula": "$TargetDedicated=1;"}); r.status != 503 || r.code() != wireerr.CodeTooManyEnableAutoScaleRequests {
		t.Errorf("second enable within the rate limit: %d %s", r.status, r.body)
	}
	ev := env.must(200, "POST", "/pools/p/evaluateautoscale", map[string]any{"autoScaleFormula": "$TargetDedicated=1;"}).json(t)
	if ev["results"] != "$TargetDedicated=1;$NodeDeallocationOption=requeue" || ev["timestamp"] != "2026-11-27T12:00:00.0000000Z" {
		t.Errorf("evaluate = %v", ev)
	}
	if r := env.call("POST", "/pools/p/evaluateautoscale", map[string]any{"autoScaleFormula": "$TargetDedicated=;"}); r.status != 400 || r.code() != wireerr.CodeAutoScalingFormulaSyntaxError {
		t.Errorf("evaluate syntax error: %d %s", r.status, r.body)
	}
	if r := env.call("POST", "/pools/p/evaluateautoscale", map[string]any{"autoScaleFormula": "$TargetDedicated=1;" + strings.Repeat(" ", 9000)}); r.status != 400 || r.code() != "AutoScalingFormulaTooLong" {
		t.Errorf("evaluate too long: %d %s", r.status, r.body)
	}
	ev = env.must(200, "POST", "/pools/p/evaluateautoscale", map[string]any{"autoScaleFormula": "$TargetDedicatedNodes = avg($PendingTasks.GetSample(10 * TimeInterval_Minute, 95));"}).json(t)
	if lookupPath(ev, "error/code") != "InsufficientSampleData" || ev["results"] != nil {
		t.Errorf("evaluate with too few samples = %v, want a 200 AutoScaleRun with error InsufficientSampleData", ev)
	}
	if r := env.call("POST", "/pools/p/enableautoscale", map[string]any{"autoScaleFormula": "$TargetDedicated=1;", "autoScaleEvaluationInterval": "PT10S"}); r.status != 400 || r.code() != wireerr.CodeInvalidPropertyValue {
		t.Errorf("interval below minimum: %d %s", r.status, r.body)
	}
	clock.Advance(2 * time.Minute)
	env.must(http.StatusOK, "POST", "/pools/p/disableautoscale", nil)
	if p := env.must(200, "GET", "/pools/p", nil).json(t); p["enableAutoScale"] != false {
		t.Errorf("after disable: %v", p["enableAutoScale"])
	}
}
