package batch

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func makeTasks(n int, cmdBytes int) []TaskAddParameter {
	tasks := make([]TaskAddParameter, n)
	for i := range tasks {
		tasks[i] = TaskAddParameter{ID: "t" + strconv.Itoa(i), CommandLine: "/bin/sh -c true " + strings.Repeat("x", cmdBytes)}
	}
	return tasks
}

var fastRetry = &AddTasksOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 4 * time.Millisecond}

// addCalls returns the number of tasks in each addtaskcollection call.
type addLog struct {
	mu    sync.Mutex
	sizes []int
	bytes []int
}

func (l *addLog) record(ids []string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sizes = append(l.sizes, len(ids))
	l.bytes = append(l.bytes, n)
}

func newAddFixture(t *testing.T) (*fakeBatch, *Client) {
	t.Helper()
	f := newFakeBatch(t)
	c := f.client(t, fakeKey)
	if err := c.CreateJob(context.Background(), JobAddParameter{ID: "j1", PoolInfo: PoolInfo{PoolID: "p1"}}); err != nil {
		t.Fatal(err)
	}
	return f, c
}

func wantIDs(t *testing.T, what string, got []string, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("%s: %d ids, want %d", what, len(got), to-from)
	}
	for i, id := range got {
		if want := "t" + strconv.Itoa(from+i); id != want {
			t.Fatalf("%s[%d] = %s, want %s", what, i, id, want)
		}
	}
}

func TestAddTasksChunking(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		cmdBytes  int
		wantCalls int
	}{
		{"one task", 1, 0, 1},
		{"exactly one chunk", 100, 0, 1},
		{"count limit", 250, 0, 3},
		{"byte limit", 120, 30_000, 4}, // 34 tasks of ~30 kB fit under 1 MiB
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newAddFixture(t)
			var log addLog
			f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
				log.record(ids, n)
				return http.StatusOK, nil
			}
			res, err := c.AddTasks(context.Background(), "j1", makeTasks(tt.n, tt.cmdBytes), fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "added", res.Added, 0, tt.n)
			if len(res.Existing)+len(res.Failed) != 0 {
				t.Errorf("existing %v failed %v, want none", res.Existing, res.Failed)
			}
			if len(log.sizes) != tt.wantCalls {
				t.Errorf("%d calls %v, want %d", len(log.sizes), log.sizes, tt.wantCalls)
			}
			for i := range log.sizes {
				if log.sizes[i] > MaxTasksPerCollection || log.bytes[i] >= MaxCollectionBodyBytes {
					t.Errorf("call %d: %d tasks, %d bytes", i, log.sizes[i], log.bytes[i])
				}
			}
			if got := len(f.taskIDs("j1")); got != tt.n {
				t.Errorf("service has %d tasks, want %d", got, tt.n)
			}
		})
	}
}

func TestAddTasksSplitsOnRequestBodyTooLarge(t *testing.T) {
	f, c := newAddFixture(t)
	var log addLog
	f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
		log.record(ids, n)
		if len(ids) > 30 { // pretend the service's limit is lower than ours
			return http.StatusRequestEntityTooLarge, nil
		}
		return http.StatusOK, nil
	}
	res, err := c.AddTasks(context.Background(), "j1", makeTasks(300, 0), &AddTasksOptions{Concurrency: 1, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "added", res.Added, 0, 300)
	// 100 → 413, 50 → 413, 25 ok ...: after the first two refusals every
	// chunk is at most 25.
	if len(log.sizes) < 3 || log.sizes[0] != 100 || log.sizes[1] != 50 || log.sizes[2] != 25 {
		t.Fatalf("call sizes %v, want 100, 50, 25, ...", log.sizes)
	}
	for i, n := range log.sizes[2:] {
		if n > 25 {
			t.Errorf("call %d has %d tasks after the chunk size was lowered to 25", i+2, n)
		}
	}
}

func TestAddTasksSingleOversizedTask(t *testing.T) {
	f, c := newAddFixture(t)
	var log addLog
	f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
		log.record(ids, n)
		return http.StatusOK, nil
	}
	tasks := makeTasks(3, 0)
	tasks[1].CommandLine = strings.Repeat("y", MaxCollectionBodyBytes)
	res, err := c.AddTasks(context.Background(), "j1", tasks, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 || len(res.Failed) != 1 || res.Failed[0].TaskID != "t1" || res.Failed[0].Code != CodeRequestBodyTooLarge {
		t.Fatalf("result %+v, want t1 failed with %s", res, CodeRequestBodyTooLarge)
	}
	for _, n := range log.bytes {
		if n >= MaxCollectionBodyBytes {
			t.Errorf("sent a %d byte body", n)
		}
	}
}

