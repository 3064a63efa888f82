package e2e

import (
	"testing"

	"github.com/ffbatch/ffbatch/internal/results"
)

// TestCompletionIsEventDriven: a finished task is settled by TaskFinished
// when Batch uploads its logs, with SweepPools switched off; with
// TaskFinished switched off instead (a missed event), the sweep settles
// it; and a repeated log event gives no second answer.
func TestCompletionIsEventDriven(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		// redeliver repeats the log event to TaskFinished (not when it is
		// switched off: the host answers 404 for a disabled function).
		redeliver bool
	}{
		{"task logs event, no sweep", map[string]string{"AzureWebJobs.SweepPools.Disabled": "true"}, true},
		{"missed event, the sweep settles", map[string]string{"AzureWebJobs.TaskFinished.Disabled": "true"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startPipeline(t, tc.settings)
			const blob = "done/clip.mp4"
			etag := p.upload(blob, sample(t, "tone2s.mp4"))
			st := p.waitDone(map[string]string{blob: etag})[blob]
			if st.State != results.StateSucceeded {
				t.Fatalf("state %s (failure %+v), want succeeded", st.State, st.Failure)
			}
			ev := p.waitEvents(map[string]int{blob: 1})[blob][0]
			if ev.Status != results.StatusSucceeded {
				t.Fatalf("answer %s, want succeeded", ev.Status)
			}
			if tc.redeliver {
				// Event Grid redelivers the log event (twice, the second
				// one after the task is gone).
				for range 2 {
					p.deliverEvent("TaskFinished", p.ep.OutputContainer, "dup-"+ev.TaskID, "logs/"+ev.TaskID+"/stderr.txt", "0x1", 10)
				}
			}
			p.checkOneAnswerEach()
		})
	}
}
