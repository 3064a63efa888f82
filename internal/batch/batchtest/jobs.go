package batchtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
)

func (s *suite) testJobs(t *testing.T) {
	ctx := s.ctx(t)
	poolID := s.pool(t, "jobpool", 0, nil)
	id := s.job(t, "job", poolID, func(j *batch.JobAddParameter) {
		j.DisplayName = "conformance job"
		j.Priority = to.Ptr[int32](100)
		j.Constraints = &batch.JobConstraints{MaxTaskRetryCount: to.Ptr[int32](1), MaxWallClockTime: to.Ptr(batch.Duration(24 * time.Hour))}
		j.OnAllTasksComplete = batch.OnAllTasksCompleteNoAction
		j.OnTaskFailure = batch.OnTaskFailureNoAction
		j.Metadata = []batch.MetadataItem{{Name: "suite", Value: "batchtest"}}
	})

	t.Run("get", func(t *testing.T) {
		j, err := s.c.GetJob(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if j.ID != id || j.DisplayName != "conformance job" || j.PoolInfo.PoolID != poolID || j.State != batch.JobStateActive {
			t.Errorf("job id=%q displayName=%q pool=%q state=%s", j.ID, j.DisplayName, j.PoolInfo.PoolID, j.State)
		}
		if j.Priority != 100 || j.OnAllTasksComplete != batch.OnAllTasksCompleteNoAction || j.OnTaskFailure != batch.OnTaskFailureNoAction {
			t.Errorf("priority=%d onAllTasksComplete=%s onTaskFailure=%s", j.Priority, j.OnAllTasksComplete, j.OnTaskFailure)
		}
		if c := j.Constraints; c == nil || c.MaxTaskRetryCount == nil || *c.MaxTaskRetryCount != 1 ||
			c.MaxWallClockTime == nil || *c.MaxWallClockTime != batch.Duration(24*time.Hour) {
			t.Errorf("constraints = %+v", c)
		}
		if j.ETag == "" || j.CreationTime.IsZero() || j.ExecutionInfo == nil || j.ExecutionInfo.StartTime.IsZero() {
			t.Errorf("eTag=%q creationTime=%v executionInfo=%+v: want all set", j.ETag, j.CreationTime, j.ExecutionInfo)
		}
		if len(j.Metadata) != 1 || j.Metadata[0].Name != "suite" {
			t.Errorf("metadata = %+v", j.Metadata)
		}
	})

	t.Run("errors", func(t *testing.T) {
		err := s.c.CreateJob(ctx, batch.JobAddParameter{ID: strings.ToUpper(id), PoolInfo: batch.PoolInfo{PoolID: poolID}})
		wantError(t, "create an existing job", err, http.StatusConflict, batch.CodeJobExists)
		_, err = s.c.GetJob(ctx, s.id("nosuchjob"), nil)
		wantError(t, "get a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		err = s.c.DeleteJob(ctx, s.id("nosuchjob"))
		wantError(t, "delete a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		err = s.c.PatchJob(ctx, s.id("nosuchjob"), batch.JobPatchParameter{Priority: to.Ptr[int32](1)})
		wantError(t, "patch a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		err = s.c.TerminateJob(ctx, s.id("nosuchjob"), "")
		wantError(t, "terminate a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		_, err = s.c.GetTaskCounts(ctx, s.id("nosuchjob"))
		wantError(t, "task counts of a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		err = s.c.CreateTask(ctx, s.id("nosuchjob"), batch.TaskAddParameter{ID: "t", CommandLine: "true"})
		wantError(t, "add a task to a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		_, err = s.c.AddTasks(ctx, s.id("nosuchjob"), []batch.TaskAddParameter{{ID: "t", CommandLine: "true"}}, nil)
		wantError(t, "add tasks to a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		err = s.c.CreateJob(ctx, batch.JobAddParameter{ID: "bad id!", PoolInfo: batch.PoolInfo{PoolID: poolID}})
		wantError(t, "create a job with an invalid id", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue)
		err = s.c.CreateJob(ctx, batch.JobAddParameter{ID: s.id("prio"), PoolInfo: batch.PoolInfo{PoolID: poolID}, Priority: to.Ptr[int32](1001)})
		wantError(t, "create a job with priority 1001", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue, "OutOfRangePriority")
	})

	t.Run("list", func(t *testing.T) {
		second := s.job(t, "job2", poolID, nil)
		var got []string
		pages := 0
		pager := s.c.NewListJobsPager(&batch.ListOptions{Filter: fmt.Sprintf("startswith(id,'%s-job')", s.prefix), Select: "id,state", MaxResults: 1})
		for ; pager.More() && pages < 10; pages++ {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range page.Value {
				got = append(got, j.ID)
				if j.PoolInfo.PoolID != "" {
					t.Errorf("$select=id,state returned poolInfo %+v", j.PoolInfo)
				}
			}
		}
		slices.Sort(got)
		if want := []string{id, second}; !slices.Equal(got, want) || pages < 2 {
			t.Errorf("jobs = %v in %d pages, want %v in at least 2 pages of one", got, pages, want)
		}
	})

	t.Run("patch", func(t *testing.T) {
		err := s.c.PatchJob(ctx, id, batch.JobPatchParameter{Priority: to.Ptr[int32](200)})
		if err != nil {
			t.Fatal(err)
		}
		j, err := s.c.GetJob(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if j.Priority != 200 || j.OnAllTasksComplete != batch.OnAllTasksCompleteNoAction || j.Constraints == nil ||
			j.Constraints.MaxTaskRetryCount == nil || *j.Constraints.MaxTaskRetryCount != 1 || len(j.Metadata) != 1 {
			t.Errorf("after patching priority: priority=%d onAllTasksComplete=%s constraints=%+v metadata=%v; want only priority changed",
				j.Priority, j.OnAllTasksComplete, j.Constraints, j.Metadata)
		}
	})

	t.Run("empty job with terminatejob completes", func(t *testing.T) {
		// A job without tasks counts as "all tasks complete", so switching
		// it to terminatejob ends it.
		empty := s.job(t, "empty", poolID, nil)
		if err := s.c.PatchJob(ctx, empty, batch.JobPatchParameter{OnAllTasksComplete: batch.OnAllTasksCompleteTerminateJob}); err != nil {
			t.Fatal(err)
		}
		s.waitJobCompleted(t, empty, "AllTasksComplete")
	})

	t.Run("terminate", func(t *testing.T) {
		term := s.job(t, "term", poolID, nil)
		if err := s.c.CreateTask(ctx, term, batch.TaskAddParameter{ID: "waiting", CommandLine: "true"}); err != nil {
			t.Fatal(err)
		}
		if err := s.c.TerminateJob(ctx, term, "done by suite"); err != nil {
			t.Fatal(err)
		}
		s.waitJobCompleted(t, term, "done by suite")
		err := s.c.CreateTask(ctx, term, batch.TaskAddParameter{ID: "late", CommandLine: "true"})
		wantError(t, "add a task to a completed job", err, http.StatusConflict, batch.CodeJobCompleted)
		_, err = s.c.AddTasks(ctx, term, []batch.TaskAddParameter{{ID: "late", CommandLine: "true"}}, nil)
		wantError(t, "add tasks to a completed job", err, http.StatusConflict, batch.CodeJobCompleted)
		err = s.c.TerminateJob(ctx, term, "")
		wantError(t, "terminate a completed job", err, http.StatusConflict, batch.CodeJobCompleted)
	})

	t.Run("delete", func(t *testing.T) {
		doomed := s.job(t, "doomed", poolID, nil)
		if err := s.c.DeleteJob(ctx, doomed); err != nil {
			t.Fatal(err)
		}
		s.eventually(t, "deleted job disappears", func() (bool, string) {
			j, err := s.c.GetJob(ctx, doomed, nil)
			switch {
			case batch.HasCode(err, batch.CodeJobNotFound):
				return true, ""
			case err != nil:
				return false, err.Error()
			case j.State != batch.JobStateDeleting:
				t.Errorf("job state after delete = %s, want deleting or gone", j.State)
			}
			err = s.c.CreateTask(ctx, doomed, batch.TaskAddParameter{ID: "late", CommandLine: "true"})
			wantOneOf(t, "add a task to a deleting job", err, statusCode{http.StatusConflict, batch.CodeJobBeingDeleted}, statusCode{http.StatusNotFound, batch.CodeJobNotFound})
			return false, "state=" + string(j.State)
		})
	})
}

// waitJobCompleted waits for a job to reach completed with the given
// terminate reason.
func (s *suite) waitJobCompleted(t *testing.T, jobID, reason string) {
	t.Helper()
	s.eventually(t, "job "+jobID+" completed", func() (bool, string) {
		j, err := s.c.GetJob(ctxFor(t), jobID, nil)
		if err != nil {
			return false, err.Error()
		}
		ei := j.ExecutionInfo
		if j.State != batch.JobStateCompleted || ei == nil {
			return false, "state=" + string(j.State)
		}
		if ei.TerminateReason != reason || ei.EndTime.IsZero() {
			t.Errorf("completed job %s: terminateReason=%q endTime=%v, want %q and an end time", jobID, ei.TerminateReason, ei.EndTime, reason)
		}
		return true, ""
	})
}
