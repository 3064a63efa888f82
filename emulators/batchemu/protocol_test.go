package batchemu

import (
	"net/http"
	"testing"
	"time"
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
		{"If-Match stale etag", "PATCH", "/pools/p", map[string]string{"If-Match": "0x8DEOLD"}, 412, codeConditionNotMet, nil},
		{"If-Match current etag", "PATCH", "/pools/p", map[string]string{"If-Match": etag}, 200, "", nil},
		{"unsupported verb on a known path", "PUT", "/pools/p", nil, 405, codeUnsupportedHTTPVerb, nil},
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
	env.waitFor("2 nodes", 5*time.Second, func() bool {
		nodes = env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
		return len(nodes) == 2
	})
	id := nodes[0].(map[string]any)["id"].(string)
	env.waitFor("steady", 5*time.Second, func() bool {
		return env.must(200, "GET", "/pools/p", nil).json(t)["allocationState"] == "steady"
	})
	if r := env.call("POST", "/pools/p/removenodes", map[string]any{"nodeList": []string{"tvm-nope"}}); r.status != 404 || r.code() != codeNodeNotFound {
		t.Errorf("unknown node: %d %s", r.status, r.body)
	}
	env.must(http.StatusAccepted, "POST", "/pools/p/removenodes", map[string]any{"nodeList": []string{id}})
	env.waitFor("node removed", 5*time.Second, func() bool {
		p := env.must(200, "GET", "/pools/p", nil).json(t)
		return p["currentDedicatedNodes"] == 1.0 && p["targetDedicatedNodes"] == 1.0 && p["allocationState"] == "steady"
	})
	if r := env.call("GET", "/pools/p/nodes/"+id, nil); r.status != 404 {
		t.Errorf("removed node still there: %d", r.status)
	}

	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "flaky", "commandLine": `/bin/sh -c "test -f $AZ_BATCH_NODE_SHARED_DIR/ok || { touch $AZ_BATCH_NODE_SHARED_DIR/ok; exit 2; }"`})
	if task := env.waitTaskState("j", "flaky", "completed", 10*time.Second); lookupPath(task, "executionInfo/result") != "failure" {
		t.Fatalf("first run: %v", task["executionInfo"])
	}
	env.must(http.StatusNoContent, "POST", "/jobs/j/tasks/flaky/reactivate", nil)
	task := env.waitTaskState("j", "flaky", "completed", 10*time.Second)
	if lookupPath(task, "executionInfo/result") != "success" || lookupPath(task, "executionInfo/retryCount") != 0.0 {
		t.Errorf("after reactivate: %v", task["executionInfo"])
	}
	if r := env.call("POST", "/jobs/j/tasks/flaky/reactivate", nil); r.status != 409 {
		t.Errorf("reactivate of a succeeded task: %d %s", r.status, r.body)
	}
}
