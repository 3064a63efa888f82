package batchemu

import (
	"net/http"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func TestProtocolHeaders(t *testing.T) {
	env := startServer(t, nil)
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
	etag := env.must(200, "GET", "/pools/p", nil).header.Get("ETag")
	tests := []struct {
		name       string
		method     string
		path       string
		hdr        map[string]string
		wantStatus int
		wantCode   string
		check      func(t *testing.T, r resp)
	}{
		{"client-request-id echoed on request", "GET", "/pools/p", map[string]string{"client-request-id": "abc", "return-client-request-id": "true"}, 200, "", func(t *testing.T, r resp) {
			if r.header.Get("client-request-id") != "abc" {
				t.Errorf("client-request-id %q", r.header.Get("client-request-id"))
			}
		}},
		{"client-request-id not echoed by default", "GET", "/pools/p", map[string]string{"client-request-id": "abc"}, 200, "", func(t *testing.T, r resp) {
			if r.header.Get("client-request-id") != "" {
				t.Errorf("client-request-id echoed without return-client-request-id")
			}
		}},
		{"If-None-Match current etag", "GET", "/pools/p", map[string]string{"If-None-Match": etag}, 304, "", nil},
		{"If-Match stale etag", "PATCH", "/pools/p", map[string]string{"If-Match": "0x8DEOLD"}, 412, wireerr.CodeConditionNotMet, nil},
		{"If-Match current etag", "PATCH", "/pools/p", map[string]string{"If-Match": etag}, 200, "", nil},
		{"unsupported verb on a known path", "PUT", "/pools/p", nil, 405, wireerr.CodeUnsupportedHTTPVerb, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "PATCH" || tc.method == "PUT" {
				body = map[string]any{}
			}
			r := env.callWith(tc.method, tc.path, body, tc.hdr)
			if r.status != tc.wantStatus || r.code() != tc.wantCode {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.code(), tc.wantStatus, tc.wantCode, r.body)
			}
			if r.header.Get("request-id") == "" {
				t.Errorf("no request-id header")
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestRemoveNodesAndReactivate(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 2, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	var nodes []any
	env.waitFor("2 nodes", 30*time.Second, func() bool {
		nodes = env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
		return len(nodes) == 2
	})
	id := nodes[0].(map[string]any)["id"].(string)
	env.waitFor("steady", 30*time.Second, func() bool {
		return env.must(200, "GET", "/pools/p", nil).json(t)["allocationState"] == "steady"
	})
	if r := env.call("POST", "/pools/p/removenodes", map[string]any{"nodeList": []string{"tvm-nope"}}); r.status != 404 || r.code() != wireerr.CodeNodeNotFound {
		t.Errorf("unknown node: %d %s", r.status, r.body)
	}
	env.must(http.StatusAccepted, "POST", "/pools/p/removenodes", map[string]any{"nodeList": []string{id}})
	env.waitFor("node removed", 30*time.Second, func() bool {
		p := env.must(200, "GET", "/pools/p", nil).json(t)
		return p["currentDedicatedNodes"] == 1.0 && p["targetDedicatedNodes"] == 1.0 && p["allocationState"] == "steady"
	})
	if r := env.call("GET", "/pools/p/nodes/"+id, nil); r.status != 404 {
		t.Errorf("removed node still there: %d", r.status)
	}

	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "flaky", "commandLine": `/bin/sh -c "test -f $AZ_BATCH_NODE_SHARED_DIR/ok || { touch $AZ_BATCH_NODE_SHARED_DIR/ok; exit 2; }"`})
	if task := env.waitTaskState("j", "flaky", "completed", 60*time.Second); lookupPath(task, "executionInfo/result") != "failure" {
		t.Fatalf("first run: %v", task["executionInfo"])
	}
	env.must(http.StatusNoContent, "POST", "/jobs/j/tasks/flaky/reactivate", nil)
	task := env.waitTaskState("j", "flaky", "completed", 60*time.Second)
	if lookupPath(task, "executionInfo/result") != "success" || lookupPath(task, "executionInfo/retryCount") != 0.0 {
		t.Errorf("after reactivate: %v", task["executionInfo"])
	}
	if r := env.call("POST", "/jobs/j/tasks/flaky/reactivate", nil); r.status != 409 {
		t.Errorf("reactivate of a succeeded task: %d %s", r.status, r.body)
	}
}

func TestJobDisableEnable(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/pools", pool("other", 1))
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "long", "commandLine": "sleep 30"})
	env.waitTaskState("j", "long", "running", 60*time.Second)
	if r := env.call("POST", "/jobs/j/disable", map[string]any{"disableTasks": "sideways"}); r.status != 400 || r.code() != wireerr.CodeInvalidPropertyValue {
		t.Errorf("bad disableTasks: %d %s", r.status, r.body)
	}
	env.must(http.StatusAccepted, "POST", "/jobs/j/disable", map[string]any{"disableTasks": "requeue"})
	env.waitFor("job disabled", 30*time.Second, func() bool {
		return env.must(200, "GET", "/jobs/j", nil).json(t)["state"] == "disabled"
	})
	task := env.task("j", "long")
	if task["state"] != "active" || lookupPath(task, "executionInfo/requeueCount") != 1.0 {
		t.Errorf("task after disable/requeue: %v", task)
	}
	// Tasks can be added to a disabled job; nothing runs until it is enabled.
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "quick", "commandLine": `/bin/sh -c "echo $AZ_BATCH_POOL_ID"`})
	env.must(http.StatusOK, "PATCH", "/jobs/j", map[string]any{"poolInfo": map[string]any{"poolId": "other"}})
	env.must(http.StatusNoContent, "POST", "/jobs/j/tasks/long/terminate", nil)
	time.Sleep(50 * time.Millisecond)
	if st := env.task("j", "quick")["state"]; st != "active" {
		t.Fatalf("task of a disabled job is %v", st)
	}
	if r := env.call("POST", "/jobs/j/disable", map[string]any{"disableTasks": "wait"}); r.status != 409 {
		t.Errorf("disable a disabled job: %d %s", r.status, r.body)
	}
	env.must(http.StatusAccepted, "POST", "/jobs/j/enable", nil)
	env.waitTaskState("j", "quick", "completed", 60*time.Second)
	out := env.must(200, "GET", "/jobs/j/tasks/quick/files/stdout.txt", nil)
	if string(out.body) != "other\n" {
		t.Errorf("task ran on pool %q, want other (poolInfo patched while disabled)", out.body)
	}
	if r := env.call("POST", "/jobs/j/enable", nil); r.status != 409 {
		t.Errorf("enable an active job: %d", r.status)
	}
}

