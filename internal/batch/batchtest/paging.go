package batchtest

import (
	"fmt"
	"testing"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// pagingTasks is more than one default page (1000) of tasks.
const pagingTasks = 1200

// testPaging adds 1,200 tiny tasks with AddTasks to a job whose pool has no
// nodes (so nothing runs) and lists them in pages.
func (s *suite) testPaging(t *testing.T) {
	ctx := s.ctx(t)
	poolID := s.pool(t, "pagepool", 0, nil)
	jobID := s.job(t, "paging", poolID, nil)
	tasks := make([]batch.TaskAddParameter, pagingTasks)
	for i := range tasks {
		tasks[i] = batch.TaskAddParameter{ID: fmt.Sprintf("p-%05d", i), CommandLine: "/bin/true"}
	}
	res, err := s.c.AddTasks(ctx, jobID, tasks, nil)
	if err != nil {
		t.Fatalf("AddTasks: %v", err)
	}
	if len(res.Added) != pagingTasks || len(res.Existing) != 0 || len(res.Failed) != 0 {
		t.Fatalf("AddTasks: %d added, %d existing, failed %v; want %d added", len(res.Added), len(res.Existing), res.Failed, pagingTasks)
	}
	// Adding them again is safe: all already exist.
	again, err := s.c.AddTasks(ctx, jobID, tasks[:150], nil)
	if err != nil || len(again.Existing) != 150 || len(again.Added) != 0 {
		t.Fatalf("AddTasks again: %+v, %v; want 150 existing", again, err)
	}

	tests := []struct {
		name      string
		opts      *batch.ListOptions
		wantTasks int
		minPages  int
	}{
		{"default page size", nil, pagingTasks, 2},
		{"maxresults 500", &batch.ListOptions{MaxResults: 500}, pagingTasks, 3},
		{"filter across pages", &batch.ListOptions{Filter: "startswith(id,'p-011')", MaxResults: 30}, 100, 4},
		{"select across pages", &batch.ListOptions{Select: "id", MaxResults: 1000}, pagingTasks, 2},
		{"filter and state", &batch.ListOptions{Filter: "state eq 'active' and startswith(id,'p-00')", MaxResults: 400}, 1000, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := listTasks(t, s.c, jobID, tt.opts)
			if len(got) != tt.wantTasks || pages < tt.minPages {
				t.Fatalf("%d tasks in %d pages, want %d in at least %d", len(got), pages, tt.wantTasks, tt.minPages)
			}
			seen := make(map[string]bool, len(got))
			for _, task := range got {
				if seen[task.ID] {
					t.Fatalf("task %s listed twice", task.ID)
				}
				seen[task.ID] = true
				if tt.opts != nil && tt.opts.Select == "id" && (task.CommandLine != "" || task.State != "") {
					t.Fatalf("$select=id returned %+v", task)
				}
			}
		})
	}
	counts, err := s.c.GetTaskCounts(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if counts.TaskCounts.Active != pagingTasks {
		t.Errorf("active count = %d, want %d", counts.TaskCounts.Active, pagingTasks)
	}
}
