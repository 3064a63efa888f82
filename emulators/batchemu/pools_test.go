package batchemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func TestPoolLifecycle(t *testing.T) {
	env := startServer(t, nil)
	r := env.must(http.StatusCreated, "POST", "/pools", pool("p1", 2))
	if r.header.Get("ETag") == "" || r.header.Get("DataServiceId") != env.base+"/pools/p1" || r.header.Get("Last-Modified") == "" || r.header.Get("request-id") == "" {
		t.Errorf("missing entity headers: %v", r.header)
	}
	env.waitFor("2 idle nodes", 30*time.Second, func() bool {
		p := env.must(http.StatusOK, "GET", "/pools/p1", nil).json(t)
		idle := env.must(http.StatusOK, "GET", "/pools/p1/nodes?$filter=state%20eq%20'idle'", nil).json(t)["value"].([]any)
		return p["allocationState"] == "steady" && p["currentDedicatedNodes"] == 2.0 && len(idle) == 2
	})
	p := env.must(http.StatusOK, "GET", "/pools/p1", nil).json(t)
	for _, k := range []string{"url", "eTag", "lastModified", "creationTime", "stateTransitionTime", "allocationStateTransitionTime"} {
		if p[k] == nil {
			t.Errorf("pool has no %s: %v", k, p)
		}
	}
	if ct := p["creationTime"].(string); len(ct) != len("2025-01-02T03:04:05.1234567Z") {
		t.Errorf("creationTime %q is not RFC 3339 with 7 fractional digits", ct)
	}
	if p["resizeTimeout"] != "PT15M" || p["taskSlotsPerNode"] != 1.0 {
		t.Errorf("defaults: resizeTimeout %v taskSlotsPerNode %v", p["resizeTimeout"], p["taskSlotsPerNode"])
	}
	nodes := env.must(http.StatusOK, "GET", "/pools/p1/nodes", nil).json(t)["value"].([]any)
	if len(nodes) != 2 {
		t.Fatalf("got %d nodes, want 2", len(nodes))
	}
	n0 := nodes[0].(map[string]any)
	if id := n0["id"].(string); !strings.HasPrefix(id, "tvm-") || !strings.HasSuffix(id, "z") || n0["state"] != "idle" {
		t.Errorf("node %v", n0)
	}
	env.must(http.StatusOK, "GET", "/pools/p1/nodes/"+n0["id"].(string), nil)
	if r := env.call("GET", "/pools/p1/nodes/nope", nil); r.status != 404 || r.code() != wireerr.CodeNodeNotFound {
		t.Errorf("missing node: %d %s", r.status, r.code())
	}

	env.must(http.StatusOK, "HEAD", "/pools/p1", nil)
	if r := env.call("HEAD", "/pools/nope", nil); r.status != 404 || len(r.body) != 0 {
		t.Errorf("HEAD missing pool: %d %q", r.status, r.body)
	}
	env.must(http.StatusOK, "PATCH", "/pools/p1", map[string]any{"metadata": []any{map[string]any{"name": "a", "value": "b"}}})
	if md := env.must(200, "GET", "/pools/p1", nil).json(t)["metadata"]; md == nil {
		t.Errorf("patch did not set metadata")
	}
	if r := env.call("POST", "/pools/p1/updateproperties", map[string]any{"metadata": []any{}}); r.status != 400 || r.code() != wireerr.CodeMissingRequiredProperty {
		t.Errorf("updateproperties without the required lists: %d %s", r.status, r.body)
	}
	env.must(http.StatusNoContent, "POST", "/pools/p1/updateproperties", map[string]any{
		"certificateReferences": []any{}, "applicationPackageReferences": []any{}, "metadata": []any{},
		"startTask": map[string]any{"commandLine": "true"},
	})
	if p := env.must(200, "GET", "/pools/p1", nil).json(t); p["metadata"] != nil || lookupPath(p, "startTask/commandLine") != "true" {
		t.Errorf("after updateproperties: metadata %v startTask %v", p["metadata"], p["startTask"])
	}
	env.must(http.StatusAccepted, "POST", "/pools/p1/resize", map[string]any{"targetDedicatedNodes": 1, "nodeDeallocationOption": "terminate"})
	env.waitFor("shrink to 1", 30*time.Second, func() bool {
		p := env.must(200, "GET", "/pools/p1", nil).json(t)
		return p["allocationState"] == "steady" && p["currentDedicatedNodes"] == 1.0
	})
	list := env.must(200, "GET", "/pools?$select=id,state", nil).json(t)["value"].([]any)
	if len(list) != 1 || len(list[0].(map[string]any)) != 2 {
		t.Errorf("list with $select: %v", list)
	}
	env.must(http.StatusAccepted, "DELETE", "/pools/p1", nil)
	if r := env.call("PATCH", "/pools/p1", map[string]any{}); r.status != 409 && r.status != 404 {
		t.Errorf("patch deleting pool: %d %s", r.status, r.body)
	} else if r.status == 409 && r.code() != wireerr.CodePoolBeingDeleted {
		t.Errorf("patch deleting pool: code %s", r.code())
	}
	env.waitFor("pool gone", 30*time.Second, func() bool { return env.call("GET", "/pools/p1", nil).status == 404 })
}

