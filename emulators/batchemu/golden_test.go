package batchemu

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	etagRE   = regexp.MustCompile(`0x8DE[0-9A-F]{12}`)
	nodeIDRE = regexp.MustCompile(`tvm-[0-9]+_[0-9]+-[0-9]{8}t[0-9]{6}z`)
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestWireShapesGolden pins the JSON the emulator returns for each entity,
// with a fixed clock and a fake runner so every value is deterministic.
func TestWireShapesGolden(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 48, 55, 123456700, time.UTC)}
	env := startServer(t, &Options{Now: clock.Now, runner: &fakeRunner{}})
	p := pool("p1", 1)
	p["startTask"] = map[string]any{"commandLine": "/bin/sh -c 'echo start'", "maxTaskRetryCount": 1}
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j1", "poolInfo": map[string]any{"poolId": "p1"}, "priority": 5})
	env.must(http.StatusCreated, "POST", "/jobs/j1/tasks", map[string]any{
		"id": "t1", "commandLine": "/bin/sh -c \"echo hi\"",
		"resourceFiles": []any{map[string]any{"httpUrl": "http://127.0.0.1:10000/devstoreaccount1/input/a.mp4", "filePath": "a.mp4"}},
		"outputFiles": []any{map[string]any{"filePattern": "*.mp3", "destination": map[string]any{"container": map[string]any{"containerUrl": "http://127.0.0.1:10000/devstoreaccount1/output"}},
			"uploadOptions": map[string]any{"uploadCondition": "tasksuccess"}}},
		"environmentSettings": []any{map[string]any{"name": "A", "value": "b"}},
	})
	env.waitTaskState("j1", "t1", "completed", 60*time.Second)
	nodes := env.must(200, "GET", "/pools/p1/nodes", nil).json(t)["value"].([]any)
	node := nodes[0].(map[string]any)["id"].(string)
	for _, tc := range []struct{ name, path string }{
		{"pool", "/pools/p1"},
		{"node", "/pools/p1/nodes/" + node},
		{"job", "/jobs/j1"},
		{"task", "/jobs/j1/tasks/t1"},
		{"taskcounts", "/jobs/j1/taskcounts"},
		{"error", "/jobs/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.call("GET", tc.path, nil)
			got := normalize(t, r.body, env.base)
			file := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n got: %s\nwant: %s", tc.path, file, got, want)
			}
		})
	}
}

// normalize pretty-prints a body and replaces the per-run parts (port,
// request id, node id) with placeholders.
func normalize(t *testing.T, body []byte, base string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(out), base, "{base}")
	// eTags and node ids carry a sequence number that depends on how HTTP
	// requests and scheduler passes interleave.
	s = etagRE.ReplaceAllString(s, "{etag}")
	s = nodeIDRE.ReplaceAllString(s, "{node}")
	if i := strings.Index(s, "RequestId:"); i >= 0 {
		s = s[:i+len("RequestId:")] + "{request-id}" + s[i+len("RequestId:")+36:]
	}
	return []byte(s + "\n")
}
