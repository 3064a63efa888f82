package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// submitLost submits request m-1 for a.mp4 (with extra arrival fields) and
// returns its task id.
func submitLost(t *testing.T, f *fixture, extra string) string {
	t.Helper()
	f.submit(t, message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-1"`+extra)})
	return f.entry(t, "input", "a.mp4", "m-1").TaskID
}

func TestSweepPoolsLostTasks(t *testing.T) {
	tests := []struct {
		name  string
		extra string // arrival fields of m-1
		// lose runs after the task was added; it loses the task (or not).
		lose    func(t *testing.T, f *fixture, task string)
		elapsed time.Duration
		// wantResubmit is the attempt scheduled (0: none); wantCode the
		// code of the "lost" failure answered ("": none).
		wantResubmit int
		wantCode     string
		wantState    results.State
		// wantLog is a line of the sweep's log ("" for none).
		wantLog string
	}{
		{name: "task vanished after grace", lose: func(_ *testing.T, f *fixture, task string) { f.batch.lose(task) },
			elapsed: 16 * time.Minute, wantResubmit: 1, wantState: results.StateQueued, wantLog: "1 in-flight files checked, 1 resubmitted, 0 failed"},
		{name: "job vanished after grace", lose: func(_ *testing.T, f *fixture, _ string) { _ = f.batch.DeleteJob(context.Background(), f.cfg.JobID) },
			elapsed: 16 * time.Minute, wantResubmit: 1, wantState: results.StateQueued},
		{name: "task vanished within grace", lose: func(_ *testing.T, f *fixture, task string) { f.batch.lose(task) },
			elapsed: 14 * time.Minute, wantState: results.StateSubmitted},
		{name: "task still there after grace", lose: func(*testing.T, *fixture, string) {},
			elapsed: time.Hour, wantState: results.StateSubmitted, wantLog: "1 in-flight files checked, 0 resubmitted, 0 failed"},
		{name: "resubmit limit reached", extra: `,"resubmit":2`, lose: func(_ *testing.T, f *fixture, task string) { f.batch.lose(task) },
			elapsed: 16 * time.Minute, wantCode: batch.CodeTaskNotFound, wantState: results.StateFailed, wantLog: "1 in-flight files checked, 0 resubmitted, 1 failed"},
		{name: "job vanished with the resubmit limit reached", extra: `,"resubmit":2`,
			lose:    func(_ *testing.T, f *fixture, _ string) { _ = f.batch.DeleteJob(context.Background(), f.cfg.JobID) },
			elapsed: 16 * time.Minute, wantCode: batch.CodeJobNotFound, wantState: results.StateFailed},
		{name: "settled by a concurrent sweep meanwhile",
			lose: func(t *testing.T, f *fixture, task string) {
				// The other sweep records the success, then deletes the task,
				// while this one lists the job's task ids.
				e := f.entry(t, "input", "a.mp4", "m-1")
				f.batch.onListTaskIDs = func() {
					delete(f.batch.tasks, task)
					_, err := f.status.Update(context.Background(), "input", "a.mp4", func(rec *lifecycle.Record) lifecycle.Change {
						return rec.Settle(task, e.Request, lifecycle.TaskResult{Outcome: results.OutcomeSuccess, MP3: f.app.outputRef("a.mp3")}, f.cfg.MaxResubmits, f.now())
					})
					if err != nil {
						t.Error(err)
					}
				}
			},
			elapsed: 16 * time.Minute, wantState: results.StateSucceeded, wantLog: "1 in-flight files checked, 0 resubmitted, 0 failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			task := submitLost(t, f, tc.extra)
			tc.lose(t, f, task)
			f.clock.advance(tc.elapsed)
			resp := f.sweep(t)
			if tc.wantResubmit > 0 {
				if len(f.arrivals.scheduled) != 1 {
					t.Fatalf("scheduled %d messages, want 1", len(f.arrivals.scheduled))
				}
				sch := f.arrivals.scheduled[0]
				arr, err := arrival.Parse(sch.msg.Body)
				if err != nil || arr.Request != "m-1" || arr.Correlation != "c-1" || arr.Resubmit != tc.wantResubmit ||
					*sch.msg.MessageID != request.AttemptMessageID("m-1", tc.wantResubmit) {
					t.Errorf("resubmission = %+v, %v, id %s", arr, err, *sch.msg.MessageID)
				}
				if !sch.at.Equal(f.now().Add(f.cfg.ResubmitBackoff)) {
					t.Errorf("scheduled at %v, want now + %v", sch.at, f.cfg.ResubmitBackoff)
				}
			} else if len(f.arrivals.scheduled) != 0 {
				t.Errorf("scheduled %d messages, want none", len(f.arrivals.scheduled))
			}
			if tc.wantLog != "" && !strings.Contains(strings.Join(resp.Logs, "\n"), tc.wantLog) {
				t.Errorf("logs = %q, want %q", resp.Logs, tc.wantLog)
			}
			if tc.wantCode != "" {
				ev := wantAnswer(t, f, "m-1", "c-1", results.StatusFailed)
				if ev.Failure.Category != results.CategoryLost || ev.Failure.Code != tc.wantCode || !ev.Failure.Transient ||
					ev.TaskID != task || ev.Attempts.Resubmits != 2 || ev.Output != nil {
					t.Errorf("answer = %+v, failure %+v", ev, ev.Failure)
				}
			} else {
				wantNoAnswer(t, f, "m-1")
			}
			if e := f.entry(t, "input", "a.mp4", "m-1"); e.State != tc.wantState {
				t.Errorf("state %s, want %s", e.State, tc.wantState)
			}
		})
	}
}