func TestAddTasksServerErrorRetry(t *testing.T) {
	tests := []struct {
		name       string
		failTimes  int
		maxRetries int
		wantAdded  bool
	}{
		{"recovers", 2, 3, true},
		{"exhausted", 5, 2, false},
		{"retries disabled", 1, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newAddFixture(t)
			var mu sync.Mutex
			sends := map[string]int{}
			f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
				mu.Lock()
				defer mu.Unlock()
				out := map[string]TaskAddResult{}
				for _, id := range ids {
					sends[id]++
					if id == "t7" && sends[id] <= tt.failTimes {
						out[id] = TaskAddResult{Status: TaskAddStatusServerError, Error: &Error{Code: CodeServerBusy, Message: &ErrorMessage{Value: "busy"}}}
					}
				}
				return http.StatusOK, out
			}
			res, err := c.AddTasks(context.Background(), "j1", makeTasks(150, 0),
				&AddTasksOptions{MaxServerErrorRetries: tt.maxRetries, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			wantAttempts := min(tt.failTimes+1, max(tt.maxRetries, 0)+1)
			mu.Lock()
			got := sends["t7"]
			others := sends["t8"]
			mu.Unlock()
			if got != wantAttempts || others != 1 {
				t.Errorf("t7 sent %d times (want %d), t8 sent %d times (want 1)", got, wantAttempts, others)
			}
			if tt.wantAdded {
				wantIDs(t, "added", res.Added, 0, 150)
				return
			}
			if len(res.Added) != 149 || len(res.Failed) != 1 {
				t.Fatalf("added %d failed %+v, want 149 and t7", len(res.Added), res.Failed)
			}
			if f := res.Failed[0]; f.TaskID != "t7" || f.Status != TaskAddStatusServerError || f.Code != CodeServerBusy || f.Message != "busy" {
				t.Errorf("failure = %+v", f)
			}
		})
	}
}

func TestAddTasksExistingAndClientErrors(t *testing.T) {
	f, c := newAddFixture(t)
	ctx := context.Background()
	// First add t0..t9, then add t0..t29 where t20..t24 are refused.
	if _, err := c.AddTasks(ctx, "j1", makeTasks(10, 0), fastRetry); err != nil {
		t.Fatal(err)
	}
	f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
		out := map[string]TaskAddResult{}
		for _, id := range ids {
			if i, _ := strconv.Atoi(id[1:]); i >= 20 && i < 25 {
				out[id] = TaskAddResult{Status: TaskAddStatusClientError, Error: &Error{Code: CodeInvalidPropertyValue,
					Message: &ErrorMessage{Value: "bad " + id}, Values: []ErrorDetail{{Key: "PropertyName", Value: "commandLine"}}}}
			}
		}
		return http.StatusOK, out
	}
	res, err := c.AddTasks(ctx, "j1", makeTasks(30, 0), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "existing", res.Existing, 0, 10)
	if len(res.Added) != 15 || res.Added[0] != "t10" || res.Added[10] != "t25" {
		t.Errorf("added = %v, want t10..t19 and t25..t29", res.Added)
	}
	if len(res.Failed) != 5 {
		t.Fatalf("failed = %+v, want t20..t24", res.Failed)
	}
	for i, fl := range res.Failed {
		id := "t" + strconv.Itoa(20+i)
		if fl.TaskID != id || fl.Status != TaskAddStatusClientError || fl.Code != CodeInvalidPropertyValue ||
			fl.Message != "bad "+id || len(fl.Values) != 1 {
			t.Errorf("failed[%d] = %+v", i, fl)
		}
	}
}