func TestNodeAndTaskFiles(t *testing.T) {
	env := startServer(t, nil)
	p := pool("p", 1)
	p["startTask"] = map[string]any{"commandLine": "echo started", "waitForSuccess": true}
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": `/bin/sh -c "mkdir -p sub && echo x > sub/f.txt"`})
	task := env.waitTaskState("j", "t", "completed", 60*time.Second)
	node := lookupPath(task, "nodeInfo/nodeId").(string)
	out := env.must(200, "GET", "/pools/p/nodes/"+node+"/files/startup/stdout.txt", nil)
	if string(out.body) != "started\n" {
		t.Errorf("start task stdout %q", out.body)
	}
	files := env.must(200, "GET", "/pools/p/nodes/"+node+"/files?recursive=true&$filter="+"startswith(name,'workitems')", nil).json(t)["value"].([]any)
	found := false
	for _, f := range files {
		found = found || f.(map[string]any)["name"] == "workitems/j/job-1/t/wd/sub/f.txt"
	}
	if !found {
		t.Errorf("recursive node listing lacks the task file: %v", files)
	}
	if r := env.call("DELETE", "/jobs/j/tasks/t/files/wd/sub", nil); r.status != 409 {
		t.Errorf("delete directory without recursive: %d %s", r.status, r.body)
	}
	env.must(http.StatusOK, "DELETE", "/jobs/j/tasks/t/files/wd/sub?recursive=true", nil)
	if r := env.call("GET", "/jobs/j/tasks/t/files/wd/sub/f.txt", nil); r.status != 404 {
		t.Errorf("deleted file still served: %d", r.status)
	}
	if r := env.call("GET", "/jobs/j/tasks/t/files/../../../etc/passwd", nil); r.status < 400 {
		t.Errorf("path traversal served: %d", r.status)
	}
	rng := env.callWith("GET", "/pools/p/nodes/"+node+"/files/startup/stdout.txt", nil, map[string]string{"ocp-range": "bytes=0-3"})
	if rng.status != http.StatusPartialContent || string(rng.body) != "star" {
		t.Errorf("ocp-range: %d %q", rng.status, rng.body)
	}
}
