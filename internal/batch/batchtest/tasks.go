package batchtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// testTasks works on a pool without nodes, so every task stays active
// unless the suite terminates it.
func (s *suite) testTasks(t *testing.T) {
	ctx := s.ctx(t)
	poolID := s.pool(t, "taskpool", 0, nil)
	jobID := s.job(t, "tasks", poolID, nil)
	full := batch.TaskAddParameter{
		ID:          "t1",
		DisplayName: "in.mp4",
		CommandLine: `/bin/sh -c "ffmpeg -y -i in.mp4 out.mp3"`,
		ResourceFiles: []batch.ResourceFile{
			{HTTPURL: "http://127.0.0.1:1/devstoreaccount1/input/in.mp4?sig=x", FilePath: "in.mp4", FileMode: "0644"},
			{StorageContainerURL: "http://127.0.0.1:1/devstoreaccount1/input?sig=x", BlobPrefix: "a/", FilePath: "inputs"},
		},
		OutputFiles: []batch.OutputFile{{
			FilePattern: "out.mp3",
			Destination: batch.OutputFileDestination{Container: &batch.OutputFileBlobContainerDestination{
				ContainerURL: "http://127.0.0.1:1/devstoreaccount1/output?sig=x", Path: "out/in.mp3",
				UploadHeaders: []batch.HTTPHeader{{Name: "Content-Type", Value: "audio/mpeg"}, {Name: "x-ms-meta-source", Value: "ffbatch"}},
			}},
			UploadOptions: batch.OutputFileUploadOptions{UploadCondition: batch.OutputFileUploadConditionTaskSuccess},
		}},
		EnvironmentSettings: []batch.EnvironmentSetting{{Name: "INPUT", Value: "in.mp4"}},
		Constraints: &batch.TaskConstraints{MaxWallClockTime: to.Ptr(batch.Duration(time.Hour)),
			RetentionTime: to.Ptr(batch.Duration(7 * 24 * time.Hour)), MaxTaskRetryCount: to.Ptr[int32](2)},
		UserIdentity:  &batch.UserIdentity{AutoUser: &batch.AutoUserSpecification{Scope: batch.AutoUserScopeTask, ElevationLevel: batch.ElevationLevelNonAdmin}},
		RequiredSlots: 1,
	}
	if err := s.c.CreateTask(ctx, jobID, full); err != nil {
		t.Fatalf("create task: %v", err)
	}

	t.Run("get", func(t *testing.T) {
		task, err := s.c.GetTask(ctx, jobID, "t1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if task.ID != "t1" || task.DisplayName != full.DisplayName || task.CommandLine != full.CommandLine || task.State != batch.TaskStateActive {
			t.Errorf("task id=%q displayName=%q commandLine=%q state=%s", task.ID, task.DisplayName, task.CommandLine, task.State)
		}
		if task.ETag == "" || task.CreationTime.IsZero() || task.StateTransitionTime.IsZero() || task.URL == "" {
			t.Errorf("eTag=%q creationTime=%v stateTransitionTime=%v url=%q: want all set", task.ETag, task.CreationTime, task.StateTransitionTime, task.URL)
		}
		if !slices.Equal(task.ResourceFiles, full.ResourceFiles) {
			t.Errorf("resourceFiles = %+v, want %+v", task.ResourceFiles, full.ResourceFiles)
		}
		if len(task.OutputFiles) != 1 || task.OutputFiles[0].Destination.Container == nil ||
			task.OutputFiles[0].Destination.Container.Path != "out/in.mp3" ||
			task.OutputFiles[0].UploadOptions.UploadCondition != batch.OutputFileUploadConditionTaskSuccess {
			t.Errorf("outputFiles = %+v", task.OutputFiles)
		} else if got, want := task.OutputFiles[0].Destination.Container.UploadHeaders, full.OutputFiles[0].Destination.Container.UploadHeaders; !slices.Equal(got, want) {
			t.Errorf("outputFiles uploadHeaders = %+v, want %+v", got, want)
		}
		if !slices.Equal(task.EnvironmentSettings, full.EnvironmentSettings) {
			t.Errorf("environmentSettings = %+v", task.EnvironmentSettings)
		}
		c := task.Constraints
		if c == nil || c.MaxWallClockTime == nil || *c.MaxWallClockTime != batch.Duration(time.Hour) ||
			c.RetentionTime == nil || *c.RetentionTime != batch.Duration(7*24*time.Hour) || c.MaxTaskRetryCount == nil || *c.MaxTaskRetryCount != 2 {
			t.Errorf("constraints = %+v", c)
		}
		if task.UserIdentity == nil || task.UserIdentity.AutoUser == nil || task.UserIdentity.AutoUser.Scope != batch.AutoUserScopeTask {
			t.Errorf("userIdentity = %+v", task.UserIdentity)
		}
		if ei := task.ExecutionInfo; ei != nil && (ei.RetryCount != 0 || ei.RequeueCount != 0 || ei.ExitCode != nil || ei.Result != "") {
			t.Errorf("new task executionInfo = %+v, want zero counts and no result", ei)
		}
	})

	t.Run("defaults", func(t *testing.T) {
		if err := s.c.CreateTask(ctx, jobID, batch.TaskAddParameter{ID: "t2", CommandLine: "true"}); err != nil {
			t.Fatal(err)
		}
		task, err := s.c.GetTask(ctx, jobID, "t2", nil)
		if err != nil {
			t.Fatal(err)
		}
		c := task.Constraints
		if c == nil || c.MaxWallClockTime == nil || *c.MaxWallClockTime != batch.InfiniteDuration || c.RetentionTime == nil ||
			*c.RetentionTime != batch.Duration(7*24*time.Hour) || c.MaxTaskRetryCount == nil || *c.MaxTaskRetryCount != 0 {
			t.Errorf("default constraints = %+v, want infinite wall clock, 7-day retention, 0 retries", c)
		}
		if task.RequiredSlots != 1 {
			t.Errorf("default requiredSlots = %d, want 1", task.RequiredSlots)
		}
	})

	t.Run("errors", func(t *testing.T) {
		err := s.c.CreateTask(ctx, jobID, batch.TaskAddParameter{ID: "T1", CommandLine: "true"})
		wantError(t, "create an existing task (ids are case-insensitive)", err, http.StatusConflict, batch.CodeTaskExists)
		_, err = s.c.GetTask(ctx, jobID, "nosuchtask", nil)
		wantError(t, "get a missing task", err, http.StatusNotFound, batch.CodeTaskNotFound)
		_, err = s.c.GetTask(ctx, s.id("nosuchjob"), "t1", nil)
		wantError(t, "get a task of a missing job", err, http.StatusNotFound, batch.CodeJobNotFound)
		err = s.c.DeleteTask(ctx, jobID, "nosuchtask")
		wantError(t, "delete a missing task", err, http.StatusNotFound, batch.CodeTaskNotFound)
		err = s.c.TerminateTask(ctx, jobID, "nosuchtask")
		wantError(t, "terminate a missing task", err, http.StatusNotFound, batch.CodeTaskNotFound)
		err = s.c.CreateTask(ctx, jobID, batch.TaskAddParameter{ID: "bad id!", CommandLine: "true"})
		wantError(t, "create a task with an invalid id", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue)
		err = s.c.CreateTask(ctx, jobID, batch.TaskAddParameter{ID: strings.Repeat("a", 65), CommandLine: "true"})
		wantError(t, "create a task with a 65-character id", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue)
		err = s.c.CreateTask(ctx, jobID, batch.TaskAddParameter{ID: "nocmd"})
		wantError(t, "create a task without a command line", err, http.StatusBadRequest, batch.CodeMissingRequiredProperty, batch.CodeInvalidRequestBody)
		bad := full
		bad.ID = "badcond"
		bad.OutputFiles = []batch.OutputFile{full.OutputFiles[0]}
		bad.OutputFiles[0].UploadOptions.UploadCondition = "sometimes"
		err = s.c.CreateTask(ctx, jobID, bad)
		wantError(t, "create a task with an unknown upload condition", err, http.StatusBadRequest, batch.CodeInvalidPropertyValue, batch.CodeInvalidRequestBody)
		_, err = s.c.NewListTasksPager(jobID, &batch.ListOptions{Filter: "nosuchproperty eq 'x'"}).NextPage(ctx)
		wantError(t, "list with an unknown filter property", err, http.StatusBadRequest, batch.CodeInvalidQueryParameterValue)
		_, err = s.c.NewListTasksPager(jobID, &batch.ListOptions{Filter: "state eq"}).NextPage(ctx)
		wantError(t, "list with a malformed filter", err, http.StatusBadRequest, batch.CodeInvalidQueryParameterValue)
	})

	t.Run("add collection", func(t *testing.T) {
		res, err := s.c.AddTaskCollection(ctx, jobID, []batch.TaskAddParameter{
			{ID: "t1", CommandLine: "true"}, {ID: "c1", CommandLine: "true"}, {ID: "c2", CommandLine: "true"},
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]batch.TaskAddResult{}
		for _, r := range res.Value {
			got[r.TaskID] = r
		}
		if r := got["t1"]; r.Status != batch.TaskAddStatusClientError || r.Error == nil || r.Error.Code != batch.CodeTaskExists {
			t.Errorf("existing t1: %+v, want clienterror TaskExists", r)
		}
		for _, id := range []string{"c1", "c2"} {
			if r := got[id]; r.Status != batch.TaskAddStatusSuccess || r.ETag == "" || r.Location == "" {
				t.Errorf("%s: %+v, want success with eTag and location", id, r)
			}
		}
		if len(res.Value) != 3 {
			t.Errorf("%d results, want 3", len(res.Value))
		}
		bulk, err := s.c.AddTasks(ctx, jobID, []batch.TaskAddParameter{
			{ID: "c2", CommandLine: "true"}, {ID: "c3", CommandLine: "true"}, {ID: "c4", CommandLine: "true"},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(bulk.Existing, []string{"c2"}) || !slices.Equal(bulk.Added, []string{"c3", "c4"}) || len(bulk.Failed) != 0 {
			t.Errorf("AddTasks = %+v, want c2 existing and c3, c4 added", bulk)
		}
	})

	t.Run("body limit", func(t *testing.T) {
		// About 12 kB per task: 100 of them exceed the 1 MiB body limit.
		big := make([]batch.TaskAddParameter, 150)
		for i := range big {
			big[i] = batch.TaskAddParameter{ID: "big" + strconv.Itoa(i), CommandLine: "/bin/true"}
			for k := range 4 {
				big[i].EnvironmentSettings = append(big[i].EnvironmentSettings,
					batch.EnvironmentSetting{Name: "PAD" + strconv.Itoa(k), Value: strings.Repeat("x", 3000)})
			}
		}
		bigJob := s.job(t, "big", poolID, nil)
		_, err := s.c.AddTaskCollection(ctx, bigJob, big[:100])
		wantError(t, "add a collection over 1 MiB", err, http.StatusRequestEntityTooLarge, batch.CodeRequestBodyTooLarge)
		res, err := s.c.AddTasks(ctx, bigJob, big, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Added) != len(big) || len(res.Failed) != 0 {
			t.Errorf("AddTasks of %d large tasks: %d added, failed %v", len(big), len(res.Added), res.Failed)
		}
		got, _ := listTasks(t, s.c, bigJob, &batch.ListOptions{Select: "id"})
		if len(got) != len(big) {
			t.Errorf("job has %d tasks, want %d", len(got), len(big))
		}
	})

	t.Run("counts", func(t *testing.T) {
		// t1, t2, c1..c4 are active.
		c, err := s.c.GetTaskCounts(ctx, jobID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (batch.TaskCounts{Active: 6}); c.TaskCounts != want {
			t.Errorf("task counts = %+v, want %+v", c.TaskCounts, want)
		}
	})

	t.Run("terminate and delete", func(t *testing.T) {
		if err := s.c.TerminateTask(ctx, jobID, "c3"); err != nil {
			t.Fatal(err)
		}
		s.eventually(t, "terminated task completes", func() (bool, string) {
			task, err := s.c.GetTask(ctx, jobID, "c3", nil)
			if err != nil {
				return false, err.Error()
			}
			return task.State == batch.TaskStateCompleted, describeTask(task)
		})
		task, err := s.c.GetTask(ctx, jobID, "c3", nil)
		if err != nil {
			t.Fatal(err)
		}
		if task.PreviousState != batch.TaskStateActive {
			t.Errorf("previousState = %s, want active", task.PreviousState)
		}
		if err := s.c.DeleteTask(ctx, jobID, "c4"); err != nil {
			t.Fatal(err)
		}
		_, err = s.c.GetTask(ctx, jobID, "c4", nil)
		wantError(t, "get a deleted task", err, http.StatusNotFound, batch.CodeTaskNotFound)
	})

	t.Run("filters", func(t *testing.T) {
		// Now: t1, t2, c1, c2 active; c3 completed; c4 deleted.
		tests := []struct {
			filter string
			want   []string
		}{
			{"state eq 'completed'", []string{"c3"}},
			{"state eq 'Completed'", []string{"c3"}},
			{"state eq 'active'", []string{"c1", "c2", "t1", "t2"}},
			{"state ne 'active'", []string{"c3"}},
			{"startswith(id,'c')", []string{"c1", "c2", "c3"}},
			{"startswith(id,'c') and state eq 'active'", []string{"c1", "c2"}},
			{"(state eq 'completed') or startswith(id,'t')", []string{"c3", "t1", "t2"}},
			{"id eq 't2'", []string{"t2"}},
			{"startswith(id,'zz')", nil},
		}
		for _, tt := range tests {
			t.Run(tt.filter, func(t *testing.T) {
				tasks, _ := listTasks(t, s.c, jobID, &batch.ListOptions{Filter: tt.filter})
				if got := taskIDs(tasks); !slices.Equal(got, tt.want) {
					t.Errorf("filter %q: %v, want %v", tt.filter, got, tt.want)
				}
			})
		}
		tasks, _ := listTasks(t, s.c, jobID, &batch.ListOptions{Filter: "id eq 't1'", Select: "id,state"})
		if len(tasks) != 1 || tasks[0].ID != "t1" || tasks[0].State != batch.TaskStateActive || tasks[0].CommandLine != "" || tasks[0].Constraints != nil {
			t.Errorf("$select=id,state: %+v, want only id and state", tasks)
		}
	})
}