func TestAddTasksWholeChunkFailure(t *testing.T) {
	tests := []struct {
		name     string
		job      string
		status   int
		wantCode string
	}{
		{"persistent 500", "j1", http.StatusInternalServerError, CodeInternalError},
		{"job not found", "nope", http.StatusOK, CodeJobNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newAddFixture(t)
			f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) { return tt.status, nil }
			res, err := c.AddTasks(context.Background(), tt.job, makeTasks(450, 0), fastRetry)
			if !HasCode(err, tt.wantCode) || res != nil {
				t.Fatalf("AddTasks = %+v, %v; want nil and code %s", res, err, tt.wantCode)
			}
			if !strings.HasPrefix(err.Error(), "add tasks to job "+tt.job) {
				t.Errorf("error %q lacks the operation", err)
			}
		})
	}
}

func TestAddTasksConcurrency(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		wantMax     int
	}{
		{"serial", 1, 1},
		{"default four", 0, 4},
		{"three", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newAddFixture(t)
			// Calls wait for one another until wantMax are in flight; more
			// than wantMax would show as a higher maximum, fewer as a lower.
			f.holdFor = tt.wantMax
			f.addDelay = 5 * time.Millisecond
			res, err := c.AddTasks(context.Background(), "j1", makeTasks(800, 0), &AddTasksOptions{Concurrency: tt.concurrency})
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "added", res.Added, 0, 800)
			f.mu.Lock()
			got := f.maxFlight
			f.mu.Unlock()
			if got != tt.wantMax {
				t.Errorf("max in flight = %d, want %d", got, tt.wantMax)
			}
		})
	}
}

func TestAddTasksInputErrors(t *testing.T) {
	_, c := newAddFixture(t)
	ctx := context.Background()
	dup := makeTasks(3, 0)
	dup[2].ID = "T1"
	tests := []struct {
		name    string
		job     string
		tasks   []TaskAddParameter
		opts    *AddTasksOptions
		wantErr string
	}{
		{"empty job id", "", makeTasks(1, 0), nil, "job id is empty"},
		{"empty task id", "j1", []TaskAddParameter{{CommandLine: "x"}}, nil, "task 0 has an empty id"},
		{"duplicate ids differ only in case", "j1", dup, nil, `same id "T1"`},
		{"negative concurrency", "j1", makeTasks(1, 0), &AddTasksOptions{Concurrency: -1}, "concurrency -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.AddTasks(ctx, tt.job, tt.tasks, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	res, err := c.AddTasks(ctx, "j1", nil, nil)
	if err != nil || len(res.Added)+len(res.Existing)+len(res.Failed) != 0 {
		t.Errorf("no tasks: %+v, %v; want an empty result", res, err)
	}
}

func TestAddTasksCancel(t *testing.T) {
	f, c := newAddFixture(t)
	f.addDelay = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) { cancel(); return http.StatusOK, nil }
	_, err := c.AddTasks(ctx, "j1", makeTasks(1000, 0), &AddTasksOptions{Concurrency: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestAddTasksMissingResultIsRetried(t *testing.T) {
	f, c := newAddFixture(t)
	var mu sync.Mutex
	sends := 0
	f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]TaskAddResult{}
		for _, id := range ids {
			if id == "t3" {
				sends++
				if sends == 1 {
					out[id] = TaskAddResult{} // no result for t3 the first time
				}
			}
		}
		return http.StatusOK, out
	}
	res, err := c.AddTasks(context.Background(), "j1", makeTasks(5, 0), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "added", res.Added, 0, 5)
	if sends != 2 {
		t.Errorf("t3 sent %d times, want 2", sends)
	}
}

// TestAddTasksServiceRefusesOneTask: the service answers 413 for every
// chunk that holds t5, so halving isolates it and only t5 fails.
func TestAddTasksServiceRefusesOneTask(t *testing.T) {
	f, c := newAddFixture(t)
	f.onAdd = func(ids []string, n int) (int, map[string]TaskAddResult) {
		for _, id := range ids {
			if id == "t5" {
				return http.StatusRequestEntityTooLarge, nil
			}
		}
		return http.StatusOK, nil
	}
	res, err := c.AddTasks(context.Background(), "j1", makeTasks(40, 0), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 39 || len(res.Failed) != 1 {
		t.Fatalf("added %d, failed %+v; want 39 and t5", len(res.Added), res.Failed)
	}
	if fl := res.Failed[0]; fl.TaskID != "t5" || fl.Code != CodeRequestBodyTooLarge || fl.Status != TaskAddStatusClientError {
		t.Errorf("failure = %+v", fl)
	}
}
