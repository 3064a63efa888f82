package batchemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func TestJobPreparationAndRelease(t *testing.T) {
	env := startServer(t, &Options{Concurrency: 4})
	p := pool("p", 2)
	env.must(http.StatusCreated, "POST", "/pools", p)
	job := map[string]any{
		"id": "j", "poolInfo": map[string]any{"poolId": "p"},
		"jobPreparationTask": map[string]any{"commandLine": `/bin/sh -c "echo prepared > prep.txt; echo x >> $AZ_BATCH_NODE_SHARED_DIR/preps"`},
		"jobReleaseTask":     map[string]any{"commandLine": `/bin/sh -c "echo released > $AZ_BATCH_NODE_SHARED_DIR/released"`},
	}
	if r := env.call("POST", "/jobs", map[string]any{"id": "bad", "poolInfo": map[string]any{"poolId": "p"},
		"jobReleaseTask": map[string]any{"commandLine": "true"}}); r.status != 400 {
		t.Errorf("release without preparation: %d %s", r.status, r.body)
	}
	env.must(http.StatusCreated, "POST", "/jobs", job)
	got := env.must(200, "GET", "/jobs/j", nil).json(t)
	if lookupPath(got, "jobPreparationTask/id") != "jobpreparation" || lookupPath(got, "jobPreparationTask/waitForSuccess") != true ||
		lookupPath(got, "jobReleaseTask/maxWallClockTime") != "PT15M" {
		t.Errorf("job defaults: %v %v", got["jobPreparationTask"], got["jobReleaseTask"])
	}
	if r := env.call("POST", "/jobs/j/tasks", map[string]any{"id": "JobPreparation", "commandLine": "true"}); r.status != 409 || r.code() != "TaskIdSameAsJobPreparationTask" {
		t.Errorf("task with the preparation task's id: %d %s", r.status, r.body)
	}
	var tasks []any
	for _, id := range []string{"a", "b", "c", "d"} {
		tasks = append(tasks, map[string]any{"id": id, "commandLine": `/bin/sh -c "cat $AZ_BATCH_JOB_PREP_WORKING_DIR/prep.txt"`})
	}
	env.must(200, "POST", "/jobs/j/addtaskcollection", map[string]any{"value": tasks})
	env.waitFor("tasks done", 60*time.Second, func() bool {
		c := env.must(200, "GET", "/jobs/j/taskcounts", nil).json(t)
		return lookupPath(c, "taskCounts/completed") == 4.0
	})
	for _, id := range []string{"a", "b", "c", "d"} {
		if out := env.must(200, "GET", "/jobs/j/tasks/"+id+"/files/stdout.txt", nil); string(out.body) != "prepared\n" {
			t.Errorf("task %s read %q from the preparation task's directory", id, out.body)
		}
	}
	status := env.must(200, "GET", "/jobs/j/jobpreparationandreleasetaskstatus", nil).json(t)["value"].([]any)
	if len(status) == 0 {
		t.Fatal("no preparation status")
	}
	for _, s := range status {
		m := s.(map[string]any)
		if lookupPath(m, "jobPreparationTaskExecutionInfo/result") != "success" || m["jobReleaseTaskExecutionInfo"] != nil {
			t.Errorf("status before terminate: %v", m)
		}
		node := m["nodeId"].(string)
		preps := env.must(200, "GET", "/pools/p/nodes/"+node+"/files/shared/preps", nil)
		if strings.Count(string(preps.body), "x") != 1 {
			t.Errorf("node %s prepared %d times, want once", node, strings.Count(string(preps.body), "x"))
		}
	}
	env.must(http.StatusAccepted, "POST", "/jobs/j/terminate", nil)
	env.waitFor("job completed", 60*time.Second, func() bool {
		return env.must(200, "GET", "/jobs/j", nil).json(t)["state"] == "completed"
	})
	status = env.must(200, "GET", "/jobs/j/jobpreparationandreleasetaskstatus", nil).json(t)["value"].([]any)
	for _, s := range status {
		m := s.(map[string]any)
		if lookupPath(m, "jobReleaseTaskExecutionInfo/result") != "success" {
			t.Errorf("release status: %v", m)
		}
		out := env.must(200, "GET", "/pools/p/nodes/"+m["nodeId"].(string)+"/files/shared/released", nil)
		if string(out.body) != "released\n" {
			t.Errorf("release output %q", out.body)
		}
	}
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "plain", "poolInfo": map[string]any{"poolId": "p"}})
	if r := env.call("GET", "/jobs/plain/jobpreparationandreleasetaskstatus", nil); r.status != 409 {
		t.Errorf("status of a job without preparation: %d", r.status)
	}
}

