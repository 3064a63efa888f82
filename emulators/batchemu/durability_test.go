package batchemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// crash simulates the emulator process being killed: from now on nothing is
// written to the DataDir (no final snapshot, no journal record), the journal
// file is closed as the kernel would, and the server's goroutines and
// processes are stopped so the test can reopen the DataDir.
func (s *Server) crash(t *testing.T) {
	t.Helper()
	s.flushMu.Lock()
	s.crashed = true
	if ss, ok := s.store.(*store.Dir); ok {
		if err := ss.Close(); err != nil {
			t.Errorf("close journal: %v", err)
		}
	}
	s.flushMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("stop the crashed server: %v", err)
	}
}

// openDataDir starts a server on dir, served on loopback.
func openDataDir(t *testing.T, dir string, persister store.Persister) *testEnv {
	t.Helper()
	srv, err := NewServer(&Options{DataDir: dir, tick: time.Millisecond, store: persister})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	env := &testEnv{t: t, srv: srv, now: srv.now}
	env.base = serve(t, srv)
	return env
}

// closeEnv closes env's server gracefully.
func closeEnv(t *testing.T, env *testEnv) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.srv.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// try sends a signed request like call but reports transport errors instead
// of failing the test, so it can run in goroutines racing a crash.
func (e *testEnv) try(method, path string, body any) (int, []byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	if body == nil {
		data = nil
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(method, e.base+path+sep+"api-version="+testAPIVersion, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	if data == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", "application/json; odata=minimalmetadata")
	}
	signRequest(req, DefaultAccountName, DefaultAccountKey, e.now(), len(data))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// acked is an acknowledged change and how to check that it survived. A
// later change with the same key (the same property of the same resource)
// replaces an earlier one.
type acked struct {
	what, key string
	check     func(env *testEnv) error
}

// TestCrashKeepsAcknowledgedChanges kills the emulator while clients add and
// change jobs and tasks (and tasks run on a node), reopens the DataDir and
// checks that every change that got a success response is there.
func TestCrashKeepsAcknowledgedChanges(t *testing.T) {
	dir := t.TempDir()
	env := openDataDir(t, dir, nil)
	env.must(http.StatusCreated, "POST", "/pools", pool("busy", 1))
	env.must(http.StatusCreated, "POST", "/pools", pool("empty", 0))

	var (
		mu   sync.Mutex
		done = map[string]acked{}
		wg   sync.WaitGroup
	)
	record := func(a acked) {
		mu.Lock()
		done[a.key] = a
		mu.Unlock()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(done)
	}
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			poolID := "busy"
			if w%2 == 1 {
				poolID = "empty" // its tasks never run, so they can be updated
			}
			for i := range 1000 {
				job := fmt.Sprintf("j%d-%d", w, i)
				jobPath := "/jobs/" + job
				st, _, err := env.try("POST", "/jobs", map[string]any{"id": job, "poolInfo": map[string]any{"poolId": poolID}})
				if err != nil || st != http.StatusCreated {
					return
				}
				record(acked{"add job " + job, jobPath, wantStatus(jobPath, http.StatusOK)})

				var tasks []any
				for k := range 5 {
					tasks = append(tasks, map[string]any{"id": fmt.Sprintf("t%d", k), "commandLine": "true"})
				}
				st, body, err := env.try("POST", jobPath+"/addtaskcollection", map[string]any{"value": tasks})
				if err != nil || st != http.StatusOK {
					return
				}
				var res struct {
					Value []struct{ Status, TaskID string }
				}
				if err := json.Unmarshal(body, &res); err != nil {
					t.Errorf("add task collection response: %v", err)
					return
				}
				for _, r := range res.Value {
					if r.Status == "success" {
						record(acked{"add task " + job + "/" + r.TaskID, jobPath + "/tasks/" + r.TaskID, wantStatus(jobPath+"/tasks/"+r.TaskID, http.StatusOK)})
					}
				}

				st, _, err = env.try("PATCH", jobPath, map[string]any{"priority": 100 + i})
				if err != nil || st != http.StatusOK {
					return
				}
				record(acked{"patch " + job, jobPath + " priority", wantField(jobPath, "priority", float64(100+i))})

				st, _, err = env.try("DELETE", jobPath+"/tasks/t1", nil)
				if err != nil || st != http.StatusOK {
					return
				}
				record(acked{"delete " + job + "/t1", jobPath + "/tasks/t1", wantStatus(jobPath+"/tasks/t1", http.StatusNotFound)})

				if poolID == "empty" {
					st, _, err = env.try("PUT", jobPath+"/tasks/t0", map[string]any{"constraints": map[string]any{"maxTaskRetryCount": 3}})
					if err != nil || st != http.StatusNoContent {
						return
					}
					record(acked{"update " + job + "/t0", jobPath + "/tasks/t0 constraints", wantField(jobPath+"/tasks/t0", "constraints/maxTaskRetryCount", 3.0)})
				}
			}
		})
	}
	env.waitFor("acknowledged changes", 30*time.Second, func() bool { return count() >= 60 })
	env.srv.crash(t) // while the workers are still sending
	wg.Wait()

	env2 := openDataDir(t, dir, nil)
	defer closeEnv(t, env2)
	mu.Lock()
	defer mu.Unlock()
	for _, a := range done {
		if err := a.check(env2); err != nil {
			t.Errorf("acknowledged %s lost after the crash: %v", a.what, err)
		}
	}
	t.Logf("%d acknowledged changes checked", len(done))
}

