package batchemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func setupJob(t *testing.T, env *testEnv, poolID string, nodes int, job map[string]any) {
	t.Helper()
	env.must(http.StatusCreated, "POST", "/pools", pool(poolID, nodes))
	env.must(http.StatusCreated, "POST", "/jobs", job)
}

func TestTaskRunsAndFilesAreServed(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"},
		"commonEnvironmentSettings": []any{map[string]any{"name": "FROM_JOB", "value": "job"}}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{
		"id": "t1", "commandLine": `/bin/sh -c "echo hi $FROM_JOB $FROM_TASK $AZ_BATCH_JOB_ID/$AZ_BATCH_TASK_ID; pwd; echo oops >&2"`,
		"environmentSettings": []any{map[string]any{"name": "FROM_TASK", "value": "task"}},
	})
	task := env.waitTaskState("j", "t1", "completed", 60*time.Second)
	if got := lookupPath(task, "executionInfo/result"); got != "success" {
		t.Fatalf("result %v, task %v", got, task)
	}
	if got := lookupPath(task, "executionInfo/exitCode"); got != 0.0 {
		t.Errorf("exitCode %v, want 0", got)
	}
	if task["previousState"] != "running" || lookupPath(task, "nodeInfo/nodeId") == nil || lookupPath(task, "executionInfo/startTime") == nil {
		t.Errorf("task shape: %v", task)
	}
	if got := lookupPath(task, "constraints/maxWallClockTime"); got != "P10675199DT2H48M5.4775807S" {
		t.Errorf("maxWallClockTime %v", got)
	}
	out := env.must(200, "GET", "/jobs/j/tasks/t1/files/stdout.txt", nil)
	lines := strings.Split(strings.TrimSpace(string(out.body)), "\n")
	if len(lines) != 2 || lines[0] != "hi job task j/t1" || !strings.HasSuffix(lines[1], "/workitems/j/job-1/t1/wd") {
		t.Errorf("stdout.txt = %q", out.body)
	}
	if out.header.Get("ocp-batch-file-isdirectory") != "false" || out.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("file headers %v", out.header)
	}
	if e := env.must(200, "GET", "/jobs/j/tasks/t1/files/stderr.txt", nil); string(e.body) != "oops\n" {
		t.Errorf("stderr.txt = %q", e.body)
	}
	files := env.must(200, "GET", "/jobs/j/tasks/t1/files?recursive=false", nil).json(t)["value"].([]any)
	var names []string
	for _, f := range files {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "stderr.txt,stdout.txt,wd" {
		t.Errorf("files = %v", names)
	}
	if r := env.call("GET", "/jobs/j/tasks/t1/files/nope.txt", nil); r.status != 404 || r.code() != wireerr.CodeFileNotFound {
		t.Errorf("missing file: %d %s", r.status, r.code())
	}
	counts := env.must(200, "GET", "/jobs/j/taskcounts", nil).json(t)
	if lookupPath(counts, "taskCounts/succeeded") != 1.0 || lookupPath(counts, "taskCounts/completed") != 1.0 {
		t.Errorf("taskcounts %v", counts)
	}
	old := env.must(200, "GET", "/jobs/j/taskcounts?api-version=2018-12-01.8.0", nil).json(t)
	if old["succeeded"] != 1.0 {
		t.Errorf("2018 taskcounts %v", old)
	}
	node := env.must(200, "GET", "/pools/p/nodes/"+lookupPath(task, "nodeInfo/nodeId").(string), nil).json(t)
	if node["totalTasksRun"] != 1.0 || node["totalTasksSucceeded"] != 1.0 || node["state"] != "idle" {
		t.Errorf("node after run: %v", node)
	}
	env.must(http.StatusOK, "DELETE", "/jobs/j/tasks/t1", nil)
	if r := env.call("GET", "/jobs/j/tasks/t1", nil); r.status != 404 || r.code() != wireerr.CodeTaskNotFound {
		t.Errorf("deleted task: %d %s", r.status, r.code())
	}
}

