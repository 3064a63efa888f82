package taskrun

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// TestSpecEnvironment checks the environment every kind of task gets from
// the one path: node variables, task variables, the preparation task's
// directory, and job settings overridden by task settings.
func TestSpecEnvironment(t *testing.T) {
	acct := Account{Name: "acct", URL: "http://emu", BaseEnv: []string{"PATH=/bin"}}
	p := &store.Pool{Pool: wire.CloudPool{ID: "p1"}}
	n := &store.Node{Dir: "/nodes/n1", Node: wire.ComputeNode{ID: "n1"}}
	j := &store.Job{Job: wire.CloudJob{ID: "j1",
		CommonEnvironmentSettings: []wire.EnvSetting{{Name: "A", Value: "job"}, {Name: "B", Value: "job"}},
		JobPreparationTask:        &wire.JobPreparationTask{ID: "prep"}}}
	cmd := wire.TaskCommand{CommandLine: "run", EnvironmentSettings: []wire.EnvSetting{{Name: "B", Value: "task"}}}
	taskDir := filepath.Join("/nodes/n1", "workitems", "j1", "job-1", "t1")
	prepDir := filepath.Join("/nodes/n1", "workitems", "j1", "job-1", "prep")
	tests := []struct {
		name    string
		run     Run
		want    map[string]string
		missing []string
	}{
		{"job task", ForJobTask(j, n, "t1", cmd), map[string]string{
			"PATH": "/bin", "AZ_BATCH_ACCOUNT_NAME": "acct", "AZ_BATCH_ACCOUNT_URL": "http://emu", "AZ_BATCH_POOL_ID": "p1",
			"AZ_BATCH_NODE_ID": "n1", "AZ_BATCH_JOB_ID": "j1", "AZ_BATCH_TASK_ID": "t1", "AZ_BATCH_TASK_DIR": taskDir,
			"AZ_BATCH_TASK_WORKING_DIR": filepath.Join(taskDir, "wd"), "AZ_BATCH_JOB_PREP_DIR": prepDir, "A": "job", "B": "task",
		}, nil},
		{"start task", ForStartTask(n, &wire.StartTask{TaskCommand: cmd}), map[string]string{
			"AZ_BATCH_NODE_ID": "n1", "AZ_BATCH_TASK_DIR": "/nodes/n1/startup", "B": "task",
		}, []string{"AZ_BATCH_JOB_ID", "AZ_BATCH_TASK_ID", "AZ_BATCH_JOB_PREP_DIR", "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.run.Spec(acct, p, n)
			got := envMap(spec.Env)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tt.missing {
				if _, ok := got[k]; ok {
					t.Errorf("%s is set (%q), want it absent", k, got[k])
				}
			}
			names := make([]string, 0, len(spec.Env))
			for _, kv := range spec.Env {
				k, _, _ := strings.Cut(kv, "=")
				names = append(names, k)
			}
			slices.Sort(names)
			if len(slices.Compact(names)) != len(spec.Env) {
				t.Errorf("environment has a variable twice: %v", spec.Env)
			}
			if spec.CommandLine != "run" {
				t.Errorf("command line = %q, want run", spec.CommandLine)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	exit := func(code int) executor.Result {
		return executor.Result{ExitCode: &code, Failure: &executor.FailureInfo{Code: executor.CodeFailureExitCode}}
	}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		res     executor.Result
		max     int
		retries int
		want    bool
	}{
		{"exit code, retries left", exit(1), 2, 1, true},
		{"exit code, retries used up", exit(1), 2, 2, false},
		{"exit code, unlimited", exit(1), -1, 100, true},
		{"no retries", exit(1), 0, 0, false},
		{"not an exit code failure", executor.Result{Failure: &executor.FailureInfo{Code: "ResourceFileDownloadError"}}, 3, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := wire.AttemptOutcome{RetryCount: tt.retries}
			if got := Retry(&o, tt.res, tt.max, now); got != tt.want {
				t.Fatalf("Retry = %v, want %v", got, tt.want)
			}
			if tt.want && (o.RetryCount != tt.retries+1 || o.LastRetryTime == nil || o.ExitCode == nil) {
				t.Errorf("after a retry: %+v", o)
			}
			if !tt.want && o.RetryCount != tt.retries {
				t.Errorf("retry count changed without a retry: %+v", o)
			}
		})
	}
}
