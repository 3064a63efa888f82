package lifecycle

import (
	"context"
	"fmt"
	"strings"
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
		page, err := s.ListRows(ctx, RowQuery{Container: "input", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Rows {
			got = append(got, r.Blob+":"+string(r.State))
		}
		want := "a.mp4:submitted b.mp4:submitted c.mp4:submitted d.mp4:submitted e.txt:ignored"
		if strings.Join(got, " ") != want || page.Requests != 1 || page.Next != "" {
			t.Errorf("ListRows = %v in %d requests (next %q), want %s in 1", got, page.Requests, page.Next, want)
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

func TestListRows(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	files := []struct {
		blob  string
		state results.State
	}{
		{"a/1.mp4", results.StateSubmitted}, {"a/2.mp4", results.StateIgnored}, {"a/3.mp4", results.StateSubmitted},
		{"b/1.mp4", results.StateSubmitted}, {"b/2.mp4", results.StateSubmitted}, {"b/3.mp4", results.StateSubmitted},
		{"b/4.mp4", results.StateSubmitted}, {"b/5.mp4", results.StateSubmitted}, {"b/6.mp4", results.StateSubmitted},
		{"b/7.mp4", results.StateSubmitted}, {"z.mp4", results.StateIgnored}, {`a\odd.mp4`, results.StateSubmitted},
	}
	for _, f := range files {
		r := req("r-"+f.blob, func(r *request.Request) { r.Blob = f.blob })
		_, err := s.Update(ctx, "input", f.blob, func(rec *Record) Change {
			if f.state == results.StateIgnored {
				return rec.Refuse(r, f.state, &results.Rejection{Reason: "unsupported_extension"}, t0)
			}
			return rec.Submit(r, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Update(ctx, "upstream", "a/9.mp4", func(rec *Record) Change {
		return rec.Submit(req("u", func(r *request.Request) { r.Container, r.Blob = "upstream", "a/9.mp4" }), t0)
	}); err != nil {
		t.Fatal(err)
	}
	blobs := func(p RowPage) string {
		var out []string
		for _, r := range p.Rows {
			out = append(out, r.Blob)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name         string
		q            RowQuery
		want         string
		wantRequests int
		wantLimited  bool
		wantNext     bool
	}{
		{"one page of the prefix", RowQuery{Container: "input", Prefix: "a/", Limit: 10}, "a/1.mp4 a/2.mp4 a/3.mp4", 1, false, false},
		{"limit cuts the page", RowQuery{Container: "input", Limit: 2}, "a/1.mp4 a/2.mp4", 1, false, true},
		{"a cut prefix is filtered by name", RowQuery{Container: "input", Prefix: `a\`, Limit: 10}, `a\odd.mp4`, 1, false, false},
		// Pages of 2: [a/1 a/2] [a/3 a\odd] [b/1 b/2] [b/3 b/4] [b/5 b/6] [b/7 z].
		{"state filter scans at most MaxScanPages", RowQuery{Container: "input", States: []results.State{results.StateIgnored}, Limit: 2}, "a/2.mp4", MaxScanPages, true, true},
		{"state filter stops at the limit", RowQuery{Container: "input", States: []results.State{results.StateIgnored}, Limit: 1}, "a/2.mp4", 1, false, true},
		{"another container", RowQuery{Container: "upstream", Limit: 10}, "a/9.mp4", 1, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.ListRows(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := blobs(p); got != tc.want {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
			if p.Requests != tc.wantRequests || p.Limited != tc.wantLimited || (p.Next != "") != tc.wantNext {
				t.Errorf("%d requests, limited %v, next %q; want %d, %v, next %v", p.Requests, p.Limited, p.Next, tc.wantRequests, tc.wantLimited, tc.wantNext)
			}
		})
	}
	t.Run("the state filter continues from the marker", func(t *testing.T) {
		q := RowQuery{Container: "input", States: []results.State{results.StateIgnored}, Limit: 2}
		first, err := s.ListRows(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.Marker = first.Next
		rest, err := s.ListRows(ctx, q)
		if err != nil || blobs(rest) != "z.mp4" || rest.Next != "" || rest.Limited {
			t.Errorf("second scan = %q (next %q, limited %v), %v; want z.mp4 and the end", blobs(rest), rest.Next, rest.Limited, err)
		}
	})
	t.Run("bad query", func(t *testing.T) {
		if _, err := s.ListRows(ctx, RowQuery{Container: "input"}); err == nil {
			t.Error("limit 0 accepted")
		}
	})
	t.Run("listing shows records with a request waiting in queued", func(t *testing.T) {
		waiting := req("f-old", func(r *request.Request) { r.Blob = "f.mp4" })
		current := req("f-new", func(r *request.Request) { r.Blob = "f.mp4"; r.ETag = "0x9" })
		if _, err := s.Update(ctx, "input", "f.mp4", func(rec *Record) Change {
			rec.Queue(waiting, t0)
			return rec.Submit(current, t0)
		}); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for marker := "start"; marker != ""; {
			if marker == "start" {
				marker = ""
			}
			cands, next, err := s.ListInFlight(ctx, time.Now().Add(time.Hour), 100, marker)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cands {
				got[c.Blob] = c.Waiting
			}
			marker = next
		}
		if w, ok := got["f.mp4"]; !ok || !w {
			t.Errorf("f.mp4 (current request submitted, an older one queued): listed %v, waiting %v; want listed and waiting", ok, w)
		}
		if w := got["b.mp4"]; w {
			t.Errorf("b.mp4 (submitted only) listed as waiting")
		}
	})
}
