package batchtest

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// queueDepthFormula is the documented queue-depth formula (Microsoft's
// autoscale article), as the pipeline uses it.
const queueDepthFormula = `startingNumberOfVMs = 1;
maxNumberofVMs = 25;
pendingTaskSamplePercent = $PendingTasks.GetSamplePercent(180 * TimeInterval_Second);
pendingTaskSamples = pendingTaskSamplePercent < 70 ? startingNumberOfVMs : avg($PendingTasks.GetSample(180 * TimeInterval_Second));
$TargetDedicatedNodes=min(maxNumberofVMs, pendingTaskSamples);
$NodeDeallocationOption = taskcompletion;`

func (s *suite) testAutoscale(t *testing.T) {
	ctx := s.ctx(t)
	id := s.pool(t, "autoscale", 0, nil)
	s.waitSteady(t, id)

	err := s.c.EnableAutoScale(ctx, id, batch.PoolEnableAutoScaleParameter{
		AutoScaleFormula:            "$TargetDedicatedNodes = 0; $NodeDeallocationOption = taskcompletion;",
		AutoScaleEvaluationInterval: to.Ptr(batch.Duration(5 * time.Minute)),
	})
	if err != nil {
		t.Fatalf("enable autoscale: %v", err)
	}
	p, err := s.c.GetPool(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.EnableAutoScale || !strings.Contains(p.AutoScaleFormula, "$TargetDedicatedNodes = 0") ||
		p.AutoScaleEvaluationInterval == nil || *p.AutoScaleEvaluationInterval != batch.Duration(5*time.Minute) {
		t.Errorf("after enable: enableAutoScale=%v formula=%q interval=%v", p.EnableAutoScale, p.AutoScaleFormula, p.AutoScaleEvaluationInterval)
	}
	s.eventually(t, "first autoscale run recorded", func() (bool, string) {
		p, err := s.c.GetPool(ctx, id, nil)
		if err != nil {
			return false, err.Error()
		}
		if p.AutoScaleRun == nil {
			return false, "no autoScaleRun"
		}
		return strings.Contains(p.AutoScaleRun.Results, "$TargetDedicatedNodes=0") && !p.AutoScaleRun.Timestamp.IsZero(),
			"results=" + p.AutoScaleRun.Results
	})

	evalTests := []struct {
		name    string
		formula string
		want    []string
	}{
		{"arithmetic", "$TargetDedicatedNodes = min(3, 1 + 1); $NodeDeallocationOption = taskcompletion;",
			[]string{"$TargetDedicatedNodes=2", "$NodeDeallocationOption=taskcompletion"}},
		{"queue depth without samples", queueDepthFormula,
			[]string{"$TargetDedicatedNodes=1", "$NodeDeallocationOption=taskcompletion", "maxNumberofVMs=25", "startingNumberOfVMs=1"}},
		{"default deallocation option", "$TargetDedicatedNodes = 4;",
			[]string{"$TargetDedicatedNodes=4", "$NodeDeallocationOption=requeue"}},
	}
	for _, tt := range evalTests {
		t.Run("evaluate "+tt.name, func(t *testing.T) {
			run, err := s.c.EvaluateAutoScale(ctx, id, tt.formula)
			if err != nil {
				t.Fatal(err)
			}
			if run.Error != nil {
				t.Fatalf("evaluation error %+v", run.Error)
			}
			for _, w := range tt.want {
				if !containsItem(run.Results, w) {
					t.Errorf("results %q lack %q", run.Results, w)
				}
			}
			if !strings.HasPrefix(run.Results, "$TargetDedicatedNodes=") {
				t.Errorf("results %q do not start with the system variables", run.Results)
			}
			if run.Timestamp.IsZero() {
				t.Error("evaluation has no timestamp")
			}
		})
	}

	t.Run("evaluate syntax error", func(t *testing.T) {
		// Whether the service answers 400 or 200 with autoScaleRun.error is
		// not documented; either is accepted, success without an error is not.
		run, err := s.c.EvaluateAutoScale(ctx, id, "$TargetDedicatedNodes = ;")
		var re *azcore.ResponseError
		switch {
		case err == nil && (run.Error == nil || run.Error.Code == ""):
			t.Errorf("syntax error evaluated to %+v, want an error", run)
		case err != nil && (!errors.As(err, &re) || re.StatusCode != http.StatusBadRequest):
			t.Errorf("syntax error: %v, want HTTP 400", err)
		}
	})

	t.Run("disable", func(t *testing.T) {
		if err := s.c.DisableAutoScale(ctx, id); err != nil {
			t.Fatal(err)
		}
		p, err := s.c.GetPool(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.EnableAutoScale {
			t.Error("enableAutoScale still true after disable")
		}
		err = s.c.DisableAutoScale(ctx, s.id("nosuchpool"))
		wantError(t, "disable autoscale on a missing pool", err, http.StatusNotFound, batch.CodePoolNotFound)
		_, err = s.c.EvaluateAutoScale(ctx, s.id("nosuchpool"), "$TargetDedicatedNodes=1;")
		wantError(t, "evaluate on a missing pool", err, http.StatusNotFound, batch.CodePoolNotFound)
	})
}

// containsItem reports whether the ";"-separated results hold item.
func containsItem(results, item string) bool {
	for _, part := range strings.Split(results, ";") {
		if strings.TrimSpace(part) == item {
			return true
		}
	}
	return false
}