func TestTaskRetriesAndFailure(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}, "constraints": map[string]any{"maxTaskRetryCount": 1}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{
		"id": "fails", "commandLine": `/bin/sh -c "echo attempt >> $AZ_BATCH_NODE_SHARED_DIR/attempts; exit 3"`,
		"constraints": map[string]any{"maxTaskRetryCount": 2},
	})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "jobdefault", "commandLine": "/bin/false"})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "noprogram", "commandLine": "/nonexistent/program"})
	tests := []struct {
		task     string
		retries  float64
		exitCode any
		code     string
	}{
		{"fails", 2, 3.0, "FailureExitCode"},
		{"jobdefault", 1, 1.0, "FailureExitCode"},
		{"noprogram", 0, nil, "CommandProgramNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.task, func(t *testing.T) {
			task := env.waitTaskState("j", tc.task, "completed", 60*time.Second)
			ei := task["executionInfo"].(map[string]any)
			if ei["result"] != "failure" || ei["retryCount"] != tc.retries || ei["exitCode"] != tc.exitCode {
				t.Errorf("executionInfo %v, want retryCount %v exitCode %v", ei, tc.retries, tc.exitCode)
			}
			if got := lookupPath(task, "executionInfo/failureInfo/code"); got != tc.code {
				t.Errorf("failureInfo.code %v, want %s", got, tc.code)
			}
			if tc.retries > 0 && ei["lastRetryTime"] == nil {
				t.Errorf("no lastRetryTime: %v", ei)
			}
		})
	}
	filtered := env.must(200, "GET", "/jobs/j/tasks?$filter="+url.QueryEscape("executionInfo/result eq 'Failure' and executionInfo/exitCode gt 1")+"&$select=id", nil).json(t)["value"].([]any)
	if len(filtered) != 1 || filtered[0].(map[string]any)["id"] != "fails" {
		t.Errorf("filtered = %v", filtered)
	}
	if r := env.call("GET", "/jobs/j/tasks?$filter="+url.QueryEscape("state eq"), nil); r.status != 400 || r.code() != wireerr.CodeInvalidQueryParameterValue {
		t.Errorf("bad filter: %d %s", r.status, r.body)
	}
}

func TestWallClockKill(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	start := time.Now()
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{
		"id": "slow", "commandLine": "sleep 30", "constraints": map[string]any{"maxWallClockTime": "PT0.5S", "maxTaskRetryCount": 3},
	})
	task := env.waitTaskState("j", "slow", "completed", 60*time.Second)
	if el := time.Since(start); el > 25*time.Second {
		t.Errorf("took %v; the wall clock limit was 0.5s", el)
	}
	if lookupPath(task, "executionInfo/result") != "failure" || lookupPath(task, "executionInfo/retryCount") != 0.0 {
		t.Errorf("executionInfo %v (wall-clock kills are not retried)", task["executionInfo"])
	}
	if lookupPath(task, "executionInfo/failureInfo") == nil {
		t.Errorf("no failureInfo: %v", task["executionInfo"])
	}
}

