package batchemu

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// fakeRunner records specs and succeeds without running anything.
type fakeRunner struct {
	mu    sync.Mutex
	specs []executor.Spec
}

func (f *fakeRunner) Run(ctx context.Context, spec executor.Spec) executor.Result {
	f.mu.Lock()
	f.specs = append(f.specs, spec)
	f.mu.Unlock()
	zero := 0
	return executor.Result{ExitCode: &zero}
}

// TestReplayCapturedSDKRequests replays the requests recorded from the JS
// and Python SDKs, byte for byte, and checks the emulator's answers.
func TestReplayCapturedSDKRequests(t *testing.T) {
	want := map[string][]int{
		// pool add, job add, addtaskcollection, list (filter+select), list page 2,
		// HEAD exists, get missing pool, evaluate on a non-autoscale pool, job delete.
		"js_sdk_capture_log1.json": {201, 201, 200, 200, 200, 200, 404, 409, 202},
		// disable autoscale, terminate (empty body), terminate again (completed),
		// enable autoscale, resize while autoscale is on, list jobs, bad skiptoken, patch.
		"js_sdk_capture_log2.json": {200, 202, 409, 200, 409, 200, 400, 409},
		// pool add, job add, addtaskcollection, list, bad skiptoken, disable autoscale, terminate, HEAD.
		"py_sdk_13.0.1_capture_log.json": {201, 201, 200, 200, 400, 200, 202, 200},
	}
	for file, reqs := range loadCaptures(t) {
		t.Run(file, func(t *testing.T) {
			date, _ := http.ParseTime(reqs[0].Headers["ocp-date"])
			srv, err := NewServer(&Options{
				AccountName: "devaccount", AccountKey: base64.StdEncoding.EncodeToString([]byte("secretkey0123456789")),
				Now: func() time.Time { return date }, runner: &fakeRunner{},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close(context.Background()) })
			if file == "js_sdk_capture_log2.json" {
				seed(t, srv, date)
			}
			codes := want[file]
			if len(codes) != len(reqs) {
				t.Fatalf("%d expectations for %d requests", len(codes), len(reqs))
			}
			for i, c := range reqs {
				rec := httptest.NewRecorder()
				req := c.httpRequest(t)
				req.Host = c.Headers["host"]
				srv.Handler().ServeHTTP(rec, req)
				if rec.Code != codes[i] {
					t.Errorf("#%d %s %s: status %d, want %d: %s", i, c.Method, c.URL, rec.Code, codes[i], rec.Body)
				}
				if rec.Code >= 400 && c.Method != "HEAD" && !strings.Contains(rec.Body.String(), `"code"`) {
					t.Errorf("#%d: error without a Batch error body: %s", i, rec.Body)
				}
				srv.mu.Lock()
				srv.step(date) // let terminations complete between requests
				srv.mu.Unlock()
			}
		})
	}
}

// seed creates the pool p1 and job j1 that the second JS capture assumes.
func seed(t *testing.T, srv *Server, now time.Time) {
	t.Helper()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	p := &store.Pool{Pool: wire.CloudPool{ID: "p1", VMSize: "x", State: wire.PoolActive, AllocationState: wire.AllocSteady, TaskSlotsPerNode: 1,
		EnableAutoScale: true, AutoScaleFormula: "$TargetDedicatedNodes=0;", AutoScaleEvaluationInterval: wire.DurationPtr(15 * time.Minute),
		CreationTime: wire.At(now)}}
	srv.touchPool(p, now)
	srv.st.Pools["p1"] = p
	j := &store.Job{Job: wire.CloudJob{ID: "j1", State: string(wire.JobActive), PoolInfo: wire.PoolInformation{PoolID: "p1"}, MaxParallelTasks: -1,
		Constraints: defaultJobConstraints(nil), CreationTime: wire.At(now), OnAllTasksComplete: "noaction"}, Tasks: map[string]*store.Task{}}
	srv.touchJob(j, now)
	srv.st.Jobs["j1"] = j
}
