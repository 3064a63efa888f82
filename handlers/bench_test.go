package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/handlers"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// hostBatch builds a SubmitTasks invocation for bodies, as the host does.
func hostBatch(bodies []string) map[string]any {
	ids := make([]string, len(bodies))
	counts := make([]int, len(bodies))
	for i := range bodies {
		ids[i] = fmt.Sprintf("m-%d", i)
		counts[i] = 1
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return map[string]any{"Data": map[string]any{"arrivals": enc(bodies)},
		"Metadata": map[string]any{"MessageIdArray": enc(ids), "DeliveryCountArray": enc(counts), "sys": map[string]any{"MethodName": "SubmitTasks"}}}
}

// BenchmarkSubmitTasks10000 sends 10,000 arrivals in host-shaped batches of
// 500 to SubmitTasks over HTTP, against the Batch emulator (autoscale pool
// with no nodes, so tasks stay queued), Azurite (status documents) and the
// Service Bus emulator. The baseline is the Batch client's AddTasks adding
// the same number of equivalent tasks directly in the same run; the ratio
// shows what the function costs on top (parsing, SAS signing, planning,
// status writes).
func BenchmarkSubmitTasks10000(b *testing.B) {
	const total, batchSize = 10000, 500
	for range b.N {
		b.StopTimer()
		s := startStack(b, func(c *config.Config) { c.Scaling = config.ScalingAutoscale; c.JobID = "bench-job" })
		ctx := context.Background()

		// Baseline: AddTasks of planned tasks straight to another job.
		preset, _ := plan.LookupPreset("mp3-128k-cbr")
		var base []batch.TaskAddParameter
		for i := range total {
			f := plan.File{Container: "input", Blob: fmt.Sprintf("base/%05d.mp4", i), ETag: "0x1", Size: 1 << 20, Preset: preset.Name, Output: "x.mp3"}
			task, err := plan.Task(f, preset, plan.TaskOptions{InputURL: "http://127.0.0.1/x?sig=s", OutputContainerURL: "http://127.0.0.1/o?sig=s",
				LogsPrefix: "logs/", MaxTaskRetries: 1, MinWallClock: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			base = append(base, task)
		}
		// The pool and the benchmark job exist before timing starts.
		if code, resp := s.invoke(b, handlers.FuncSubmitTasks, hostBatch([]string{`{"container":"input","blob":"warm.mp4","etag":"0x1","size":1}`})); code != http.StatusOK {
			b.Fatalf("warm-up: %d %v", code, resp.Logs)
		}
		if err := s.batch.CreateJob(ctx, plan.Job("baseline-job", s.cfg.PoolID)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := s.batch.AddTasks(ctx, "baseline-job", base, nil)
		baseline := time.Since(t0)
		if err != nil || len(res.Added) != total {
			b.Fatalf("baseline AddTasks: %v (%d added)", err, len(res.Added))
		}

		t1 := time.Now()
		for start := 0; start < total; start += batchSize {
			bodies := make([]string, 0, batchSize)
			for i := start; i < start+batchSize; i++ {
				bodies = append(bodies, fmt.Sprintf(`{"container":"input","blob":"in/%05d.mp4","etag":"0x1","size":1048576}`, i))
			}
			if code, resp := s.invoke(b, handlers.FuncSubmitTasks, hostBatch(bodies)); code != http.StatusOK {
				b.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
			}
		}
		elapsed := time.Since(t1)
		if err := s.app.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		drained := time.Since(t1)
		b.StopTimer()
		counts, err := s.batch.GetTaskCounts(ctx, s.cfg.JobID)
		if err != nil || counts.TaskCounts.Active+counts.TaskCounts.Running+counts.TaskCounts.Completed != total+1 {
			b.Fatalf("tasks in job: %+v, %v", counts, err)
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "arrivals/s")
		b.ReportMetric(float64(total)/baseline.Seconds(), "baseline-tasks/s")
		b.ReportMetric(elapsed.Seconds()/baseline.Seconds(), "x-baseline-time")
		b.ReportMetric(drained.Seconds(), "s-until-status-written")
	}
}