func wantStatus(path string, want int) func(env *testEnv) error {
	return func(env *testEnv) error {
		if r := env.call("GET", path, nil); r.status != want {
			return fmt.Errorf("GET %s: status %d, want %d", path, r.status, want)
		}
		return nil
	}
}

func wantField(path, field string, want any) func(env *testEnv) error {
	return func(env *testEnv) error {
		r := env.call("GET", path, nil)
		if r.status != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", path, r.status)
		}
		if got := lookupPath(r.json(env.t), field); got != want {
			return fmt.Errorf("%s %s = %v, want %v", path, field, got, want)
		}
		return nil
	}
}

// TestJournalReplay covers the journal's edge cases on reopen.
func TestJournalReplay(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the DataDir after a crash; it gets the journal
		// as it was before the last graceful Close (nil if none).
		damage  func(t *testing.T, dir string)
		wantErr string
	}{
		{name: "crash"},
		{name: "torn last record", damage: func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, "journal.jsonl"), `{"n":999999,"pools":{`)
		}},
		{name: "torn last record ending in a newline", damage: func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, "journal.jsonl"), "{\"n\":999999,\"po\n")
		}},
		{name: "corrupt record before the last", damage: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "journal.jsonl")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, append([]byte("{garbage}\n"), b...), 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "journal.jsonl line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := openDataDir(t, dir, nil)
			env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
			env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}, "priority": 1})
			env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "gone", "commandLine": "true"})
			env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "kept", "commandLine": "true"})
			env.must(http.StatusOK, "DELETE", "/jobs/j/tasks/gone", nil)
			env.must(http.StatusOK, "PATCH", "/jobs/j", map[string]any{"priority": 2})
			env.srv.crash(t)
			if tc.damage != nil {
				tc.damage(t, dir)
			}
			srv, err := NewServer(&Options{DataDir: dir, tick: time.Millisecond})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewServer error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewServer: %v", err)
			}
			env2 := &testEnv{t: t, srv: srv, now: srv.now}
			env2.base = serve(t, srv)
			// Changes after the reopen must not land behind a torn record.
			env2.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "later", "commandLine": "true"})
			env2.srv.crash(t)
			env3 := openDataDir(t, dir, nil)
			defer closeEnv(t, env3)
			for _, check := range []func(*testEnv) error{
				wantField("/jobs/j", "priority", 2.0),
				wantStatus("/jobs/j/tasks/kept", http.StatusOK),
				wantStatus("/jobs/j/tasks/later", http.StatusOK),
				wantStatus("/jobs/j/tasks/gone", http.StatusNotFound),
				wantStatus("/pools/p", http.StatusOK),
			} {
				if err := check(env3); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestSnapshotSupersedesOldJournal: a crash after a snapshot replaced
// state.json but before the journal was emptied leaves older records behind;
// they must not roll the state back.
func TestSnapshotSupersedesOldJournal(t *testing.T) {
	dir := t.TempDir()
	env := openDataDir(t, dir, nil)
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}, "priority": 1})
	old, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if err != nil || len(old) == 0 {
		t.Fatalf("journal after acknowledged requests: %d bytes, %v", len(old), err)
	}
	env.must(http.StatusOK, "PATCH", "/jobs/j", map[string]any{"priority": 2})
	closeEnv(t, env) // writes a snapshot and empties the journal
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	env2 := openDataDir(t, dir, nil)
	defer closeEnv(t, env2)
	if err := wantField("/jobs/j", "priority", 2.0)(env2); err != nil {
		t.Error(err)
	}
}

