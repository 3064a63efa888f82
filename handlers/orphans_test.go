package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// submitOne runs SubmitTasks for one arrival and waits for its status
// document, dated by the fixture's clock.
func submitOne(t *testing.T, f *fixture, body string) {
	t.Helper()
	ctx := context.Background()
	f.status.now = func() time.Time { return f.now }
	if _, err := f.app.SubmitTasks(ctx, sbBatchRequest(body)); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func resultEvents(t *testing.T, s *fakeSender) []results.Event {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []results.Event
	for _, m := range s.sent {
		var ev results.Event
		if err := json.Unmarshal(m.Body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestSweepPoolsLostTasks(t *testing.T) {
	ctx := context.Background()
	id := func(r int) string { return plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", r) }
	tests := []struct {
		name string
		// resubmit is the arrival's resubmission number.
		resubmit int
		// setup runs after the task was added; it loses the task.
		setup   func(t *testing.T, f *fixture)
		elapsed time.Duration
		// wantResubmit is the resubmission number scheduled (0: none);
		// wantCategory the failure published ("": none).
		wantResubmit int
		wantCategory results.Category
		wantCode     string
		wantState    results.State
	}{
		{
			name:  "task vanished after grace",
			setup: func(t *testing.T, f *fixture) { delete(f.batch.tasks, id(0)) }, elapsed: 16 * time.Minute,
			wantResubmit: 1, wantState: results.StateQueued,
		},
		{
			name: "job vanished after grace",
			setup: func(t *testing.T, f *fixture) {
				delete(f.batch.jobs, f.cfg.JobID)
				f.batch.tasks = map[string]*batch.Task{}
			}, elapsed: 16 * time.Minute,
			wantResubmit: 1, wantState: results.StateQueued,
		},
		{
			name:  "task vanished within grace",
			setup: func(t *testing.T, f *fixture) { delete(f.batch.tasks, id(0)) }, elapsed: 14 * time.Minute,
			wantState: results.StateSubmitted,
		},
		{
			name:    "task still there after grace",
			setup:   func(t *testing.T, f *fixture) {},
			elapsed: time.Hour, wantState: results.StateSubmitted,
		},
		{
			name: "running file whose task vanished",
			setup: func(t *testing.T, f *fixture) {
				delete(f.batch.tasks, id(0))
				setState(f, "input/a.mp4", results.StateRunning)
			}, elapsed: 16 * time.Minute,
			wantResubmit: 1, wantState: results.StateQueued,
		},
		{
			name: "resubmit limit reached", resubmit: 2,
			setup: func(t *testing.T, f *fixture) { delete(f.batch.tasks, id(2)) }, elapsed: 16 * time.Minute,
			wantCategory: results.CategoryLost, wantCode: batch.CodeTaskNotFound, wantState: results.StateFailed,
		},
		{
			name: "job vanished with resubmit limit reached", resubmit: 2,
			setup: func(t *testing.T, f *fixture) { delete(f.batch.jobs, f.cfg.JobID) }, elapsed: 16 * time.Minute,
			wantCategory: results.CategoryLost, wantCode: batch.CodeJobNotFound, wantState: results.StateFailed,
		},
		{
			name: "document without the arrival",
			setup: func(t *testing.T, f *fixture) {
				delete(f.batch.tasks, id(0))
				f.status.mu.Lock()
				d := f.status.docs["input/a.mp4"]
				d.Arrival = nil
				f.status.docs["input/a.mp4"] = d
				f.status.mu.Unlock()
			},
			elapsed:      16 * time.Minute,
			wantCategory: results.CategoryLost, wantCode: batch.CodeTaskNotFound, wantState: results.StateFailed,
		},
		{
			name: "reported by a concurrent sweep meanwhile",
			setup: func(t *testing.T, f *fixture) {
				// The other sweep records the success, then deletes the task,
				// while this one asks Batch about it (Get Task for a legacy
				// document, else the task id listing).
				other := func() {
					delete(f.batch.tasks, id(0))
					setState(f, "input/a.mp4", results.StateSucceeded)
				}
				f.batch.onGetTask = func(string) { other() }
				f.batch.onListTaskIDs = other
			},
			elapsed: 16 * time.Minute, wantState: results.StateSucceeded,
		},
	}
	// Each case runs over documents listed with their task id in metadata
	// and over legacy documents (read whole, checked with Get Task).
	for _, tc := range tests {
		for _, legacy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/legacy=%v", tc.name, legacy), func(t *testing.T) {
				f := newFixture(t, nil)
				f.status.legacy = legacy
				extra := ""
				if tc.resubmit > 0 {
					extra = `,"resubmit":` + string(rune('0'+tc.resubmit))
				}
				submitOne(t, f, arrivalJSON("a.mp4", "0x1", 10, `,"correlation":"c-1"`+extra))
				tc.setup(t, f)
				f.now = f.now.Add(tc.elapsed)
				resp, err := f.app.SweepPools(ctx, timerRequest())
				if err != nil {
					t.Fatalf("SweepPools: %v", err)
				}
				if tc.wantResubmit > 0 {
					if len(f.arrivals.scheduled) != 1 {
						t.Fatalf("scheduled %d messages, want 1", len(f.arrivals.scheduled))
					}
					sch := f.arrivals.scheduled[0]
					arr, err := arrival.Parse(sch.msg.Body)
					if err != nil || arr.Blob != "a.mp4" || arr.Size != 10 || arr.Correlation != "c-1" || arr.Resubmit != tc.wantResubmit ||
						*sch.msg.MessageID != arr.MessageID() {
						t.Errorf("resubmission = %+v, %v, id %s", arr, err, *sch.msg.MessageID)
					}
					if !sch.at.Equal(f.now.Add(time.Minute)) {
						t.Errorf("scheduled at %v, want now+1m", sch.at)
					}
					if !strings.Contains(strings.Join(resp.Logs, "\n"), "1 resubmitted, 0 failed") {
						t.Errorf("logs = %q", resp.Logs)
					}
				} else if len(f.arrivals.scheduled) != 0 {
					t.Errorf("scheduled %d messages, want none", len(f.arrivals.scheduled))
				}
				evs := resultEvents(t, f.results)
				if tc.wantCategory != "" {
					if len(evs) != 1 {
						t.Fatalf("published %d events, want 1", len(evs))
					}
					ev := evs[0]
					if ev.Status != results.StatusFailed || ev.Failure.Category != tc.wantCategory || ev.Failure.Code != tc.wantCode ||
						!ev.Failure.Transient || ev.ID != resultID(plan.File{Container: "input", Blob: "a.mp4", ETag: "0x1", Preset: "mp3-192k-cbr"}) ||
						ev.TaskID != id(tc.resubmit) || ev.Attempts.Resubmits != tc.resubmit {
						t.Errorf("event = %+v, failure %+v", ev, ev.Failure)
					}
				} else if len(evs) != 0 {
					t.Errorf("published %d events, want none", len(evs))
				}
				st, err := f.status.Get(ctx, "input", "a.mp4")
				if err != nil || st.State != tc.wantState {
					t.Errorf("status = %+v, %v; want state %s", st, err, tc.wantState)
				}
			})
		}
	}
}

// setState rewrites the state of a stored document in place (its date
// unchanged), as another function's write would.
func setState(f *fixture, key string, s results.State) {
	f.status.mu.Lock()
	defer f.status.mu.Unlock()
	d := f.status.docs[key]
	d.State = s
	f.status.docs[key] = d
}

func TestSweepPoolsLostTasksFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(f *fixture)
	}{
		{"batch unavailable", func(f *fixture) {
			f.status.legacy = true // checked with Get Task
			f.batch.fail["GetTask"] = batchErr(500, batch.CodeInternalError)
		}},
		{"task id listing unavailable", func(f *fixture) { f.batch.fail["ListTaskIDs"] = batchErr(500, batch.CodeInternalError) }},
		{"re-read fails", func(f *fixture) { f.status.getErr = errors.New("down") }},
		{"status listing fails", func(f *fixture) { f.status.listErr = errors.New("down") }},
		{"scheduling fails", func(f *fixture) { f.arrivals.err = errors.New("down") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			submitOne(t, f, arrivalJSON("a.mp4", "0x1", 10, ""))
			f.batch.tasks = map[string]*batch.Task{}
			f.now = f.now.Add(time.Hour)
			tc.setup(f)
			if _, err := f.app.SweepPools(ctx, timerRequest()); err == nil {
				t.Fatal("SweepPools succeeded")
			}
		})
	}
}

