package autoscale_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/autoscale"
)

func ExampleFormula_Evaluate() {
	f, err := autoscale.Parse(`
		// Scale to the queue, at most 10 nodes; halve the pool when idle.
		pending = max(0, $PendingTasks.GetSample(1));
		$TargetDedicatedNodes = pending > 0 ? min(pending, 10) : $TargetDedicatedNodes / 2;
		$NodeDeallocationOption = taskcompletion;`)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	r, err := f.Evaluate(autoscale.Inputs{
		Now:                  now,
		TargetDedicatedNodes: 2,
		Samples: map[string][]autoscale.Sample{
			autoscale.VarPendingTasks: {{Time: now.Add(-30 * time.Second), Value: 14}, {Time: now, Value: 7}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.TargetDedicatedNodes, r.NodeDeallocationOption)
	fmt.Println(r.Results)
	// Output:
	// 7 taskcompletion
	// $TargetDedicatedNodes=7;$NodeDeallocationOption=taskcompletion;pending=7
}

func ExampleParse_syntaxError() {
	_, err := autoscale.Parse("$TargetDedicatedNodes = min(10, $PendingTask.GetSample(1));")
	var ae *autoscale.Error
	if errors.As(err, &ae) {
		fmt.Println(ae.Code)
		fmt.Println(ae.Detail())
	}
	// Output:
	// AutoScalingFormulaSyntaxError
	// Line 1, Col 33: unknown variable '$PendingTask': it is not a service-defined variable and no earlier statement assigns it
}