func TestTerminateAndJobCompletion(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "long", "commandLine": "sleep 30"})
	env.waitTaskState("j", "long", "running", 60*time.Second)
	env.must(http.StatusNoContent, "POST", "/jobs/j/tasks/long/terminate", nil)
	task := env.task("j", "long")
	if task["state"] != "completed" || lookupPath(task, "executionInfo/failureInfo/code") != "TaskEnded" {
		t.Errorf("terminated task %v", task)
	}
	if r := env.call("POST", "/jobs/j/tasks/long/terminate", nil); r.status != 409 || r.code() != wireerr.CodeTaskCompleted {
		t.Errorf("terminate completed task: %d %s", r.status, r.code())
	}
	// An active task that is terminated completes too.
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "quick", "commandLine": "true"})
	env.waitTaskState("j", "quick", "completed", 60*time.Second)
	env.must(http.StatusOK, "PATCH", "/jobs/j", map[string]any{"onAllTasksComplete": "terminatejob"})
	env.waitFor("job completed", 30*time.Second, func() bool {
		return env.must(200, "GET", "/jobs/j", nil).json(t)["state"] == "completed"
	})
	job := env.must(200, "GET", "/jobs/j", nil).json(t)
	if lookupPath(job, "executionInfo/terminateReason") != "AllTasksComplete" || lookupPath(job, "executionInfo/endTime") == nil {
		t.Errorf("job %v", job)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"add task to completed job", "POST", "/jobs/j/tasks", map[string]any{"id": "x", "commandLine": "true"}, 409, wireerr.CodeJobCompleted},
		{"terminate completed job", "POST", "/jobs/j/terminate", nil, 409, wireerr.CodeJobCompleted},
		{"duplicate job", "POST", "/jobs", map[string]any{"id": "J", "poolInfo": map[string]any{"poolId": "p"}}, 409, wireerr.CodeJobExists},
		{"job without poolInfo", "POST", "/jobs", map[string]any{"id": "k"}, 400, wireerr.CodeMissingRequiredProperty},
		{"missing job", "GET", "/jobs/nope", nil, 404, wireerr.CodeJobNotFound},
		{"tasks of missing job", "GET", "/jobs/nope/tasks", nil, 404, wireerr.CodeJobNotFound},
		{"missing task", "GET", "/jobs/j/tasks/nope", nil, 404, wireerr.CodeTaskNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.call(tc.method, tc.path, tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(), tc.status, tc.code, r.body)
			}
		})
	}
	// Job terminate with a reason ends running tasks; delete removes the job.
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j2", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j2/tasks", map[string]any{"id": "long", "commandLine": "sleep 30"})
	env.waitTaskState("j2", "long", "running", 60*time.Second)
	env.must(http.StatusAccepted, "POST", "/jobs/j2/terminate", map[string]any{"terminateReason": "done"})
	env.waitFor("j2 completed", 30*time.Second, func() bool {
		j := env.must(200, "GET", "/jobs/j2", nil).json(t)
		return j["state"] == "completed" && lookupPath(j, "executionInfo/terminateReason") == "done"
	})
	if st := env.task("j2", "long")["state"]; st != "completed" {
		t.Errorf("task of terminated job is %v", st)
	}
	env.must(http.StatusAccepted, "DELETE", "/jobs/j2", nil)
	if r := env.call("DELETE", "/jobs/j2", nil); r.status != 404 && r.code() != wireerr.CodeJobBeingDeleted {
		t.Errorf("second delete: %d %s", r.status, r.code())
	}
	env.waitFor("j2 gone", 30*time.Second, func() bool { return env.call("GET", "/jobs/j2", nil).status == 404 })
}

func TestAddTaskCollection(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 0, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t0", "commandLine": "true"})
	res := env.must(200, "POST", "/jobs/j/addtaskcollection", map[string]any{"value": []any{
		map[string]any{"id": "T0", "commandLine": "true"},
		map[string]any{"id": "t1", "commandLine": "true"},
		map[string]any{"id": "t1", "commandLine": "true"},
		map[string]any{"id": "bad id", "commandLine": "true"},
		map[string]any{"id": "t2"},
	}}).json(t)["value"].([]any)
	want := []struct{ status, code string }{{"clienterror", wireerr.CodeTaskExists}, {"success", ""}, {"clienterror", wireerr.CodeTaskExists}, {"clienterror", wireerr.CodeInvalidPropertyValue}, {"clienterror", wireerr.CodeMissingRequiredProperty}}
	if len(res) != len(want) {
		t.Fatalf("got %d results: %v", len(res), res)
	}
	for i, w := range want {
		r := res[i].(map[string]any)
		if r["status"] != w.status || (w.code != "" && lookupPath(r, "error/code") != w.code) {
			t.Errorf("result %d = %v, want %s %s", i, r, w.status, w.code)
		}
	}
	var many []any
	for i := 0; i < 101; i++ {
		many = append(many, map[string]any{"id": fmt.Sprintf("m%d", i), "commandLine": "true"})
	}
	if r := env.call("POST", "/jobs/j/addtaskcollection", map[string]any{"value": many}); r.status != 400 || r.code() != wireerr.CodeInvalidPropertyValue {
		t.Errorf("101 tasks: %d %s", r.status, r.body)
	}
	big := []any{map[string]any{"id": "big", "commandLine": "echo " + strings.Repeat("x", 1<<20)}}
	if r := env.call("POST", "/jobs/j/addtaskcollection", map[string]any{"value": big}); r.status != 413 || r.code() != wireerr.CodeRequestBodyTooLarge {
		t.Errorf("1 MB body: %d %s", r.status, r.code())
	}
}