// TestSweepPoolsLostTasksConcurrent runs two function instances' sweeps at
// once over the same account and store: every lost file is resubmitted
// under one message id and one task id, or failed under one result id.
func TestSweepPoolsLostTasksConcurrent(t *testing.T) {
	ctx := context.Background()
	for _, resubmit := range []int{0, 2} {
		f := newFixture(t, nil)
		names := []string{"a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4"}
		for _, n := range names {
			extra := ""
			if resubmit > 0 {
				extra = `,"resubmit":2`
			}
			submitOne(t, f, arrivalJSON(n, "0x1", 10, extra))
		}
		f.batch.tasks = map[string]*batch.Task{}
		f.now = f.now.Add(time.Hour)
		other := New(f.cfg, f.app.log, f.app.d, &Options{Now: func() time.Time { return f.now }})
		t.Cleanup(func() { _ = other.Close(context.Background()) })
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, a := range []*App{f.app, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = a.SweepPools(ctx, timerRequest())
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{} // blob -> message id
		count := func(blob, id string) {
			if prev, ok := ids[blob]; ok && prev != id {
				t.Errorf("resubmit %d: %s got two different ids %s and %s", resubmit, blob, prev, id)
			}
			ids[blob] = id
		}
		for _, s := range f.arrivals.scheduled {
			arr, err := arrival.Parse(s.msg.Body)
			if err != nil || arr.Resubmit != resubmit+1 {
				t.Fatalf("resubmit %d: scheduled %+v, %v", resubmit, arr, err)
			}
			count(arr.Blob, *s.msg.MessageID)
		}
		for _, ev := range resultEvents(t, f.results) {
			if ev.Failure == nil || ev.Failure.Category != results.CategoryLost {
				t.Fatalf("resubmit %d: event %+v", resubmit, ev)
			}
			count(ev.File.Blob, ev.ID)
		}
		if len(ids) != len(names) {
			t.Errorf("resubmit %d: %d files recovered, want %d", resubmit, len(ids), len(names))
		}
		if resubmit == 0 && len(f.results.sent) != 0 || resubmit == 2 && len(f.arrivals.scheduled) != 0 {
			t.Errorf("resubmit %d: %d events, %d scheduled", resubmit, len(f.results.sent), len(f.arrivals.scheduled))
		}
	}
}

// TestSweepPoolsKeepsTaskWhenStatusFails checks the invariant the lost-task
// sweep relies on: a completed task is deleted only after its outcome is
// recorded.
func TestSweepPoolsKeepsTaskWhenStatusFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	submitOne(t, f, arrivalJSON("a.mp4", "0x1", 10, ""))
	id := plan.TaskID("input", "a.mp4", "0x1", "mp3-192k-cbr", 0)
	f.batch.complete(id, batch.TaskExecutionInfo{Result: batch.TaskExecutionResultSuccess, ExitCode: i32(0)})
	f.status.err = errors.New("storage down")
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatalf("SweepPools: %v", err)
	}
	if len(f.batch.deleted) != 0 {
		t.Fatalf("task deleted although its status was not recorded")
	}
	f.status.err = nil
	f.now = f.now.Add(time.Hour)
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatalf("SweepPools: %v", err)
	}
	evs := resultEvents(t, f.results)
	if len(f.batch.deleted) != 1 || len(evs) != 2 || evs[0].ID != evs[1].ID || len(f.arrivals.scheduled) != 0 {
		t.Errorf("deleted %v, %d events, %d scheduled; want the task deleted, the same event twice, no resubmission",
			f.batch.deleted, len(evs), len(f.arrivals.scheduled))
	}
	if st, _ := f.status.Get(ctx, "input", "a.mp4"); st.State != results.StateSucceeded {
		t.Errorf("status = %+v", st)
	}
}

