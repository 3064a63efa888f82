package batchemu

import (
	"net/http"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// These tests drive time-based behaviour with an injected clock.

func newClockEnv(t *testing.T, opts *Options) (*testEnv, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	if opts == nil {
		opts = &Options{}
	}
	opts.Now = clock.Now
	return startServer(t, opts), clock
}

func TestNodeStartDelay(t *testing.T) {
	env, clock := newClockEnv(t, &Options{NodeStartDelay: time.Hour})
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 1))
	var nodes []any
	env.waitFor("node allocated", 30*time.Second, func() bool {
		nodes = env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
		return len(nodes) == 1
	})
	time.Sleep(50 * time.Millisecond) // the fake clock stands still: the node must stay "creating"
	nodes = env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
	if len(nodes) != 1 || nodes[0].(map[string]any)["state"] != "creating" {
		t.Fatalf("nodes before the delay: %v", nodes)
	}
	clock.Advance(time.Hour)
	env.waitFor("node idle", 30*time.Second, func() bool {
		n := env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)[0].(map[string]any)
		return n["state"] == "idle" && n["lastBootTime"] != nil
	})
}

func TestRetentionAndJobWallClock(t *testing.T) {
	env, clock := newClockEnv(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"},
		"constraints": map[string]any{"maxWallClockTime": "PT3H"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "echo kept", "constraints": map[string]any{"retentionTime": "PT1H"}})
	env.waitTaskState("j", "t", "completed", 60*time.Second)
	env.must(200, "GET", "/jobs/j/tasks/t/files/stdout.txt", nil)
	clock.Advance(2 * time.Hour)
	env.waitFor("files cleaned up", 30*time.Second, func() bool {
		r := env.call("GET", "/jobs/j/tasks/t/files/stdout.txt", nil)
		return r.status == 409 && r.code() == wireerr.CodeTaskFilesCleanedup
	})
	if st := env.must(200, "GET", "/jobs/j", nil).json(t)["state"]; st != "active" {
		t.Fatalf("job %v before its maxWallClockTime", st)
	}
	clock.Advance(2 * time.Hour)
	env.waitFor("job terminated by its wall clock", 30*time.Second, func() bool {
		j := env.must(200, "GET", "/jobs/j", nil).json(t)
		return j["state"] == "completed" && lookupPath(j, "executionInfo/terminateReason") == "MaxWallClockTimeExpiry"
	})
}

func TestAutoScalePeriodicEvaluation(t *testing.T) {
	env, clock := newClockEnv(t, nil)
	env.must(http.StatusCreated, "POST", "/pools", autoscalePool("p", "$TargetDedicatedNodes = min(2, max($PendingTasks.GetSample(1)));", "PT5M"))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "a", "commandLine": "true"})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "b", "commandLine": "true"})
	time.Sleep(50 * time.Millisecond)
	if p := env.must(200, "GET", "/pools/p", nil).json(t); p["targetDedicatedNodes"] != 0.0 {
		t.Fatalf("pool resized before the evaluation interval: %v", p["targetDedicatedNodes"])
	}
	clock.Advance(5 * time.Minute)
	env.waitFor("autoscale to 2 nodes", 30*time.Second, func() bool {
		p := env.must(200, "GET", "/pools/p", nil).json(t)
		return p["targetDedicatedNodes"] == 2.0
	})
	run := env.must(200, "GET", "/pools/p", nil).json(t)["autoScaleRun"].(map[string]any)
	if run["timestamp"] != "2026-11-27T12:05:00.0000000Z" || run["results"] != "$TargetDedicatedNodes=2;$NodeDeallocationOption=requeue" {
		t.Errorf("autoScaleRun %v", run)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	env := startServer(t, &Options{Concurrency: 1})
	p := pool("p", 2)
	p["taskSlotsPerNode"] = 2
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	for _, id := range []string{"a", "b", "c"} {
		env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": id, "commandLine": "sleep 0.2"})
	}
	env.waitFor("all tasks done", 60*time.Second, func() bool {
		c := env.must(200, "GET", "/jobs/j/taskcounts", nil).json(t)
		if r := lookupPath(c, "taskCounts/running").(float64); r > 1 {
			t.Fatalf("%v tasks running with Concurrency 1", r)
		}
		return lookupPath(c, "taskCounts/succeeded") == 3.0
	})
}
