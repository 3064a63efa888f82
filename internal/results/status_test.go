package results

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
)

func TestSupersedes(t *testing.T) {
	cur := &FileStatus{ETag: "0x1", State: StateSubmitted}
	tests := []struct {
		name string
		u    FileStatus
		want bool
	}{
		{"first write", FileStatus{ETag: "0x1", State: StateQueued}, true},
		{"progress", FileStatus{ETag: "0x1", State: StateSucceeded}, true},
		{"same state again", FileStatus{ETag: "0x1", State: StateSubmitted}, true},
		{"regress", FileStatus{ETag: "0x1", State: StateQueued}, false},
		{"resubmission regresses the state", FileStatus{ETag: "0x1", State: StateQueued, Resubmits: 1}, true},
		{"new version queued", FileStatus{ETag: "0x2", State: StateQueued}, true},
		{"late result for another version", FileStatus{ETag: "0x2", State: StateSucceeded}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cur
			if tc.name == "first write" {
				c = nil
			}
			if got := tc.u.supersedes(c); got != tc.want {
				t.Errorf("supersedes = %v, want %v", got, tc.want)
			}
		})
	}
}

func newStore(t *testing.T) *StatusStore {
	t.Helper()
	az := azuritetest.Start(t)
	cc, err := container.NewClientFromConnectionString(az.ConnectionString, "ffbatch-status", nil)
	if err != nil {
		t.Fatal(err)
	}
	return NewStatusStore(cc, func() time.Time { return t0 })
}

func TestStatusStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Get(ctx, "input", "a.mp4"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on empty store = %v, want ErrNotFound", err)
	}
	steps := []struct {
		u         FileStatus
		written   bool
		wantState State
	}{
		{FileStatus{Container: "input", Blob: "a.mp4", ETag: "0x1", State: StateQueued, QueuedAt: t0}, true, StateQueued},
		{FileStatus{Container: "input", Blob: "a.mp4", ETag: "0x1", State: StateSubmitted, TaskID: "t-1", SubmittedAt: t0.Add(time.Second)}, true, StateSubmitted},
		{FileStatus{Container: "input", Blob: "a.mp4", ETag: "0x1", State: StateQueued}, false, StateSubmitted},
		{FileStatus{Container: "input", Blob: "a.mp4", ETag: "0x1", State: StateSucceeded, Output: &Output{URL: "u"}}, true, StateSucceeded},
	}
	for i, st := range steps {
		written, err := s.Put(ctx, st.u)
		if err != nil {
			t.Fatalf("step %d: Put: %v", i, err)
		}
		if written != st.written {
			t.Errorf("step %d: written = %v, want %v", i, written, st.written)
		}
		got, err := s.Get(ctx, "input", "a.mp4")
		if err != nil {
			t.Fatalf("step %d: Get: %v", i, err)
		}
		if got.State != st.wantState {
			t.Errorf("step %d: state = %s, want %s", i, got.State, st.wantState)
		}
	}
	got, _ := s.Get(ctx, "input", "a.mp4")
	if !got.QueuedAt.Equal(t0) || got.TaskID != "t-1" || got.SubmittedAt.IsZero() {
		t.Errorf("milestones not kept: %+v", got)
	}

	// Concurrent writers on one document: every Put completes, the final
	// state is the highest rank.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := []State{StateQueued, StateSubmitted, StateFailed, StateSubmitted}[i%4]
			if _, err := s.Put(ctx, FileStatus{Container: "input", Blob: "b.mp4", ETag: "0x9", State: state}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	if got, err := s.Get(ctx, "input", "b.mp4"); err != nil || got.State != StateFailed {
		t.Errorf("after concurrent writes: %+v, %v", got, err)
	}

	for i := range 3 {
		if _, err := s.Put(ctx, FileStatus{Container: "input", Blob: fmt.Sprintf("r%d.mp4", i), ETag: "0x1", State: StateRejected}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.Summarize(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 5 || sum.Counts[StateRejected] != 3 || sum.Counts[StateSucceeded] != 1 || sum.Counts[StateFailed] != 1 || sum.Truncated {
		t.Errorf("summary = %+v", sum)
	}
	if sum, _ := s.Summarize(ctx, 2); !sum.Truncated || sum.Total != 2 {
		t.Errorf("limited summary = %+v", sum)
	}
}
