package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// BenchmarkAddTasks10000Emulator adds 10,000 tasks to a job on the Batch
// emulator with the client's AddTasks (chunks of 100, 4 in flight) and, in
// the same iteration, with sequential single-chunk AddTaskCollection calls
// (what the SDK samples do) as the baseline. The pool has no nodes, so
// nothing runs and only submission is measured.
func BenchmarkAddTasks10000Emulator(b *testing.B) {
	const n = 10000
	s := startStack(b, false, 1)
	ctx := context.Background()
	if err := s.client.CreatePool(ctx, ubuntuPool("empty", 0)); err != nil {
		b.Fatal(err)
	}
	tasks := make([]batch.TaskAddParameter, n)
	for i := range tasks {
		tasks[i] = batch.TaskAddParameter{ID: fmt.Sprintf("t%05d", i), CommandLine: "/bin/true"}
	}
	var addTasks, sequential time.Duration
	b.ResetTimer()
	for i := range b.N {
		for _, j := range []string{fmt.Sprintf("seq%d", i), fmt.Sprintf("par%d", i)} {
			if err := s.client.CreateJob(ctx, batch.JobAddParameter{ID: j, PoolInfo: batch.PoolInfo{PoolID: "empty"}}); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		for c := 0; c < n; c += batch.MaxTasksPerCollection {
			if _, err := s.client.AddTaskCollection(ctx, fmt.Sprintf("seq%d", i), tasks[c:min(c+batch.MaxTasksPerCollection, n)]); err != nil {
				b.Fatal(err)
			}
		}
		sequential += time.Since(start)

		start = time.Now()
		res, err := s.client.AddTasks(ctx, fmt.Sprintf("par%d", i), tasks, nil)
		addTasks += time.Since(start)
		if err != nil || len(res.Added) != n {
			b.Fatalf("AddTasks: %v (%d added)", err, len(res.Added))
		}
	}
	total := float64(n * b.N)
	b.ReportMetric(total/addTasks.Seconds(), "tasks/s")
	b.ReportMetric(total/sequential.Seconds(), "baseline-tasks/s")
	b.ReportMetric(sequential.Seconds()/addTasks.Seconds(), "speedup")
}

// BenchmarkSubmitToRunning measures the latency from AddTask to the task's
// executionInfo.startTime on an idle one-node pool, p50 and p95 over 20
// tasks per iteration. The baseline is the latency of starting the same
// process directly (fork/exec of /bin/true), measured in the same run.
func BenchmarkSubmitToRunning(b *testing.B) {
	const samples = 20
	s := startStack(b, false, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := s.client.CreatePool(ctx, ubuntuPool("idle", 1)); err != nil {
		b.Fatal(err)
	}
	waitIdleNode(ctx, b, s.client, "idle")
	if err := s.client.CreateJob(ctx, batch.JobAddParameter{ID: "lat", PoolInfo: batch.PoolInfo{PoolID: "idle"}}); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		for k := range samples {
			id := fmt.Sprintf("t%d-%d", i, k)
			before := time.Now()
			if err := s.client.CreateTask(ctx, "lat", batch.TaskAddParameter{ID: id, CommandLine: "/bin/true"}); err != nil {
				b.Fatal(err)
			}
			t := waitTask(ctx, b, s.client, "lat", id, batch.TaskStateCompleted, 2*time.Millisecond)
			if t.ExecutionInfo == nil || t.ExecutionInfo.StartTime.IsZero() {
				b.Fatalf("task %s has no start time", id)
			}
			lat = append(lat, t.ExecutionInfo.StartTime.Sub(before))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p50, p95 := lat[len(lat)*50/100], lat[len(lat)*95/100]
	base := forkExecLatency(b, samples)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(base.Microseconds())/1000, "baseline-exec-ms")
	b.ReportMetric(float64(p50)/float64(base), "p50/baseline")
}

func waitIdleNode(ctx context.Context, b *testing.B, c *batch.Client, poolID string) {
	b.Helper()
	for {
		pager := c.NewListNodesPager(poolID, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range page.Value {
				if n.State == batch.NodeStateIdle {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			b.Fatalf("pool %s has no idle node: %v", poolID, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