func TestOrphanScanPacing(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var o orphanScan
	steps := []struct {
		at         time.Duration
		next       string // recorded after the scan, if it runs
		want       bool
		wantMarker string
	}{
		{0, "", true, ""},
		{time.Minute, "", false, ""},
		{7 * time.Minute, "", false, ""},
		{8 * time.Minute, "m1", true, ""},
		{9 * time.Minute, "", true, "m1"}, // an unfinished pass continues at once
		{10 * time.Minute, "", false, ""},
		{-time.Hour, "", true, ""}, // the clock went back: scan
	}
	for _, s := range steps {
		marker, got := o.start(t0.Add(s.at), 15*time.Minute)
		if got != s.want || marker != s.wantMarker {
			t.Errorf("start at +%v = %q, %v; want %q, %v", s.at, marker, got, s.wantMarker, s.want)
		}
		if got {
			o.done(s.next)
		}
	}
}

// TestSweepPoolsLostTasksManyFiles: more in-flight files than one sweep
// checks are all covered by consecutive sweeps.
func TestSweepPoolsLostTasksManyFiles(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.status.now = func() time.Time { return f.now }
	n := maxOrphanChecks + 5
	sts := make([]results.FileStatus, n)
	for i := range sts {
		b := fmt.Sprintf("f%04d.mp4", i)
		sts[i] = results.FileStatus{Container: "input", Blob: b, ETag: "0x1", State: results.StateSubmitted,
			TaskID: plan.TaskID("input", b, "0x1", "mp3-192k-cbr", 0), Preset: "mp3-192k-cbr",
			Arrival: &arrival.Arrival{Container: "input", Blob: b, ETag: "0x1", Size: 10}}
		if _, err := f.status.Put(ctx, sts[i]); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.now.Add(time.Hour)
	for i := range 2 {
		if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Second)
		if want := []int{maxOrphanChecks, n}[i]; len(f.arrivals.scheduled) != want {
			t.Fatalf("after sweep %d: %d resubmitted, want %d", i+1, len(f.arrivals.scheduled), want)
		}
	}
}

