package handlers_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/handlers"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
)

// hostBatch builds a SubmitTasks invocation for bodies with message ids,
// as the host does.
func hostBatch(ids, bodies []string) map[string]any {
	counts := make([]int, len(bodies))
	for i := range bodies {
		counts[i] = 1
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return map[string]any{"Data": map[string]any{"arrivals": enc(bodies)},
		"Metadata": map[string]any{"MessageIdArray": enc(ids), "DeliveryCountArray": enc(counts), "sys": map[string]any{"MethodName": "SubmitTasks"}}}
}

// BenchmarkSubmitTasks10000 sends 10,000 arrivals in host-shaped batches of
// 500 to SubmitTasks over HTTP (the handler's entry point), against the
// Batch emulator (autoscale pool with no nodes, so tasks stay queued),
// Azurite (journals, status records, output claims) and the Service Bus
// emulator. "hashed" arrivals carry a valid contentMD5 (the usual
// BlobCreated case), "plain" ones do not. The baseline is the Batch
// client's AddTasks adding the same number of equivalent tasks directly in
// the same run; the ratio shows what the function costs on top (parsing,
// output claims, the journal, SAS signing, planning). The records are
// folded from the journals in the background; "folded-s" is the time from
// the first invocation until the last record is written (reported, not
// part of arrivals/s).
func BenchmarkSubmitTasks10000(b *testing.B) {
	for _, hashed := range []bool{true, false} {
		b.Run(map[bool]string{true: "hashed", false: "plain"}[hashed], func(b *testing.B) {
			for range b.N {
				benchSubmitTasks(b, hashed)
			}
		})
	}
}

func benchSubmitTasks(b *testing.B, hashed bool) {
	const total, batchSize = 10000, 500
	b.StopTimer()
	s := startStack(b, func(c *config.Config) { c.Scaling = config.ScalingAutoscale; c.JobID = "bench-job" })
	ctx := context.Background()

	// Baseline: AddTasks of planned tasks straight to another job.
	preset, _ := plan.LookupPreset("mp3-128k-cbr")
	var base []batch.TaskAddParameter
	for i := range total {
		r := request.Request{ID: fmt.Sprintf("base-%05d", i), Version: request.Version{Container: "input", Blob: fmt.Sprintf("base/%05d.mp4", i), ETag: "0x1", Size: 1 << 20},
			Preset: preset.Name, Output: "x.mp3"}
		task, err := plan.Task(request.TaskID(r, 0), plan.TaskFile{Request: r}, preset, plan.TaskOptions{InputURL: "http://127.0.0.1/x?sig=s", OutputContainerURL: "http://127.0.0.1/o?sig=s",
			LogsPrefix: "logs/", MaxTaskRetries: 1, MinWallClock: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		base = append(base, task)
	}
	// The pool and the benchmark job exist before timing starts.
	if code, resp := s.invoke(b, handlers.FuncSubmitTasks, hostBatch([]string{"warm"}, []string{`{"container":"input","blob":"warm.mp4","etag":"0x1","size":1}`})); code != http.StatusOK {
		b.Fatalf("warm-up: %d %v", code, resp.Logs)
	}
	s.drain(b)
	if err := s.batch.CreateJob(ctx, plan.Job("baseline-job", s.cfg.PoolID)); err != nil {
		b.Fatal(err)
	}
	var batches [][2][]string
	for start := 0; start < total; start += batchSize {
		var ids, bodies []string
		for i := start; i < start+batchSize; i++ {
			hash := ""
			if hashed {
				sum := md5.Sum([]byte(strconv.Itoa(i)))
				hash = fmt.Sprintf(`,"contentMD5":%q`, base64.StdEncoding.EncodeToString(sum[:]))
			}
			ids = append(ids, fmt.Sprintf("m-%05d", i))
			bodies = append(bodies, fmt.Sprintf(`{"container":"input","blob":"in/%05d.mp4","etag":"0x1","size":1048576%s}`, i, hash))
		}
		batches = append(batches, [2][]string{ids, bodies})
	}
	b.StartTimer()
	t0 := time.Now()
	res, err := s.batch.AddTasks(ctx, "baseline-job", base, nil)
	baseline := time.Since(t0)
	if err != nil || len(res.Added) != total {
		b.Fatalf("baseline AddTasks: %v (%d added)", err, len(res.Added))
	}

	t1 := time.Now()
	spent := map[string]time.Duration{}
	for _, bt := range batches {
		code, resp := s.invoke(b, handlers.FuncSubmitTasks, hostBatch(bt[0], bt[1]))
		if code != http.StatusOK {
			b.Fatalf("SubmitTasks: %d %v", code, resp.Logs)
		}
		addStages(b, spent, resp.Logs)
	}
	elapsed := time.Since(t1)
	b.StopTimer()
	s.drain(b)
	folded := time.Since(t1)
	counts, err := s.batch.GetTaskCounts(ctx, s.cfg.JobID)
	if err != nil || counts.TaskCounts.Active+counts.TaskCounts.Running+counts.TaskCounts.Completed != total+1 {
		b.Fatalf("tasks in job: %+v, %v", counts, err)
	}
	if n := s.countBlobs(b, s.cfg.StatusContainer, lifecycle.RecordPrefix); n != total+1 {
		b.Fatalf("%d status records after the folds, want %d", n, total+1)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "arrivals/s")
	b.ReportMetric(float64(total)/baseline.Seconds(), "baseline-tasks/s")
	b.ReportMetric(elapsed.Seconds()/baseline.Seconds(), "x-baseline-time")
	b.ReportMetric(folded.Seconds(), "folded-s")
	for name, d := range spent {
		b.ReportMetric(d.Seconds(), name+"-s")
	}
}

// stageLog matches one stage of SubmitTasks' "stages:" log line.
var stageLog = regexp.MustCompile(`([a-z]+) ([0-9.]+[µmn]?s)`)

// addStages adds the stage times SubmitTasks logged to spent.
func addStages(b *testing.B, spent map[string]time.Duration, logs []string) {
	for _, l := range logs {
		_, list, ok := strings.Cut(l, "stages: ")
		if !ok {
			continue
		}
		for _, m := range stageLog.FindAllStringSubmatch(list, -1) {
			d, err := time.ParseDuration(m[2])
			if err != nil {
				b.Fatalf("stage %q: %v", m[0], err)
			}
			spent[m[1]] += d
		}
	}
}
