package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// TestSweepPoolsLostTaskRetriedAfterFailure: lost-task recovery must follow
// the write policy of the other stages: when acting on a recorded decision
// fails, a later sweep acts on it again. A failed record write is retried
// (the record still lists the task in flight); a failed schedule or publish
// after the write is not: the record no longer lists the task in flight,
// so ListInFlight never offers it again, and Record.Lost would not repeat
// the decision anyway. The request then stays queued, or failed, with no
// message ever sent: it is never answered.
func TestSweepPoolsLostTaskRetriedAfterFailure(t *testing.T) {
	tests := []struct {
		name   string
		extra  string
		inject func(f *fixture)
	}{
		{"record write fails", "", func(f *fixture) { f.status.inject(func(s *fakeStatus) { s.failWrites = 1 }) }},
		{"scheduling the resubmission fails", "", func(f *fixture) { f.arrivals.failNext = 1 }},
		{"publishing the lost answer fails", `,"resubmit":2`, func(f *fixture) { f.results.failNext = 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.batch.lose(submitLost(t, f, tc.extra))
			f.clock.advance(time.Hour)
			tc.inject(f)
			if _, err := f.app.SweepPools(context.Background(), timerRequest()); err == nil {
				t.Fatal("SweepPools succeeded despite the failure")
			}
			for range 3 { // later sweeps, each past the grace period
				f.clock.advance(f.cfg.OrphanGrace + time.Minute)
				f.sweep(t)
			}
			if tc.extra != "" {
				wantAnswer(t, f, "m-1", "c-1", results.StatusFailed)
				return
			}
			// Recovery sends before it records, so a failed record write
			// sends the resubmission again: under the same message id,
			// which duplicate detection drops.
			if len(f.arrivals.scheduled) == 0 {
				t.Fatalf("no resubmission scheduled after the retry (record: %+v)", f.entry(t, "input", "a.mp4", "m-1"))
			}
			for _, s := range f.arrivals.scheduled {
				if id := *s.msg.MessageID; id != request.AttemptMessageID("m-1", 1) {
					t.Errorf("scheduled %s, want only attempt 1 (%s)", id, request.AttemptMessageID("m-1", 1))
				}
			}
			if e := f.entry(t, "input", "a.mp4", "m-1"); e.State != results.StateQueued || e.Attempt != 1 {
				t.Errorf("record after the retry: %s attempt %d, want queued attempt 1", e.State, e.Attempt)
			}
		})
	}
}