// TestSweepPoolsLostTaskLifecycle follows a request whose tasks keep being
// lost: each loss past the grace resubmits it with a new task id, until
// FFBATCH_MAX_RESUBMITS, after which it and the request sharing its task
// are answered failed with category lost; or a resubmitted task succeeds
// and the request is answered once.
func TestSweepPoolsLostTaskLifecycle(t *testing.T) {
	for _, succeedAt := range []int{1, -1} {
		t.Run(fmt.Sprint("succeeds at attempt ", succeedAt), func(t *testing.T) {
			f := newFixture(t, nil)
			r := reqFor("m-1", "input", "a.mp4", "0x1", defaultPreset, "a.mp3")
			submitLost(t, f, "")
			f.submit(t, message{id: "m-2", body: arrivalJSON("input", "a.mp4", "0x1", `,"correlation":"c-2"`)})
			for n := 0; n <= f.cfg.MaxResubmits; n++ {
				task := request.TaskID(r, n)
				if ids := f.batch.addedIDs(); len(ids) != n+1 || ids[n] != task {
					t.Fatalf("attempt %d: tasks %v, want %s last", n, ids, task)
				}
				if n == succeedAt {
					f.succeed(task, f.now(), f.now().Add(time.Second))
					f.sweep(t)
					break
				}
				f.batch.lose(task)
				f.clock.advance(f.cfg.OrphanGrace + time.Minute)
				f.sweep(t)
				f.clock.advance(backoff(f.cfg.ResubmitBackoff, n+1))
				f.forward(t)
			}
			status, wantCategory := results.StatusFailed, results.CategoryLost
			if succeedAt > 0 {
				status, wantCategory = results.StatusSucceeded, ""
			}
			for id, corr := range map[string]string{"m-1": "c-1", "m-2": "c-2"} {
				ev := wantAnswer(t, f, id, corr, status)
				if ev.Failure != nil && ev.Failure.Category != wantCategory || ev.Failure == nil && wantCategory != "" {
					t.Errorf("request %s: failure %+v, want category %q", id, ev.Failure, wantCategory)
				}
			}
			if len(f.results.sent) != 2 {
				t.Errorf("%d result messages, want 2", len(f.results.sent))
			}
		})
	}
}

func TestSweepPoolsLostTasksFailures(t *testing.T) {
	tests := []struct {
		name   string
		inject func(f *fixture)
	}{
		{"task id listing unavailable", func(f *fixture) { f.batch.fail["ListTaskIDs"] = batchErr(500, batch.CodeInternalError) }},
		{"status listing fails", func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.listErr = errStorage }) }},
		{"record write fails", func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) }},
		{"scheduling fails", func(f *fixture) { f.arrivals.err = errServiceBus }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.batch.lose(submitLost(t, f, ""))
			f.clock.advance(time.Hour)
			tc.inject(f)
			if _, err := f.app.SweepPools(context.Background(), timerRequest()); err == nil {
				t.Fatal("SweepPools succeeded")
			}
		})
	}
}

