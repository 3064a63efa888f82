package batchtest

import (
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// testExecution runs real tasks on a one-node pool: success, failure with
// retries, a wall-clock kill, the task environment, and a job that ends
// itself when all its tasks are complete.
func (s *suite) testExecution(t *testing.T) {
	ctx := s.ctx(t)
	poolID := s.pool(t, "exec", 1, func(p *batch.PoolAddParameter) {
		p.StartTask = &batch.StartTask{
			CommandLine:    `/bin/sh -c "echo node ready"`,
			UserIdentity:   &batch.UserIdentity{AutoUser: &batch.AutoUserSpecification{Scope: batch.AutoUserScopePool, ElevationLevel: batch.ElevationLevelAdmin}},
			WaitForSuccess: to.Ptr(true),
		}
		p.TaskSlotsPerNode = 4
	})
	s.waitNodes(t, poolID, 1)
	jobID := s.job(t, "exec", poolID, nil)
	tasks := []batch.TaskAddParameter{
		{ID: "ok", CommandLine: `/bin/sh -c "echo hello"`},
		{ID: "fail", CommandLine: `/bin/sh -c "exit 3"`, Constraints: &batch.TaskConstraints{MaxTaskRetryCount: to.Ptr[int32](2)}},
		{ID: "slow", CommandLine: `/bin/sh -c "sleep 60"`, Constraints: &batch.TaskConstraints{MaxWallClockTime: to.Ptr(batch.Duration(2 * time.Second))}},
		{ID: "env", CommandLine: `/bin/sh -c "test \"$GREETING\" = hello && test \"$AZ_BATCH_TASK_ID\" = env && test \"$AZ_BATCH_JOB_ID\" = ` + jobID + `"`,
			EnvironmentSettings: []batch.EnvironmentSetting{{Name: "GREETING", Value: "hello"}}},
	}
	res, err := s.c.AddTasks(ctx, jobID, tasks, nil)
	if err != nil || len(res.Added) != len(tasks) {
		t.Fatalf("AddTasks: %+v, %v", res, err)
	}
	s.eventually(t, "all tasks complete", func() (bool, string) {
		done, _ := listTasks(t, s.c, jobID, &batch.ListOptions{Filter: "state eq 'completed'", Select: "id,state"})
		return len(done) == len(tasks), "completed: " + join(taskIDs(done))
	})
	get := func(id string) *batch.Task {
		t.Helper()
		task, err := s.c.GetTask(ctx, jobID, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if task.ExecutionInfo == nil {
			t.Fatalf("task %s completed without executionInfo", id)
		}
		return task
	}

	t.Run("success", func(t *testing.T) {
		task := get("ok")
		ei := task.ExecutionInfo
		if ei.Result != batch.TaskExecutionResultSuccess || ei.ExitCode == nil || *ei.ExitCode != 0 || ei.FailureInfo != nil || ei.RetryCount != 0 {
			t.Errorf("ok: %s, want success with exit code 0", describeTask(task))
		}
		if ei.StartTime.IsZero() || ei.EndTime.Before(ei.StartTime) {
			t.Errorf("ok: startTime=%v endTime=%v", ei.StartTime, ei.EndTime)
		}
		if ni := task.NodeInfo; ni == nil || ni.PoolID != poolID || ni.NodeID == "" || ni.TaskRootDirectory == "" {
			t.Errorf("ok: nodeInfo = %+v, want pool, node and task root directory", ni)
		}
		if task.PreviousState != batch.TaskStateRunning {
			t.Errorf("ok: previousState = %s, want running", task.PreviousState)
		}
		if env := get("env"); env.ExecutionInfo.Result != batch.TaskExecutionResultSuccess {
			t.Errorf("env: %s; the task environment lacks GREETING or AZ_BATCH_* variables", describeTask(env))
		}
	})

	t.Run("retries on non-zero exit", func(t *testing.T) {
		task := get("fail")
		ei := task.ExecutionInfo
		if ei.Result != batch.TaskExecutionResultFailure || ei.ExitCode == nil || *ei.ExitCode != 3 || ei.RetryCount != 2 {
			t.Errorf("fail: %s, want failure, exit code 3, retryCount 2", describeTask(task))
		}
		if ei.LastRetryTime.IsZero() {
			t.Error("fail: lastRetryTime not set after retries")
		}
		if fi := ei.FailureInfo; fi == nil || fi.Category != batch.ErrorCategoryUserError || fi.Code == "" {
			t.Errorf("fail: failureInfo = %+v, want a usererror with a code", fi)
		}
	})

	t.Run("wall clock limit", func(t *testing.T) {
		task := get("slow")
		ei := task.ExecutionInfo
		if ei.Result != batch.TaskExecutionResultFailure || ei.FailureInfo == nil {
			t.Errorf("slow: %s, want failure with failureInfo", describeTask(task))
		}
		if d := ei.EndTime.Sub(ei.StartTime); d > 45*time.Second {
			t.Errorf("slow: ran %v; the 2s wall-clock limit did not stop the 60s sleep", d)
		}
	})

	t.Run("result filters", func(t *testing.T) {
		tests := []struct {
			filter string
			want   []string
		}{
			{"executionInfo/result eq 'failure'", []string{"fail", "slow"}},
			{"executionInfo/result eq 'Failure'", []string{"fail", "slow"}},
			{"state eq 'completed' and executionInfo/result eq 'success'", []string{"env", "ok"}},
			{"executionInfo/exitCode eq 3", []string{"fail"}},
			{"(executionInfo/exitCode gt 2) and (executionInfo/exitCode lt 4)", []string{"fail"}},
			{"executionInfo/exitCode eq 0", []string{"env", "ok"}},
		}
		for _, tt := range tests {
			got, _ := listTasks(t, s.c, jobID, &batch.ListOptions{Filter: tt.filter})
			if ids := taskIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("filter %q: %v, want %v", tt.filter, ids, tt.want)
			}
		}
	})

	t.Run("counts and nodes", func(t *testing.T) {
		c, err := s.c.GetTaskCounts(ctx, jobID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (batch.TaskCounts{Completed: 4, Succeeded: 2, Failed: 2}); c.TaskCounts != want {
			t.Errorf("task counts = %+v, want %+v", c.TaskCounts, want)
		}
		nodes := s.listNodes(t, poolID)
		if len(nodes) != 1 {
			t.Fatalf("%d nodes, want 1", len(nodes))
		}
		// Whether each retry counts as a run is not documented, so at
		// least one run per task.
		if n := nodes[0]; n.TotalTasksRun < 4 || n.TotalTasksSucceeded < 2 || n.RunningTasksCount != 0 {
			t.Errorf("node totalTasksRun=%d totalTasksSucceeded=%d runningTasksCount=%d, want ≥4, ≥2, 0",
				n.TotalTasksRun, n.TotalTasksSucceeded, n.RunningTasksCount)
		}
	})

	t.Run("terminatejob when all tasks complete", func(t *testing.T) {
		auto := s.job(t, "auto", poolID, nil)
		quick := []batch.TaskAddParameter{{ID: "a", CommandLine: "/bin/true"}, {ID: "b", CommandLine: "/bin/false"}}
		if _, err := s.c.AddTasks(ctx, auto, quick, nil); err != nil {
			t.Fatal(err)
		}
		// As the documentation recommends: add with noaction, then switch.
		if err := s.c.PatchJob(ctx, auto, batch.JobPatchParameter{OnAllTasksComplete: batch.OnAllTasksCompleteTerminateJob}); err != nil {
			t.Fatal(err)
		}
		s.waitJobCompleted(t, auto, "AllTasksComplete")
		for _, id := range []string{"a", "b"} {
			task, err := s.c.GetTask(ctx, auto, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if task.State != batch.TaskStateCompleted {
				t.Errorf("task %s of the completed job: %s, want completed", id, describeTask(task))
			}
		}
	})
}

func join(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	out := ids[0]
	for _, id := range ids[1:] {
		out += "," + id
	}
	return out
}
