package lifecycle

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

func newStore(t *testing.T) *Store { return newStoreB(t) }

func newStoreB(t testing.TB) *Store {
	t.Helper()
	az := azuritetest.Start(t)
	cc, err := container.NewClientFromConnectionString(az.ConnectionString, "ffbatch-status", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(cc, func() time.Time { return t0 })
	s.pageSize = 2
	return s
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Get(ctx, "input", "a.mp4"); err == nil {
		t.Fatalf("Get of an unknown blob succeeded")
	}

	t.Run("racing identical requests add one task", func(t *testing.T) {
		var wg sync.WaitGroup
		tasks := make(chan string, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ch, err := s.Update(ctx, "input", "a.mp4", func(r *Record) Change { return r.Submit(req(fmt.Sprint("r", i)), t0) })
				if err != nil {
					t.Error(err)
					return
				}
				if ch.Task != nil {
					tasks <- ch.Task.TaskID
				}
			}()
		}
		wg.Wait()
		close(tasks)
		if n := len(tasks); n != 1 {
			t.Fatalf("%d tasks added for 8 identical requests, want 1", n)
		}
		rec, err := s.Get(ctx, "input", "a.mp4")
		if err != nil || len(rec.Requests) != 8 || len(rec.InFlightTasks()) != 1 {
			t.Fatalf("record = %+v, %v; want 8 requests on one task", rec, err)
		}
	})

	t.Run("listing shows in-flight tasks and states", func(t *testing.T) {
		for _, b := range []string{"b.mp4", "c.mp4", "d.mp4"} {
			r := req("x-"+b, func(r *request.Request) { r.Blob = b })
			if _, err := s.Update(ctx, "input", b, func(rec *Record) Change { return rec.Submit(r, t0) }); err != nil {
				t.Fatal(err)
			}
		}
		rej := &results.Rejection{Reason: "x", Message: "x"}
		if _, err := s.Update(ctx, "input", "e.txt", func(rec *Record) Change {
			return rec.Refuse(req("e", func(r *request.Request) { r.Blob = "e.txt" }), results.StateIgnored, rej, t0)
		}); err != nil {
			t.Fatal(err)
		}
		var all []Candidate
		marker := ""
		for {
			cands, next, err := s.ListInFlight(ctx, time.Now().Add(time.Hour), 1, marker)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, cands...)
			if next == "" {
				break
			}
			marker = next
		}
		if len(all) != 4 {
			t.Fatalf("%d candidates, want 4 (a, b, c, d): %+v", len(all), all)
		}
		sum, err := s.Summarize(ctx, 100)
		if err != nil || sum.Total != 5 || sum.Counts[results.StateSubmitted] != 4 || sum.Counts[results.StateIgnored] != 1 {
			t.Errorf("Summarize = %+v, %v", sum, err)
		}
	})
}

func TestClaimOutput(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	owner := OutputOwner{Output: "coll/song.mp3", Container: "input", Blob: "coll/song.mp4", Preset: "mp3-192k-cbr", Request: "r1"}
	tests := []struct {
		name      string
		o         OutputOwner
		overwrite bool
		refused   bool
	}{
		{"first claim", owner, false, false},
		{"same input and preset, another request", OutputOwner{Output: owner.Output, Container: "input", Blob: "coll/song.mp4", Preset: "mp3-192k-cbr", Request: "r2"}, false, false},
		{"another input", OutputOwner{Output: owner.Output, Container: "input", Blob: "coll/song.MP4", Preset: "mp3-192k-cbr", Request: "r3"}, false, true},
		{"another preset", OutputOwner{Output: owner.Output, Container: "input", Blob: "coll/song.mp4", Preset: "mp3-v2-vbr", Request: "r4"}, false, true},
		{"another input with overwrite", OutputOwner{Output: owner.Output, Container: "input", Blob: "coll/song.MP4", Preset: "mp3-192k-cbr", Request: "r5"}, true, false},
		{"the first owner now refused", owner, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			holder, err := s.ClaimOutput(ctx, tc.o, tc.overwrite)
			if err != nil {
				t.Fatal(err)
			}
			if got := holder != nil; got != tc.refused {
				t.Errorf("refused = %v (holder %+v), want %v", got, holder, tc.refused)
			}
		})
	}
}
