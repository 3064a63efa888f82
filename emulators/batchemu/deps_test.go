package batchemu

import (
	"net/http"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func TestTaskDependencies(t *testing.T) {
	env := startServer(t, &Options{Concurrency: 4})
	p := pool("p", 1)
	p["taskSlotsPerNode"] = 4
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "plain", "poolInfo": map[string]any{"poolId": "p"}})
	if r := env.call("POST", "/jobs/plain/tasks", map[string]any{"id": "x", "commandLine": "true", "dependsOn": map[string]any{"taskIds": []string{"a"}}}); r.status != 400 || r.code() != "TaskDependenciesNotSpecifiedOnJob" {
		t.Errorf("dependsOn on a job without dependencies: %d %s", r.status, r.body)
	}
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "usesTaskDependencies": true, "poolInfo": map[string]any{"poolId": "p"}})
	shared := "$AZ_BATCH_NODE_SHARED_DIR"
	env.must(200, "POST", "/jobs/j/addtaskcollection", map[string]any{"value": []any{
		map[string]any{"id": "after", "commandLine": `/bin/sh -c "test -f ` + shared + `/a && test -f ` + shared + `/1 && test -f ` + shared + `/2"`,
			"dependsOn": map[string]any{"taskIds": []string{"a"}, "taskIdRanges": []any{map[string]any{"start": 1, "end": 2}}}},
		map[string]any{"id": "a", "commandLine": `/bin/sh -c "sleep 0.2; touch ` + shared + `/a"`},
		map[string]any{"id": "1", "commandLine": `/bin/sh -c "touch ` + shared + `/1"`},
		map[string]any{"id": "2", "commandLine": `/bin/sh -c "sleep 0.1; touch ` + shared + `/2"`},
		map[string]any{"id": "bad", "commandLine": "false"},
		map[string]any{"id": "blocked", "commandLine": "true", "dependsOn": map[string]any{"taskIds": []string{"bad"}}},
		map[string]any{"id": "badrange", "commandLine": "true", "dependsOn": map[string]any{"taskIdRanges": []any{map[string]any{"start": 5, "end": 2}}}},
	}})
	task := env.waitTaskState("j", "after", "completed", 60*time.Second)
	if lookupPath(task, "executionInfo/result") != "success" || lookupPath(task, "dependsOn/taskIds") == nil {
		t.Errorf("dependent task: %v", task)
	}
	env.waitTaskState("j", "bad", "completed", 60*time.Second)
	time.Sleep(100 * time.Millisecond)
	if st := env.task("j", "blocked")["state"]; st != "active" {
		t.Errorf("task depending on a failed task is %v, want active (blocked)", st)
	}
	if r := env.call("GET", "/jobs/j/tasks/badrange", nil); r.status != 404 {
		t.Errorf("task with an invalid range was added: %d", r.status)
	}
}

func TestExitConditions(t *testing.T) {
	env := startServer(t, &Options{Concurrency: 4})
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 1))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "plain", "poolInfo": map[string]any{"poolId": "p"}})
	terminateOn3 := map[string]any{"exitCodes": []any{map[string]any{"code": 3, "exitOptions": map[string]any{"jobAction": "terminate"}}}}
	if r := env.call("POST", "/jobs/plain/tasks", map[string]any{"id": "x", "commandLine": "true", "exitConditions": terminateOn3}); r.status != 400 || r.code() != wireerr.CodeInvalidPropertyValue {
		t.Errorf("jobAction on a noaction job: %d %s", r.status, r.body)
	}
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"},
		"usesTaskDependencies": true, "onTaskFailure": "performExitOptionsJobAction"})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "soft", "commandLine": `/bin/sh -c "exit 3"`,
		"exitConditions": map[string]any{"exitCodeRanges": []any{map[string]any{"start": 1, "end": 9, "exitOptions": map[string]any{"jobAction": "none", "dependencyAction": "Satisfy"}}}}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "after", "commandLine": "true", "dependsOn": map[string]any{"taskIds": []string{"soft"}}})
	task := env.waitTaskState("j", "after", "completed", 60*time.Second)
	if lookupPath(task, "executionInfo/result") != "success" {
		t.Errorf("dependent of a satisfying failure: %v", task["executionInfo"])
	}
	if lookupPath(env.task("j", "soft"), "exitConditions/exitCodeRanges") == nil {
		t.Errorf("exitConditions not echoed")
	}
	if st := env.must(200, "GET", "/jobs/j", nil).json(t)["state"]; st != "active" {
		t.Fatalf("job %v after a failure with jobAction none", st)
	}
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "hard", "commandLine": `/bin/sh -c "exit 4"`})
	env.waitFor("job terminated by the failure", 60*time.Second, func() bool {
		j := env.must(200, "GET", "/jobs/j", nil).json(t)
		return j["state"] == "completed" && lookupPath(j, "executionInfo/terminateReason") == "TaskFailed"
	})
}

func TestAffinityInfo(t *testing.T) {
	env := startServer(t, &Options{Concurrency: 4})
	p := pool("p", 3)
	p["taskSlotsPerNode"] = 4
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	var nodes []any
	env.waitFor("3 idle nodes", 60*time.Second, func() bool {
		nodes = env.must(200, "GET", "/pools/p/nodes?$filter=state%20eq%20'idle'", nil).json(t)["value"].([]any)
		return len(nodes) == 3
	})
	want := nodes[2].(map[string]any)
	for _, id := range []string{"a", "b", "c"} {
		env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": id, "commandLine": "true",
			"affinityInfo": map[string]any{"affinityId": want["affinityId"]}})
		task := env.waitTaskState("j", id, "completed", 60*time.Second)
		if got := lookupPath(task, "nodeInfo/nodeId"); got != want["id"] {
			t.Errorf("task %s ran on %v, want the affinity node %v", id, got, want["id"])
		}
	}
	if r := env.call("POST", "/jobs/j/tasks", map[string]any{"id": "x", "commandLine": "true", "affinityInfo": map[string]any{}}); r.status != 400 {
		t.Errorf("affinityInfo without affinityId: %d", r.status)
	}
}
