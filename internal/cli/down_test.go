package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

func TestReportDown(t *testing.T) {
	owner := localstack.ProcessRef{Name: "ffbatch", PID: 10}
	sb := localstack.ProcessRef{Name: "sbemu", PID: 11}
	tests := []struct {
		name    string
		rep     localstack.DownReport
		want    []string
		notWant []string
	}{
		{"nothing", localstack.DownReport{}, []string{"No stack was running in /s."}, nil},
		{"owner stopped", localstack.DownReport{Owner: &owner, RemovedRecord: true},
			[]string{"The stack run by ffbatch (pid 10) was stopped."}, []string{"stale", "No stack"}},
		{"owner killed", localstack.DownReport{Owner: &owner, OwnerKilled: true}, []string{"was killed (it did not stop in time)"}, nil},
		{"leftovers", localstack.DownReport{Stopped: []localstack.ProcessRef{sb}, Killed: []localstack.ProcessRef{sb}, RemovedRecord: true},
			[]string{"Stopped processes left behind: sbemu (pid 11).", "Killed after SIGTERM was not enough: sbemu (pid 11).", "Removed the stale /s/stack.json."}, []string{"No stack"}},
		{"stale record only", localstack.DownReport{RemovedRecord: true}, []string{"Removed the stale /s/stack.json."}, []string{"No stack"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			reportDown(&b, "/s", &tt.rep)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(b.String(), w) {
					t.Errorf("report has %q:\n%s", w, b.String())
				}
			}
		})
	}
}
