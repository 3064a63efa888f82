package placement

import (
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

func node(id string, running int) *store.Node {
	return &store.Node{Node: wire.ComputeNode{ID: id, AffinityID: "TVM:" + id, State: wire.NodeIdle,
		SchedulingState: "enabled", RunningTaskSlotsCount: running, IsDedicated: true}}
}

func TestChoose(t *testing.T) {
	pool := func(fill string, nodes ...*store.Node) *store.Pool {
		return &store.Pool{Pool: wire.CloudPool{TaskSlotsPerNode: 2, TaskSchedulingPolicy: &wire.TaskSchedulingPolicy{NodeFillType: fill}}, Nodes: nodes}
	}
	task := func(affinity string) *store.Task {
		t := &store.Task{Task: wire.CloudTask{RequiredSlots: 1}}
		if affinity != "" {
			t.Task.AffinityInfo = &wire.AffinityInformation{AffinityID: affinity}
		}
		return t
	}
	leaving := node("gone", 0)
	leaving.Leaving = true
	tests := []struct {
		name string
		pool *store.Pool
		task *store.Task
		want string // "" for none
	}{
		{"spread takes the least busy", pool("spread", node("a", 1), node("b", 0)), task(""), "b"},
		{"pack takes the busiest with room", pool("pack", node("a", 1), node("b", 0)), task(""), "a"},
		{"full nodes are skipped", pool("pack", node("a", 2), node("b", 0)), task(""), "b"},
		{"affinity is preferred", pool("spread", node("a", 1), node("b", 0)), task("TVM:a"), "a"},
		{"affinity node full: another node", pool("spread", node("a", 2), node("b", 1)), task("TVM:a"), "b"},
		{"leaving nodes take nothing", pool("spread", leaving), task(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &store.Job{Job: wire.CloudJob{ID: "j"}}
			got := Choose(Candidate{Job: j, Task: tt.task}, "p", tt.pool)
			gotID := ""
			if got != nil {
				gotID = got.Node.ID
			}
			if gotID != tt.want {
				t.Errorf("Choose = %q, want %q", gotID, tt.want)
			}
		})
	}
}

func TestSort(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	job := func(id string, prio int, created time.Time) *store.Job {
		return &store.Job{Job: wire.CloudJob{ID: id, Priority: prio, CreationTime: wire.At(created)}}
	}
	low, old, young := job("low", 0, t0), job("old", 5, t0), job("young", 5, t0.Add(time.Minute))
	cands := []Candidate{
		{low, &store.Task{Order: 1}}, {young, &store.Task{Order: 2}}, {old, &store.Task{Order: 9}}, {old, &store.Task{Order: 3}},
	}
	Sort(cands)
	var got []string
	for _, c := range cands {
		got = append(got, c.Job.Job.ID)
	}
	want := []string{"old", "old", "young", "low"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
	if cands[0].Task.Order != 3 {
		t.Errorf("within a job, tasks run in the order they were added: first order %d, want 3", cands[0].Task.Order)
	}
}
