package autoscale

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse checks that no input makes Parse or Evaluate panic, that every
// failure is an *Error with a code, and that successful evaluations produce
// non-negative targets. The seed corpus in testdata/fuzz/FuzzParse (the
// documented formulas and near misses) runs under plain `go test`.
func FuzzParse(f *testing.F) {
	f.Add(pendingTasksFormula)
	f.Add("$TargetDedicated=1")
	in := Inputs{
		Now: now,
		Samples: map[string][]Sample{
			VarPendingTasks:       series(now, 30*time.Second, repeat(3, 40)...),
			VarCPUPercent:         series(now.Add(-2*time.Minute), 30*time.Second, 10, 90, 50),
			VarPreemptedNodeCount: series(now, 30*time.Second, 0, 1),
		},
		TargetDedicatedNodes: 2,
		TaskSlotsPerNode:     4,
		Rand:                 func() float64 { return 0.5 },
	}
	f.Fuzz(func(t *testing.T, formula string) {
		fm, err := Parse(formula)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Code == "" || ae.Detail() == "" {
				t.Fatalf("Parse(%q) error %v is not a coded *Error with a detail", formula, err)
			}
			return
		}
		r, err := fm.Evaluate(in)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Code == "" {
				t.Fatalf("Evaluate(%q) error %v is not a coded *Error", formula, err)
			}
			return
		}
		if r.TargetDedicatedNodes < 0 || r.TargetLowPriorityNodes < 0 || r.NodeDeallocationOption == "" || r.Results == "" {
			t.Fatalf("Evaluate(%q) = %+v", formula, r)
		}
	})
}