// TestCompactionThenCrash: changes in the snapshot and in the journal after
// it both survive a crash.
func TestCompactionThenCrash(t *testing.T) {
	dir := t.TempDir()
	env := openDataDir(t, dir, nil)
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "a", "poolInfo": map[string]any{"poolId": "p"}})
	env.srv.flushMu.Lock()
	err := env.srv.saveLocked(true)
	env.srv.flushMu.Unlock()
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "journal.jsonl")); err != nil || fi.Size() != 0 {
		t.Fatalf("journal after a snapshot: %v %v, want empty", fi, err)
	}
	env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "b", "poolInfo": map[string]any{"poolId": "p"}})
	env.srv.crash(t)
	env2 := openDataDir(t, dir, nil)
	defer closeEnv(t, env2)
	for _, j := range []string{"a", "b"} {
		if err := wantStatus("/jobs/"+j, http.StatusOK)(env2); err != nil {
			t.Error(err)
		}
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// failingStore is a store.Persister whose writes fail while fail is set.
type failingStore struct {
	mu    sync.Mutex
	fail  bool
	inner store.Persister
}

var errDiskFull = errors.New("no space left on device (fake)")

func (f *failingStore) failing() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.fail }
func (f *failingStore) set(v bool)    { f.mu.Lock(); f.fail = v; f.mu.Unlock() }

func (f *failingStore) WriteSnapshot(data []byte) error {
	if f.failing() {
		return errDiskFull
	}
	return f.inner.WriteSnapshot(data)
}

func (f *failingStore) AppendJournal(rec []byte) error {
	if f.failing() {
		return errDiskFull
	}
	return f.inner.AppendJournal(rec)
}

func (f *failingStore) JournalSize() int64 { return f.inner.JournalSize() }

// TestFailedSaveIsNotAcknowledged: when the state cannot be saved, mutating
// requests get 500 InternalError (so clients retry), reads still work, and
// once the disk recovers a retry is saved and acknowledged.
func TestFailedSaveIsNotAcknowledged(t *testing.T) {
	dir := t.TempDir()
	fs := &failingStore{inner: store.NewDir(dir)}
	env := openDataDir(t, dir, fs)
	env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
	fs.set(true)
	r := env.call("POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	if r.status != http.StatusInternalServerError || r.code() != wireerr.CodeInternalError {
		t.Fatalf("add job with a failing disk: %d %s, want 500 InternalError", r.status, r.body)
	}
	if r.header.Get("request-id") == "" {
		t.Error("the 500 has no request-id header")
	}
	env.must(http.StatusOK, "GET", "/pools/p", nil)
	fs.set(false)
	// The retry finds the job (it stayed in memory) and reports it exists;
	// that answer is given only after the job was saved.
	r = env.call("POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	if r.status != http.StatusConflict || r.code() != "JobExists" {
		t.Fatalf("retried add job: %d %s, want 409 JobExists", r.status, r.body)
	}
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
	env.srv.crash(t)
	env2 := openDataDir(t, dir, nil)
	defer closeEnv(t, env2)
	for _, check := range []func(*testEnv) error{wantStatus("/jobs/j", http.StatusOK), wantStatus("/jobs/j/tasks/t", http.StatusOK)} {
		if err := check(env2); err != nil {
			t.Error(err)
		}
	}
}

