package batchemu

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func TestStartTaskGatesScheduling(t *testing.T) {
	env := startServer(t, nil)
	p := pool("p", 1)
	p["startTask"] = map[string]any{
		"commandLine":    `/bin/sh -c "sleep 0.3; touch $AZ_BATCH_NODE_SHARED_DIR/ready; test -z \"$AZ_BATCH_TASK_ID\""`,
		"waitForSuccess": true,
	}
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": `/bin/sh -c "test -f $AZ_BATCH_NODE_SHARED_DIR/ready"`})
	sawWaiting := false
	env.waitFor("task completed", 60*time.Second, func() bool {
		nodes := env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
		if len(nodes) == 1 && nodes[0].(map[string]any)["state"] == "waitingforstarttask" {
			sawWaiting = true
		}
		return env.task("j", "t")["state"] == "completed"
	})
	if !sawWaiting {
		t.Errorf("never saw the node in waitingforstarttask")
	}
	task := env.task("j", "t")
	if lookupPath(task, "executionInfo/result") != "success" {
		t.Errorf("task ran before the start task finished: %v", task["executionInfo"])
	}
	node := env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)[0].(map[string]any)
	if lookupPath(node, "startTaskInfo/result") != "success" || lookupPath(node, "startTaskInfo/exitCode") != 0.0 {
		t.Errorf("startTaskInfo %v", node["startTaskInfo"])
	}
	started, _ := time.Parse(time.RFC3339Nano, lookupPath(task, "executionInfo/startTime").(string))
	ended, _ := time.Parse(time.RFC3339Nano, lookupPath(node, "startTaskInfo/endTime").(string))
	if started.Before(ended) {
		t.Errorf("task started at %v, before the start task ended at %v", started, ended)
	}
}

func TestStartTaskFailureMakesNodeUnusable(t *testing.T) {
	env := startServer(t, nil)
	p := pool("p", 1)
	p["startTask"] = map[string]any{"commandLine": "/bin/false", "waitForSuccess": true, "maxTaskRetryCount": 2}
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
	var node map[string]any
	env.waitFor("starttaskfailed", 60*time.Second, func() bool {
		nodes := env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
		if len(nodes) == 0 {
			return false
		}
		node = nodes[0].(map[string]any)
		return node["state"] == "starttaskfailed"
	})
	sti := node["startTaskInfo"].(map[string]any)
	if sti["retryCount"] != 2.0 || sti["result"] != "failure" || sti["exitCode"] != 1.0 || lookupPath(sti, "failureInfo/code") != "FailureExitCode" {
		t.Errorf("startTaskInfo %v", sti)
	}
	time.Sleep(50 * time.Millisecond)
	if st := env.task("j", "t")["state"]; st != "active" {
		t.Errorf("task scheduled on an unusable node: %v", st)
	}
}

func TestRestartRequeuesRunningTasks(t *testing.T) {
	dir := t.TempDir()
	srv, err := NewServer(&Options{DataDir: dir, tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{t: t, srv: srv, now: srv.now}
	env.base = serve(t, srv)
	p := pool("p", 1)
	p["taskSlotsPerNode"] = 2
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "slow", "commandLine": `/bin/sh -c "test -f $AZ_BATCH_NODE_SHARED_DIR/again || { touch $AZ_BATCH_NODE_SHARED_DIR/again; sleep 30; }"`})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "done", "commandLine": "true"})
	env.waitTaskState("j", "done", "completed", 60*time.Second)
	env.waitTaskState("j", "slow", "running", 60*time.Second)
	env.waitFor("first attempt started", 60*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "nodes", "p", "*", "shared", "again"))
		return len(m) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}

	srv2, err := NewServer(&Options{DataDir: dir, tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv2.Close(context.Background()) })
	env2 := &testEnv{t: t, srv: srv2, now: srv2.now}
	env2.base = serve(t, srv2)
	if r := env2.call("GET", "/pools/p", nil); r.status != 200 {
		t.Fatalf("pool lost across restart: %d", r.status)
	}
	if d := env2.task("j", "done"); d["state"] != "completed" || lookupPath(d, "executionInfo/requeueCount") != 0.0 {
		t.Errorf("completed task changed: %v", d)
	}
	task := env2.waitTaskState("j", "slow", "completed", 60*time.Second)
	ei := task["executionInfo"].(map[string]any)
	if ei["requeueCount"] != 1.0 || ei["lastRequeueTime"] == nil || ei["result"] != "success" {
		t.Errorf("executionInfo after restart %v", ei)
	}
	if r := env2.call("POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}}); r.code() != wireerr.CodeJobExists {
		t.Errorf("job lost: %d %s", r.status, r.code())
	}
}