func TestPagingAcrossManyTasks(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 0, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	const total = 1050
	for c := 0; c < total/100+1; c++ {
		var batch []any
		for i := c * 100; i < (c+1)*100 && i < total; i++ {
			batch = append(batch, map[string]any{"id": fmt.Sprintf("task%04d", i), "commandLine": "true"})
		}
		env.must(200, "POST", "/jobs/j/addtaskcollection", map[string]any{"value": batch})
	}
	tests := []struct {
		name      string
		query     string
		wantPages int
		wantTotal int
	}{
		{"default page size", "", 2, total},
		{"maxresults 400 with filter and select", "?maxresults=400&$select=id,state&$filter=" + url.QueryEscape("state eq 'ACTIVE'"), 3, total},
		{"filter matching a prefix", "?$filter=" + url.QueryEscape("startswith(id,'task10')"), 1, 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			next := "/jobs/j/tasks" + tc.query
			pages := 0
			for next != "" && pages < 20 {
				pages++
				body := env.must(200, "GET", next, nil).json(t)
				for _, v := range body["value"].([]any) {
					seen[v.(map[string]any)["id"].(string)] = true
				}
				next = ""
				if nl, ok := body["odata.nextLink"].(string); ok {
					if !strings.HasPrefix(nl, env.base) || !strings.Contains(nl, "api-version=") || !strings.Contains(nl, "%24skiptoken=") && !strings.Contains(nl, "$skiptoken=") {
						t.Fatalf("nextLink %q", nl)
					}
					next = strings.TrimPrefix(nl, env.base)
				}
			}
			if pages != tc.wantPages || len(seen) != tc.wantTotal {
				t.Errorf("got %d pages %d tasks, want %d pages %d tasks", pages, len(seen), tc.wantPages, tc.wantTotal)
			}
		})
	}
	for _, q := range []string{"maxresults=0", "maxresults=1001", "$skiptoken=garbage!",
		"$filter=" + url.QueryEscape("nosuchproperty eq 'x'"), "$filter=" + url.QueryEscape("executionInfo/nosuch eq 1"),
		"$select=id,nosuch", "$select=executionInfo/exitCode"} {
		if r := env.call("GET", "/jobs/j/tasks?"+q, nil); r.status != 400 || r.code() != wireerr.CodeInvalidQueryParameterValue {
			t.Errorf("%s: %d %s", q, r.status, r.code())
		}
	}
}

func TestDeleteAndReAddTask(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	for i := 0; i < 5; i++ {
		env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "same", "commandLine": fmt.Sprintf(`/bin/sh -c "echo round%d"`, i)})
		env.waitTaskState("j", "same", "completed", 60*time.Second)
		out := env.must(200, "GET", "/jobs/j/tasks/same/files/stdout.txt", nil)
		if want := fmt.Sprintf("round%d\n", i); string(out.body) != want {
			t.Fatalf("round %d: stdout %q, want %q", i, out.body, want)
		}
		env.must(http.StatusOK, "DELETE", "/jobs/j/tasks/same", nil)
	}
}