// TestSweepPoolsRecreatesDeletedPool: tasks waiting in a job whose pool
// was deleted get the pool back from the next sweep.
func TestSweepPoolsRecreatesDeletedPool(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	submitOne(t, f, arrivalJSON("a.mp4", "0x1", 10, ""))
	delete(f.batch.pools, f.cfg.PoolID)
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatalf("SweepPools: %v", err)
	}
	if _, ok := f.batch.pools[f.cfg.PoolID]; !ok {
		t.Fatal("pool not re-created for the pending task")
	}
	// Without pending tasks a missing pool stays missing.
	f.batch.tasks = map[string]*batch.Task{}
	delete(f.batch.pools, f.cfg.PoolID)
	if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
		t.Fatalf("SweepPools: %v", err)
	}
	if _, ok := f.batch.pools[f.cfg.PoolID]; ok {
		t.Error("pool re-created without pending tasks")
	}
}

// TestSweepPoolsLostTasksHealthyCost: a scan over healthy in-flight files
// lists the job's task ids once and makes no per-file Get Task or status
// read; only legacy documents (no task id in metadata) cost one Get Task
// each.
func TestSweepPoolsLostTasksHealthyCost(t *testing.T) {
	ctx := context.Background()
	const n = 25
	tests := []struct {
		name                        string
		legacy                      bool
		wantGetTask, wantListTaskID int
	}{
		{"task id in metadata", false, 0, 1},
		{"legacy documents", true, n, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.status.legacy = tc.legacy
			for i := range n {
				submitOne(t, f, arrivalJSON(fmt.Sprintf("f%02d.mp4", i), "0x1", 10, ""))
			}
			if len(f.batch.tasks) != n {
				t.Fatalf("%d tasks added, want %d", len(f.batch.tasks), n)
			}
			f.now = f.now.Add(time.Hour)
			f.batch.mu.Lock()
			f.batch.calls = nil
			f.batch.mu.Unlock()
			f.status.mu.Lock()
			f.status.gets = 0
			f.status.mu.Unlock()
			if _, err := f.app.SweepPools(ctx, timerRequest()); err != nil {
				t.Fatalf("SweepPools: %v", err)
			}
			count := map[string]int{}
			f.batch.mu.Lock()
			for _, c := range f.batch.calls {
				count[c]++
			}
			f.batch.mu.Unlock()
			f.status.mu.Lock()
			gets := f.status.gets
			f.status.mu.Unlock()
			if count["GetTask"] != tc.wantGetTask || count["ListTaskIDs"] != tc.wantListTaskID || gets != 0 {
				t.Errorf("Batch calls %v, %d status reads; want %d GetTask, %d id listings, no reads",
					count, gets, tc.wantGetTask, tc.wantListTaskID)
			}
			if len(f.arrivals.scheduled) != 0 || len(f.results.sent) != 0 {
				t.Errorf("healthy files recovered: %d scheduled, %d events", len(f.arrivals.scheduled), len(f.results.sent))
			}
		})
	}
}