// TestSweepPoolsLostTasksConcurrent runs two function instances' sweeps at
// once over the same account and store: every lost request is resubmitted
// under one message id, or answered under one result id (each sweep may
// send it, as recovery sends before it records; duplicate detection keeps
// one).
func TestSweepPoolsLostTasksConcurrent(t *testing.T) {
	for _, extra := range []string{"", `,"resubmit":2`} {
		t.Run("extra="+extra, func(t *testing.T) {
			f := newFixture(t, nil)
			names := []string{"a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4"}
			for _, n := range names {
				f.submit(t, message{id: "m-" + n, body: arrivalJSON("input", n, "0x1", extra)})
			}
			f.batch.tasks = map[string]*batch.Task{}
			f.clock.advance(time.Hour)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, a := range []*App{f.app, f.newApp()} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = a.SweepPools(context.Background(), timerRequest())
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				var scheduled []string
				for _, s := range f.arrivals.scheduled {
					if arr, _ := arrival.Parse(s.msg.Body); arr.Blob == n {
						scheduled = append(scheduled, *s.msg.MessageID)
					}
				}
				if extra == "" {
					if len(scheduled) == 0 || len(scheduled) > 2 {
						t.Errorf("%s: scheduled %v, want attempt 1 once or twice", n, scheduled)
					}
					for _, id := range scheduled {
						if id != request.AttemptMessageID("m-"+n, 1) {
							t.Errorf("%s: scheduled %s, want only attempt 1's id", n, id)
						}
					}
					continue
				}
				if ev := wantRepeatedAnswer(t, f, "m-"+n, "", results.StatusFailed, 2); ev.Failure.Category != results.CategoryLost || len(scheduled) != 0 {
					t.Errorf("%s: answer %+v, scheduled %v", n, ev.Failure, scheduled)
				}
			}
		})
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

// TestSweepPoolsLostTasksManyFiles: more in-flight records than one sweep
// checks are all covered by consecutive sweeps.
func TestSweepPoolsLostTasksManyFiles(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.batch.jobs["ffbatch-job"] = &batch.Job{ID: "ffbatch-job", State: batch.JobStateActive}
	n := maxOrphanChecks + 5
	for i := range n {
		b := fmt.Sprintf("f%04d.mp4", i)
		r := reqFor(fmt.Sprint("m-", i), "input", b, "0x1", defaultPreset, plan.OutputName(b, defaultPreset, defaultPreset))
		if _, err := f.status.Update(ctx, "input", b, func(rec *lifecycle.Record) lifecycle.Change { return rec.Submit(r, f.now()) }); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.advance(time.Hour)
	for i, want := range []int{maxOrphanChecks, n} {
		f.sweep(t)
		f.clock.advance(time.Second)
		if got := len(f.arrivals.scheduled); got != want {
			t.Fatalf("after sweep %d: %d resubmitted, want %d", i+1, got, want)
		}
	}
}

// TestSweepPoolsLostTasksHealthyCost: a scan over healthy in-flight records
// lists the job's task ids once and makes no per-record Batch call or
// status read or write.
func TestSweepPoolsLostTasksHealthyCost(t *testing.T) {
	const n = 25
	f := newFixture(t, nil)
	for i := range n {
		f.submit(t, message{id: fmt.Sprint("m-", i), body: arrivalJSON("input", fmt.Sprintf("f%02d.mp4", i), "0x1", "")})
	}
	if len(f.batch.tasks) != n {
		t.Fatalf("%d tasks added, want %d", len(f.batch.tasks), n)
	}
	f.clock.advance(time.Hour)
	f.batch.calls = nil
	updates, _, gets := f.status.counts()
	f.sweep(t)
	count := map[string]int{}
	for _, c := range f.batch.calls {
		count[c]++
	}
	updates2, _, gets2 := f.status.counts()
	if count["GetTask"] != 0 || count["ListTaskIDs"] != 1 || updates2 != updates || gets2 != gets {
		t.Errorf("Batch calls %v, %d status updates, %d reads; want one id listing, no GetTask, no status access", count, updates2-updates, gets2-gets)
	}
	if len(f.arrivals.scheduled) != 0 || len(f.results.sent) != 0 {
		t.Errorf("healthy requests recovered: %d scheduled, %d answers", len(f.arrivals.scheduled), len(f.results.sent))
	}
}