// TestAddTaskRejectsInvalidOutputFiles: output files the executor could never
// upload are refused at add time with 400 InvalidPropertyValue, as the
// service does, instead of failing the task after its process ran.
func TestAddTaskRejectsInvalidOutputFiles(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 0, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	of := func(pattern, url string) map[string]any {
		return map[string]any{"filePattern": pattern,
			"destination":   map[string]any{"container": map[string]any{"containerUrl": url}},
			"uploadOptions": map[string]any{"uploadCondition": "tasksuccess"}}
	}
	tests := []struct {
		name string
		file map[string]any
		want int
	}{
		{"valid", of("out/*.mp3", "https://acct.blob.core.windows.net/c?sig=x"), http.StatusCreated},
		{"unterminated class", of("out/[a.mp3", "https://acct.blob.core.windows.net/c?sig=x"), http.StatusBadRequest},
		{"relative container url", of("out.mp3", "c?sig=x"), http.StatusBadRequest},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.call("POST", "/jobs/j/tasks", map[string]any{"id": fmt.Sprintf("t%d", i), "commandLine": "true",
				"outputFiles": []any{tc.file}})
			if r.status != tc.want || (tc.want == http.StatusBadRequest && r.code() != wireerr.CodeInvalidPropertyValue) {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}
}

// TestNullOptionalPropertiesMeanUnset: null (and an empty array) for an
// optional property the emulator does not support is the same as leaving it
// out, wherever it appears.
func TestNullOptionalPropertiesMeanUnset(t *testing.T) {
	env := startServer(t, nil)
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j",
		"poolInfo": map[string]any{"poolId": "p", "autoPoolSpecification": nil}})
	if got := lookupPath(env.must(200, "GET", "/jobs/j", nil).json(t), "poolInfo/poolId"); got != "p" {
		t.Errorf("job with a null autoPoolSpecification runs on pool %v, want p", got)
	}
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true",
		"containerSettings": nil, "applicationPackageReferences": []any{},
		"resourceFiles": []any{map[string]any{"httpUrl": "https://a/b", "filePath": "b", "identityReference": nil}}})
	if r := env.call("POST", "/jobs/j/tasks", map[string]any{"id": "t2", "commandLine": "true",
		"containerSettings": map[string]any{"imageName": "x"}}); r.status != 400 || r.code() != wireerr.CodeUnsupportedProperty {
		t.Errorf("containerSettings with a value: %d %s, want 400 %s", r.status, r.body, wireerr.CodeUnsupportedProperty)
	}
}

// TestConstraintsValidatedEverywhere: task constraints are checked the
// same way wherever they are given (adding a task, updating one, a job's
// preparation task), and an update falls back to the same defaults as an
// add.
func TestConstraintsValidatedEverywhere(t *testing.T) {
	env := startServer(t, nil)
	setupJob(t, env, "p", 0, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
	zeroWall := map[string]any{"maxWallClockTime": "PT0S"}
	tests := []struct {
		name, method, path string
		body               map[string]any
		wantProperty       string
	}{
		{"add task", "POST", "/jobs/j/tasks", map[string]any{"id": "t2", "commandLine": "true", "constraints": zeroWall},
			"constraints.maxWallClockTime"},
		{"update task", "PUT", "/jobs/j/tasks/t", map[string]any{"constraints": zeroWall}, "constraints.maxWallClockTime"},
		{"job preparation task", "POST", "/jobs", map[string]any{"id": "j2", "poolInfo": map[string]any{"poolId": "p"},
			"jobPreparationTask": map[string]any{"commandLine": "true", "constraints": zeroWall}},
			"jobPreparationTask.constraints.maxWallClockTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.call(tc.method, tc.path, tc.body)
			if r.status != http.StatusBadRequest || r.code() != wireerr.CodeInvalidPropertyValue {
				t.Fatalf("got %d %s, want 400 %s", r.status, r.body, wireerr.CodeInvalidPropertyValue)
			}
			if got := errorDetail(t, r, "PropertyName"); got != tc.wantProperty {
				t.Errorf("PropertyName = %q, want %q", got, tc.wantProperty)
			}
		})
	}
	env.must(http.StatusOK, "PUT", "/jobs/j/tasks/t", map[string]any{"constraints": map[string]any{"retentionTime": "PT1H"}})
	task := env.must(http.StatusOK, "GET", "/jobs/j/tasks/t", nil).json(t)
	for path, want := range map[string]any{"constraints/retentionTime": "PT1H", "constraints/maxTaskRetryCount": float64(0),
		"constraints/maxWallClockTime": "P10675199DT2H48M5.4775807S"} {
		if got := lookupPath(task, path); got != want {
			t.Errorf("after update %s = %v, want %v", path, got, want)
		}
	}
}

// errorDetail returns the value of the error detail key of an error
// response ("" when absent).
func errorDetail(t *testing.T, r resp, key string) string {
	t.Helper()
	var body struct {
		Values []struct{ Key, Value string }
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("decode error %s: %v", r.body, err)
	}
	for _, v := range body.Values {
		if v.Key == key {
			return v.Value
		}
	}
	return ""
}