func TestPoolErrors(t *testing.T) {
	env := startServer(t, &Options{AutoScaleMinInterval: time.Minute})
	env.must(http.StatusCreated, "POST", "/pools", pool("dup", 0))
	bad := func(mut func(m map[string]any)) map[string]any {
		m := pool("px", 0)
		mut(m)
		return m
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"exists (case-insensitive)", pool("DUP", 0), 409, wireerr.CodePoolExists},
		{"invalid id", pool("bad id!", 0), 400, wireerr.CodeInvalidPropertyValue},
		{"id too long", pool(strings.Repeat("a", 65), 0), 400, wireerr.CodeInvalidPropertyValue},
		{"missing id", bad(func(m map[string]any) { delete(m, "id") }), 400, wireerr.CodeMissingRequiredProperty},
		{"missing vmSize", bad(func(m map[string]any) { delete(m, "vmSize") }), 400, wireerr.CodeMissingRequiredProperty},
		{"missing targets", bad(func(m map[string]any) { delete(m, "targetDedicatedNodes") }), 400, wireerr.CodeMissingRequiredProperty},
		{"negative target", bad(func(m map[string]any) { m["targetDedicatedNodes"] = -1 }), 400, wireerr.CodeInvalidPropertyValue},
		{"wrong JSON type", bad(func(m map[string]any) { m["targetDedicatedNodes"] = "two" }), 400, wireerr.CodeInvalidPropertyValue},
		{"slots out of range", bad(func(m map[string]any) { m["taskSlotsPerNode"] = 300 }), 400, wireerr.CodeInvalidPropertyValue},
		{"resize timeout too short", bad(func(m map[string]any) { m["resizeTimeout"] = "PT1M" }), 400, wireerr.CodeInvalidPropertyValue},
		{"autoscale with targets", bad(func(m map[string]any) {
			m["enableAutoScale"] = true
			m["autoScaleFormula"] = "$TargetDedicatedNodes=1;"
		}), 400, wireerr.CodeInvalidAutoScalingSettings},
		{"autoscale without formula", bad(func(m map[string]any) { delete(m, "targetDedicatedNodes"); m["enableAutoScale"] = true }), 400, wireerr.CodeMissingRequiredProperty},
		{"autoscale syntax error", bad(func(m map[string]any) {
			delete(m, "targetDedicatedNodes")
			m["enableAutoScale"] = true
			m["autoScaleFormula"] = "$TargetDedicatedNodes = ;"
		}), 400, wireerr.CodeAutoScalingFormulaSyntaxError},
		{"autoscale interval below minimum", bad(func(m map[string]any) {
			delete(m, "targetDedicatedNodes")
			m["enableAutoScale"] = true
			m["autoScaleFormula"] = "$TargetDedicatedNodes=0;"
			m["autoScaleEvaluationInterval"] = "PT30S"
		}), 400, wireerr.CodeInvalidPropertyValue},
		{"start task without command line", bad(func(m map[string]any) { m["startTask"] = map[string]any{"waitForSuccess": true} }), 400, wireerr.CodeMissingRequiredProperty},
		{"containers unsupported", bad(func(m map[string]any) { m["mountConfiguration"] = []any{} }), 400, wireerr.CodeUnsupportedProperty},
		{"bad JSON", "{not json", 400, wireerr.CodeInvalidRequestBody},
		{"empty body", "", 400, wireerr.CodeInvalidRequestBody},
		{"body too large", `{"id":"big","displayName":"` + strings.Repeat("x", 1<<20) + `"}`, 413, wireerr.CodeRequestBodyTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.call("POST", "/pools", tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(), tc.status, tc.code, r.body)
			}
		})
	}
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"get missing pool", "GET", "/pools/nope", 404, wireerr.CodePoolNotFound},
		{"delete missing pool", "DELETE", "/pools/nope", 404, wireerr.CodePoolNotFound},
		{"resize missing pool", "POST", "/pools/nope/resize", 404, wireerr.CodePoolNotFound},
		{"unknown route", "GET", "/certificates", 404, wireerr.CodeResourceNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "POST" {
				body = map[string]any{"targetDedicatedNodes": 1}
			}
			r := env.call(tc.method, tc.path, body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.code(), tc.status, tc.code)
			}
		})
	}
}

