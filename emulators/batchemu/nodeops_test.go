package batchemu

import (
	"net/http"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func TestNodeRebootReimageAndScheduling(t *testing.T) {
	// Nodes take an (injected) hour to boot, so "rebooting" lasts until the test advances the clock.
	env, clock := newClockEnv(t, &Options{NodeStartDelay: time.Hour})
	p := pool("p", 1)
	p["startTask"] = map[string]any{"commandLine": `/bin/sh -c "echo boot >> $AZ_BATCH_NODE_SHARED_DIR/boots"`, "waitForSuccess": true}
	env.must(http.StatusCreated, "POST", "/pools", p)
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	var node string
	clock.Advance(time.Hour)
	env.waitFor("idle node", 60*time.Second, func() bool {
		nodes := env.must(200, "GET", "/pools/p/nodes?$filter=state%20eq%20'idle'", nil).json(t)["value"].([]any)
		if len(nodes) == 1 {
			node = nodes[0].(map[string]any)["id"].(string)
		}
		return node != ""
	})
	base := "/pools/p/nodes/" + node

	// Reboot with requeue: the running task goes back to the queue and runs again after the start task.
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t1",
		"commandLine": `/bin/sh -c "n=$(wc -l < $AZ_BATCH_NODE_SHARED_DIR/boots); test $n -ge 2 || sleep 30"`})
	env.waitTaskState("j", "t1", "running", 60*time.Second)
	if r := env.call("POST", base+"/reboot", map[string]any{"nodeRebootOption": "sometimes"}); r.status != 400 {
		t.Errorf("bad reboot option: %d", r.status)
	}
	env.must(http.StatusAccepted, "POST", base+"/reboot", map[string]any{"nodeRebootOption": "requeue"})
	if r := env.call("POST", base+"/reboot", nil); r.status != 409 || r.code() != "NodeBeingRebooted" {
		t.Errorf("second reboot while rebooting: %d %s", r.status, r.body)
	}
	if st := env.must(200, "GET", base, nil).json(t)["state"]; st != "rebooting" {
		t.Errorf("node state %v, want rebooting", st)
	}
	clock.Advance(time.Hour)
	task := env.waitTaskState("j", "t1", "completed", 60*time.Second)
	if lookupPath(task, "executionInfo/result") != "success" || lookupPath(task, "executionInfo/requeueCount") != 1.0 {
		t.Errorf("task after reboot: %v", task["executionInfo"])
	}

	// Disabled scheduling keeps new tasks off the node.
	env.must(http.StatusOK, "POST", base+"/disablescheduling", map[string]any{"nodeDisableSchedulingOption": "taskcompletion"})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t2", "commandLine": "true"})
	time.Sleep(100 * time.Millisecond)
	if st := env.task("j", "t2")["state"]; st != "active" {
		t.Fatalf("task ran on a node with scheduling disabled: %v", st)
	}
	if s := env.must(200, "GET", base, nil).json(t)["schedulingState"]; s != "disabled" {
		t.Errorf("schedulingState %v", s)
	}
	env.must(http.StatusOK, "POST", base+"/enablescheduling", nil)
	env.waitTaskState("j", "t2", "completed", 60*time.Second)

	// Reimage wipes the node's files.
	env.must(http.StatusAccepted, "POST", base+"/reimage", nil)
	clock.Advance(time.Hour)
	env.waitFor("node back after reimage", 60*time.Second, func() bool {
		n := env.must(200, "GET", base, nil).json(t)
		return n["state"] == "idle" && lookupPath(n, "startTaskInfo/result") == "success"
	})
	if r := env.call("GET", "/jobs/j/tasks/t2/files/stdout.txt", nil); r.status != 409 || r.code() != wireerr.CodeTaskFilesCleanedup {
		t.Errorf("files after reimage: %d %s", r.status, r.code())
	}
	boots := env.must(200, "GET", base+"/files/shared/boots", nil)
	if string(boots.body) != "boot\n" {
		t.Errorf("shared/boots after reimage = %q, want one boot (the reimage wiped the earlier ones)", boots.body)
	}
}