// TestEachAcknowledgedChangeSurvivesACrash: every kind of mutating request,
// acknowledged just before a crash, is there after the DataDir is reopened.
func TestEachAcknowledgedChangeSurvivesACrash(t *testing.T) {
	type op struct{ method, path string }
	tests := []struct {
		name  string
		setup func(env *testEnv) // beyond pool p, job j on p and task t (not running)
		do    op
		body  any
		check func(env *testEnv) error
	}{
		{name: "add pool", do: op{"POST", "/pools"}, body: pool("q", 0), check: wantStatus("/pools/q", http.StatusOK)},
		{name: "patch pool", do: op{"PATCH", "/pools/p"}, body: map[string]any{"metadata": []any{map[string]any{"name": "k", "value": "v"}}},
			check: func(env *testEnv) error {
				md, _ := env.must(http.StatusOK, "GET", "/pools/p", nil).json(env.t)["metadata"].([]any)
				if len(md) != 1 || lookupPath(md[0].(map[string]any), "value") != "v" {
					return fmt.Errorf("pool metadata %v, want k=v", md)
				}
				return nil
			}},
		{name: "resize pool", do: op{"POST", "/pools/p/resize"}, body: map[string]any{"targetDedicatedNodes": 2},
			check: wantField("/pools/p", "targetDedicatedNodes", 2.0)},
		{name: "enable autoscale", do: op{"POST", "/pools/p/enableautoscale"}, body: map[string]any{"autoScaleFormula": "$TargetDedicatedNodes=0;", "autoScaleEvaluationInterval": "PT5M"},
			check: wantField("/pools/p", "enableAutoScale", true)},
		{name: "disable autoscale", setup: func(env *testEnv) {
			env.must(http.StatusCreated, "POST", "/pools", autoscalePool("a", "$TargetDedicatedNodes=0;", "PT5M"))
		}, do: op{"POST", "/pools/a/disableautoscale"}, check: wantField("/pools/a", "enableAutoScale", false)},
		{name: "delete pool", setup: func(env *testEnv) { env.must(http.StatusCreated, "POST", "/pools", pool("gone", 0)) },
			do: op{"DELETE", "/pools/gone"}, check: wantGoneOr("/pools/gone", "deleting")},
		{name: "add job", do: op{"POST", "/jobs"}, body: map[string]any{"id": "k", "poolInfo": map[string]any{"poolId": "p"}},
			check: wantStatus("/jobs/k", http.StatusOK)},
		{name: "update job", do: op{"PUT", "/jobs/j"}, body: map[string]any{"poolInfo": map[string]any{"poolId": "p"}, "priority": 9},
			check: wantField("/jobs/j", "priority", 9.0)},
		{name: "disable job", do: op{"POST", "/jobs/j/disable"}, body: map[string]any{"disableTasks": "requeue"},
			check: wantOneOf("/jobs/j", "state", "disabling", "disabled")},
		{name: "terminate job", do: op{"POST", "/jobs/j/terminate"}, check: wantOneOf("/jobs/j", "state", "terminating", "completed")},
		{name: "delete job", do: op{"DELETE", "/jobs/j"}, check: wantGoneOr("/jobs/j", "deleting")},
		{name: "add task", do: op{"POST", "/jobs/j/tasks"}, body: map[string]any{"id": "u", "commandLine": "true"},
			check: wantStatus("/jobs/j/tasks/u", http.StatusOK)},
		{name: "terminate task", do: op{"POST", "/jobs/j/tasks/t/terminate"}, check: wantField("/jobs/j/tasks/t", "state", "completed")},
		{name: "reactivate task", setup: func(env *testEnv) { env.must(http.StatusNoContent, "POST", "/jobs/j/tasks/t/terminate", nil) },
			do: op{"POST", "/jobs/j/tasks/t/reactivate"}, check: wantField("/jobs/j/tasks/t", "state", "active")},
		{name: "delete task", do: op{"DELETE", "/jobs/j/tasks/t"}, check: wantStatus("/jobs/j/tasks/t", http.StatusNotFound)},
		{name: "disable node scheduling", setup: func(env *testEnv) {
			env.must(http.StatusCreated, "POST", "/pools", pool("n", 1))
			env.waitFor("idle node", 30*time.Second, func() bool {
				nodes := env.must(http.StatusOK, "GET", "/pools/n/nodes", nil).json(env.t)["value"].([]any)
				return len(nodes) == 1 && lookupPath(nodes[0].(map[string]any), "state") == "idle"
			})
		}, do: op{"POST", "/pools/n/nodes/{node}/disablescheduling"}, body: map[string]any{"nodeDisableSchedulingOption": "requeue"},
			check: func(env *testEnv) error {
				nodes := env.must(http.StatusOK, "GET", "/pools/n/nodes", nil).json(env.t)["value"].([]any)
				if len(nodes) != 1 || lookupPath(nodes[0].(map[string]any), "schedulingState") != "disabled" {
					return fmt.Errorf("nodes %v, want one with schedulingState disabled", nodes)
				}
				return nil
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := openDataDir(t, dir, nil)
			env.must(http.StatusCreated, "POST", "/pools", pool("p", 0))
			env.must(http.StatusCreated, "POST", "/jobs", map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
			env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t", "commandLine": "true"})
			if tc.setup != nil {
				tc.setup(env)
			}
			// Make the set-up durable by a snapshot of its own, so that
			// only the request under test relies on its acknowledgement
			// (a deletion that was not saved would bring things back).
			env.srv.flushMu.Lock()
			err := env.srv.saveLocked(true)
			env.srv.flushMu.Unlock()
			if err != nil {
				t.Fatalf("snapshot the set-up: %v", err)
			}
			path := tc.do.path
			if strings.Contains(path, "{node}") {
				node := env.must(http.StatusOK, "GET", "/pools/n/nodes", nil).json(t)["value"].([]any)[0].(map[string]any)["id"].(string)
				path = strings.ReplaceAll(path, "{node}", node)
			}
			if r := env.call(tc.do.method, path, tc.body); r.status/100 != 2 {
				t.Fatalf("%s %s: %d %s", tc.do.method, path, r.status, r.body)
			}
			env.srv.crash(t)
			env2 := openDataDir(t, dir, nil)
			defer closeEnv(t, env2)
			if err := tc.check(env2); err != nil {
				t.Errorf("after the crash: %v", err)
			}
			// The set-up (acknowledged earlier) is there too, so a deletion
			// did not pass just because nothing was saved.
			if err := wantStatus("/pools/p", http.StatusOK)(env2); err != nil {
				t.Errorf("after the crash: %v", err)
			}
		})
	}
}

// wantOneOf checks that field of path is one of want.
func wantOneOf(path, field string, want ...string) func(env *testEnv) error {
	return func(env *testEnv) error {
		r := env.call("GET", path, nil)
		if r.status != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", path, r.status)
		}
		got := lookupPath(r.json(env.t), field)
		for _, w := range want {
			if got == w {
				return nil
			}
		}
		return fmt.Errorf("%s %s = %v, want one of %v", path, field, got, want)
	}
}

// wantGoneOr accepts a removed resource (404) or one in the given state.
func wantGoneOr(path, want string) func(env *testEnv) error {
	return func(env *testEnv) error {
		r := env.call("GET", path, nil)
		switch {
		case r.status == http.StatusNotFound:
			return nil
		case r.status != http.StatusOK:
			return fmt.Errorf("GET %s: status %d", path, r.status)
		}
		if got := r.json(env.t)["state"]; got != want {
			return fmt.Errorf("%s state = %v, want %s or removed", path, got, want)
		}
		return nil
	}
}