func TestPoolNodeQuota(t *testing.T) {
	env := startServer(t, &Options{maxPoolNodes: 3})
	p := pool("p", 2)
	p["targetLowPriorityNodes"] = 5
	env.must(http.StatusCreated, "POST", "/pools", p)
	var got map[string]any
	env.waitFor("steady at the quota", 30*time.Second, func() bool {
		got = env.must(200, "GET", "/pools/p", nil).json(t)
		return got["allocationState"] == "steady"
	})
	if got["currentDedicatedNodes"] != 2.0 || got["currentLowPriorityNodes"] != 1.0 || got["targetLowPriorityNodes"] != 5.0 {
		t.Errorf("pool at quota: current %v+%v, targets %v+%v", got["currentDedicatedNodes"], got["currentLowPriorityNodes"], got["targetDedicatedNodes"], got["targetLowPriorityNodes"])
	}
	if code := lookupPath(got, "resizeErrors"); code == nil || lookupPath(got["resizeErrors"].([]any)[0].(map[string]any), "code") != "AccountCoreQuotaReached" {
		t.Errorf("resizeErrors %v", got["resizeErrors"])
	}
}

func TestResizeConflicts(t *testing.T) {
	env := startServer(t, &Options{NodeStartDelay: time.Hour})
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 1))
	// Nodes take an hour to allocate, so the pool stays "resizing".
	if p := env.must(200, "GET", "/pools/p", nil).json(t); p["allocationState"] != "resizing" {
		t.Fatalf("allocationState %v, want resizing", p["allocationState"])
	}
	if r := env.call("POST", "/pools/p/resize", map[string]any{"targetDedicatedNodes": 3}); r.status != 409 || r.code() != wireerr.CodePoolBeingResized {
		t.Fatalf("resize while resizing: %d %s, want 409 PoolBeingResized", r.status, r.body)
	}
	env.must(http.StatusAccepted, "POST", "/pools/p/stopresize", nil)
	env.waitFor("steady after stopresize", 30*time.Second, func() bool {
		return env.must(200, "GET", "/pools/p", nil).json(t)["allocationState"] == "steady"
	})
	nodes := env.must(200, "GET", "/pools/p/nodes", nil).json(t)["value"].([]any)
	for _, n := range nodes {
		if st := n.(map[string]any)["state"]; st != "creating" {
			t.Errorf("node state %v, want creating (NodeStartDelay 1h)", st)
		}
	}
	// Autoscale-enabled pools refuse manual resizes.
	as := pool("asp", 0)
	delete(as, "targetDedicatedNodes")
	as["enableAutoScale"] = true
	as["autoScaleFormula"] = "$TargetDedicatedNodes=0;"
	env.must(http.StatusCreated, "POST", "/pools", as)
	if r := env.call("POST", "/pools/asp/resize", map[string]any{"targetDedicatedNodes": 1}); r.status != 409 {
		t.Errorf("resize of autoscale pool: %d %s, want 409", r.status, r.body)
	}
}