// serve runs srv on a loopback listener and returns its base URL.
func serve(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String()
}

func TestRestartPreservesState(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Server, *testEnv) {
		srv, err := NewServer(&Options{DataDir: dir, tick: 5 * time.Millisecond, AutoScaleMinInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		env := &testEnv{t: t, srv: srv, now: srv.now}
		env.base = serve(t, srv)
		return srv, env
	}
	closeSrv := func(srv *Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	srv, env := open()
	env.must(http.StatusCreated, "POST", "/pools", autoscalePool("asp", "$TargetDedicatedNodes=1;", "PT1M"))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "asp"}, "priority": 7})
	env.must(http.StatusAccepted, "POST", "/jobs/j/disable", map[string]any{"disableTasks": "wait"})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
	var node string
	env.waitFor("node allocated", 30*time.Second, func() bool {
		nodes := env.must(200, "GET", "/pools/asp/nodes", nil).json(t)["value"].([]any)
		if len(nodes) == 1 {
			node = nodes[0].(map[string]any)["id"].(string)
		}
		return node != ""
	})
	env.waitFor("job disabled", 30*time.Second, func() bool {
		return env.must(200, "GET", "/jobs/j", nil).json(t)["state"] == "disabled"
	})
	before := env.must(200, "GET", "/jobs/j/tasks/t", nil).header.Get("ETag")
	closeSrv(srv)

	srv2, env2 := open()
	defer closeSrv(srv2)
	p := env2.must(200, "GET", "/pools/asp", nil).json(t)
	if p["enableAutoScale"] != true || p["autoScaleFormula"] != "$TargetDedicatedNodes=1;" || p["autoScaleEvaluationInterval"] != "PT1M" {
		t.Errorf("autoscale settings lost: %v", p)
	}
	j := env2.must(200, "GET", "/jobs/j", nil).json(t)
	if j["state"] != "disabled" || j["priority"] != 7.0 {
		t.Errorf("job after restart: state %v priority %v", j["state"], j["priority"])
	}
	if got := env2.must(200, "GET", "/jobs/j/tasks/t", nil).header.Get("ETag"); got != before {
		t.Errorf("task eTag changed across restart: %s -> %s", before, got)
	}
	env2.must(http.StatusOK, "POST", "/pools/asp/disableautoscale", nil)
	env2.must(http.StatusAccepted, "POST", "/pools/asp/resize", map[string]any{"targetDedicatedNodes": 2})
	env2.waitFor("second node", 30*time.Second, func() bool {
		return len(env2.must(200, "GET", "/pools/asp/nodes", nil).json(t)["value"].([]any)) == 2
	})
	for _, n := range env2.must(200, "GET", "/pools/asp/nodes", nil).json(t)["value"].([]any) {
		id := n.(map[string]any)["id"].(string)
		if id == node {
			continue
		}
		if nodeSeq(t, id) <= nodeSeq(t, node) {
			t.Errorf("node id %s reuses a sequence number at or below %s", id, node)
		}
	}
	env2.must(http.StatusAccepted, "POST", "/jobs/j/enable", nil)
	env2.waitTaskState("j", "t", "completed", 60*time.Second)
}

// nodeSeq extracts <i> from a node id tvm-<n>_<i>-<timestamp>z.
func nodeSeq(t *testing.T, id string) int {
	t.Helper()
	_, rest, _ := strings.Cut(id, "_")
	seq, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(seq)
	if err != nil {
		t.Fatalf("node id %q: %v", id, err)
	}
	return n
}