func TestFailedJobPreparationBlocksTasks(t *testing.T) {
	env := startServer(t, nil)
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 1))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"},
		"jobPreparationTask": map[string]any{"commandLine": "/bin/false", "constraints": map[string]any{"maxTaskRetryCount": 1}}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
	var st map[string]any
	env.waitFor("preparation failed", 60*time.Second, func() bool {
		v := env.must(200, "GET", "/jobs/j/jobpreparationandreleasetaskstatus", nil).json(t)["value"].([]any)
		if len(v) == 0 {
			return false
		}
		st = v[0].(map[string]any)
		return lookupPath(st, "jobPreparationTaskExecutionInfo/state") == "completed"
	})
	info := st["jobPreparationTaskExecutionInfo"].(map[string]any)
	if info["result"] != "failure" || info["retryCount"] != 1.0 || info["exitCode"] != 1.0 {
		t.Errorf("preparation info %v", info)
	}
	time.Sleep(100 * time.Millisecond)
	if s := env.task("j", "t")["state"]; s != "active" {
		t.Errorf("task ran after its job preparation failed: %v", s)
	}
	// Deleting the job removes it (no release task).
	env.must(http.StatusAccepted, "DELETE", "/jobs/j", nil)
	env.waitFor("job gone", 60*time.Second, func() bool { return env.call("GET", "/jobs/j", nil).status == 404 })
}

func TestJobManagerTask(t *testing.T) {
	env := startServer(t, &Options{Concurrency: 4})
	p := pool("p", 1)
	p["taskSlotsPerNode"] = 2
	env.must(http.StatusCreated, "POST", "/pools", p)
	if r := env.call("POST", "/jobs", map[string]any{"id": "bad", "poolInfo": map[string]any{"poolId": "p"},
		"jobManagerTask": map[string]any{"id": "jm"}}); r.status != 400 || r.code() != wireerr.CodeMissingRequiredProperty {
		t.Errorf("job manager without commandLine: %d %s", r.status, r.body)
	}
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"},
		"jobManagerTask": map[string]any{"id": "jm", "commandLine": `/bin/sh -c "sleep 0.3"`}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
	env.waitFor("job completed by its manager", 60*time.Second, func() bool {
		j := env.must(200, "GET", "/jobs/j", nil).json(t)
		return j["state"] == "completed"
	})
	j := env.must(200, "GET", "/jobs/j", nil).json(t)
	if lookupPath(j, "executionInfo/terminateReason") != "JMComplete" || lookupPath(j, "jobManagerTask/runExclusive") != true {
		t.Errorf("job %v", j)
	}
	if st := env.task("j", "t")["state"]; st != "active" {
		t.Errorf("task t ran next to an exclusive job manager: %v", st)
	}
	if r := lookupPath(env.task("j", "jm"), "executionInfo/result"); r != "success" {
		t.Errorf("job manager result %v", r)
	}

	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "k", "poolInfo": map[string]any{"poolId": "p"},
		"jobManagerTask": map[string]any{"id": "jm", "commandLine": `/bin/sh -c "sleep 0.3"`, "killJobOnCompletion": false, "runExclusive": false}})
	env.must(http.StatusCreated, "POST", "/jobs/k/tasks", map[string]any{"id": "t", "commandLine": "true"})
	env.waitTaskState("k", "t", "completed", 60*time.Second)
	env.waitTaskState("k", "jm", "completed", 60*time.Second)
	if st := env.must(200, "GET", "/jobs/k", nil).json(t)["state"]; st != "active" {
		t.Errorf("job with killJobOnCompletion false is %v", st)
	}
}

func TestAutoPool(t *testing.T) {
	env := startServer(t, nil)
	spec := func(lifetime string, keepAlive bool) map[string]any {
		p := pool("ignored", 1)
		delete(p, "id")
		return map[string]any{"autoPoolIdPrefix": "auto", "poolLifetimeOption": lifetime, "keepAlive": keepAlive, "pool": p}
	}
	for _, tc := range []struct {
		name string
		spec map[string]any
		code string
	}{
		{"job schedule lifetime", spec("jobschedule", false), wireerr.CodeUnsupportedProperty},
		{"no lifetime", spec("", false), wireerr.CodeMissingRequiredProperty},
		{"no pool", map[string]any{"poolLifetimeOption": "job"}, wireerr.CodeMissingRequiredProperty},
	} {
		if r := env.call("POST", "/jobs", map[string]any{"id": "bad", "poolInfo": map[string]any{"autoPoolSpecification": tc.spec}}); r.status != 400 || r.code() != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.code)
		}
	}
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"autoPoolSpecification": spec("job", false)}})
	poolID, _ := lookupPath(env.must(200, "GET", "/jobs/j", nil).json(t), "executionInfo/poolId").(string)
	if !strings.HasPrefix(poolID, "auto_") {
		t.Fatalf("executionInfo.poolId = %q, want an auto_ pool", poolID)
	}
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": `/bin/sh -c "echo $AZ_BATCH_POOL_ID"`})
	env.waitTaskState("j", "t", "completed", 60*time.Second)
	if out := env.must(200, "GET", "/jobs/j/tasks/t/files/stdout.txt", nil); string(out.body) != poolID+"\n" {
		t.Errorf("task ran on %q, want %q", out.body, poolID)
	}
	env.must(http.StatusAccepted, "POST", "/jobs/j/terminate", nil)
	env.waitFor("auto pool deleted with its job", 60*time.Second, func() bool {
		return env.call("GET", "/pools/"+poolID, nil).status == 404
	})
}
