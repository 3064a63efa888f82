package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/arrival"
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

func TestRepeats(t *testing.T) {
	h := &Content{MD5: "1B2M2Y8AsgTpgAmY7PhCfg==", Size: 10, Preset: "mp3-192k-cbr", Output: "a.mp3"}
	other := func(mod func(*Content)) *Content {
		c := *h
		mod(&c)
		return &c
	}
	tests := []struct {
		name string
		u    FileStatus
		cur  *FileStatus
		want bool
	}{
		{"no document", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, nil, false},
		{"other version succeeded, same content", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, true},
		{"other version submitted, same content", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateSubmitted, Content: h}, true},
		{"other version running, same content", FileStatus{ETag: "0x2", State: StateQueued, Content: h}, &FileStatus{ETag: "0x1", State: StateRunning, Content: h}, true},
		{"other version only queued", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateQueued, Content: h}, false},
		{"other version failed", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateFailed, Content: h}, false},
		{"other version rejected", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateRejected, Content: h}, false},
		{"different md5", FileStatus{ETag: "0x2", State: StateSubmitted, Content: other(func(c *Content) { c.MD5 = "AAAAAAAAAAAAAAAAAAAAAA==" })}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, false},
		{"different size", FileStatus{ETag: "0x2", State: StateSubmitted, Content: other(func(c *Content) { c.Size = 11 })}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, false},
		{"different preset", FileStatus{ETag: "0x2", State: StateSubmitted, Content: other(func(c *Content) { c.Preset = "mp3-v2-vbr" })}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, false},
		{"different output", FileStatus{ETag: "0x2", State: StateSubmitted, Content: other(func(c *Content) { c.Output = "b.mp3" })}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, false},
		{"arrival without hash", FileStatus{ETag: "0x2", State: StateSubmitted}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, false},
		{"document without hash", FileStatus{ETag: "0x2", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateSucceeded}, false},
		{"same version already succeeded", FileStatus{ETag: "0x1", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, true},
		{"same version in flight (redelivered batch)", FileStatus{ETag: "0x1", State: StateSubmitted, Content: h}, &FileStatus{ETag: "0x1", State: StateSubmitted, Content: h}, false},
		{"same version, later resubmission", FileStatus{ETag: "0x1", State: StateSubmitted, Resubmits: 2, Content: h}, &FileStatus{ETag: "0x1", State: StateSucceeded, Resubmits: 1, Content: h}, false},
		{"same version succeeded report refreshes", FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, &FileStatus{ETag: "0x1", State: StateSucceeded, Content: h}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.u.Repeats(tc.cur); got != tc.want {
				t.Errorf("Repeats = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClaim(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	h := &Content{MD5: "1B2M2Y8AsgTpgAmY7PhCfg==", Size: 10, Preset: "mp3-192k-cbr", Output: "a.mp3"}
	at := func(etag string, st State, c *Content) FileStatus {
		return FileStatus{Container: "input", Blob: "a.mp4", ETag: etag, State: st, Content: c}
	}
	steps := []struct {
		name       string
		u          FileStatus
		wantHolder string // ETag of the document returned, "" for none
		wantETag   string // ETag of the stored document afterwards
		wantState  State
	}{
		{"first version claims", at("0x1", StateSubmitted, h), "", "0x1", StateSubmitted},
		{"identical second version is a repeat", at("0x2", StateSubmitted, h), "0x1", "0x1", StateSubmitted},
		{"queued identical version does not overwrite", at("0x2", StateQueued, h), "0x1", "0x1", StateSubmitted},
		{"redelivered first version goes ahead", at("0x1", StateSubmitted, h), "", "0x1", StateSubmitted},
		{"first version succeeds", at("0x1", StateSucceeded, nil), "", "0x1", StateSucceeded},
		{"identical version after success is a repeat", at("0x3", StateSubmitted, h), "0x1", "0x1", StateSucceeded},
		{"version without hash goes ahead", at("0x4", StateSubmitted, nil), "", "0x4", StateSubmitted},
	}
	for _, st := range steps {
		holder, err := s.Claim(ctx, st.u)
		if err != nil {
			t.Fatalf("%s: Claim: %v", st.name, err)
		}
		gotHolder := ""
		if holder != nil {
			gotHolder = holder.ETag
		}
		if gotHolder != st.wantHolder {
			t.Errorf("%s: holder %q, want %q", st.name, gotHolder, st.wantHolder)
		}
		got, err := s.Get(ctx, "input", "a.mp4")
		if err != nil {
			t.Fatalf("%s: Get: %v", st.name, err)
		}
		if got.ETag != st.wantETag || got.State != st.wantState {
			t.Errorf("%s: stored %s/%s, want %s/%s", st.name, got.ETag, got.State, st.wantETag, st.wantState)
		}
	}
	if got, _ := s.Get(ctx, "input", "a.mp4"); got.Content != nil {
		t.Errorf("a version without hash kept the old content: %+v", got.Content)
	}
}

// TestClaimRace: identical uploads (different ETags, same content) racing
// to claim one file: exactly one wins, every other gets the winner.
func TestClaimRace(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	h := &Content{MD5: "1B2M2Y8AsgTpgAmY7PhCfg==", Size: 10, Preset: "mp3-192k-cbr", Output: "a.mp3"}
	const racers = 8
	type outcome struct {
		etag   string
		holder *FileStatus
		err    error
	}
	out := make(chan outcome, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			etag := fmt.Sprintf("0x%d", i+1)
			holder, err := s.Claim(ctx, FileStatus{Container: "input", Blob: "race.mp4", ETag: etag, State: StateSubmitted, Content: h})
			out <- outcome{etag, holder, err}
		}()
	}
	wg.Wait()
	close(out)
	var winners []string
	var holders []string
	for o := range out {
		switch {
		case o.err != nil:
			t.Errorf("claim %s: %v", o.etag, o.err)
		case o.holder == nil:
			winners = append(winners, o.etag)
		default:
			holders = append(holders, o.holder.ETag)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d claims won (%v), want exactly 1", len(winners), winners)
	}
	for _, h := range holders {
		if h != winners[0] {
			t.Errorf("a losing claim was told %s holds the file, want the winner %s", h, winners[0])
		}
	}
	got, err := s.Get(ctx, "input", "race.mp4")
	if err != nil || got.ETag != winners[0] {
		t.Errorf("stored document %+v, %v; want the winner %s", got, err, winners[0])
	}
}

func TestStatusStoreInFlight(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if got, next, err := s.InFlight(ctx, time.Now().Add(time.Hour), 10, ""); err != nil || len(got) != 0 || next != "" {
		t.Fatalf("InFlight on a store without container = %v, %q, %v; want none", got, next, err)
	}
	arr := &arrival.Arrival{Container: "input", Blob: "b.mp4", ETag: "0x1", Size: 5}
	docs := []FileStatus{
		{Container: "input", Blob: "a.mp4", ETag: "0x1", State: StateQueued},
		{Container: "input", Blob: "b.mp4", ETag: "0x1", State: StateSubmitted, TaskID: "t-b", Arrival: arr},
		{Container: "input", Blob: "c.mp4", ETag: "0x1", State: StateRunning, TaskID: "t-c"},
		{Container: "input", Blob: "d.mp4", ETag: "0x1", State: StateSucceeded, TaskID: "t-d"},
		{Container: "input", Blob: "e.mp4", ETag: "0x1", State: StateFailed, TaskID: "t-e"},
		{Container: "input", Blob: "f.mp4", ETag: "0x1", State: StateSubmitted, TaskID: "t-f"},
		{Container: "input", Blob: "g.mp4", ETag: "0x1", State: StateSubmitted, TaskID: "t-g"},
	}
	for _, d := range docs {
		if _, err := s.Put(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		before   time.Time
		limit    int
		pageSize int32
		want     []string // task ids over all calls, sorted
		calls    int      // calls until the marker comes back empty
	}{
		{"all old enough", time.Now().Add(time.Hour), 10, 1000, []string{"t-b", "t-c", "t-f", "t-g"}, 1},
		{"limit within one page", time.Now().Add(time.Hour), 1, 1000, []string{"t-b", "t-c", "t-f", "t-g"}, 1},
		{"limit over small pages", time.Now().Add(time.Hour), 1, 2, []string{"t-b", "t-c", "t-f", "t-g"}, 0},
		{"too recent", time.Now().Add(-time.Hour), 10, 2, []string{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.pageSize = tc.pageSize
			ids := []string{}
			marker, calls := "", 0
			for {
				got, next, err := s.InFlight(ctx, tc.before, tc.limit, marker)
				if err != nil {
					t.Fatal(err)
				}
				calls++
				for _, g := range got {
					ids = append(ids, g.TaskID)
					if g.TaskID == "t-b" && (g.Arrival == nil || *g.Arrival != *arr) {
						t.Errorf("arrival of b = %+v, want %+v", g.Arrival, arr)
					}
				}
				if next == "" || calls > 10 {
					break
				}
				marker = next
			}
			sort.Strings(ids)
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("InFlight = %v, want %v", ids, tc.want)
			}
			if tc.calls > 0 && calls != tc.calls || tc.calls == 0 && calls < 2 {
				t.Errorf("took %d calls, want %d (0: several)", calls, tc.calls)
			}
		})
	}
}

// TestStatusStoreListInFlight: documents written with their task id in
// metadata are listed without being read; older documents (state only)
// are read and carried whole.
func TestStatusStoreListInFlight(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	arr := &arrival.Arrival{Container: "input", Blob: "legacy.mp4", ETag: "0x1", Size: 5}
	for _, d := range []FileStatus{
		{Container: "input", Blob: "dir/ép 1.mp4", ETag: "0x1", State: StateSubmitted, TaskID: "t-new"},
		{Container: "input", Blob: "run.mp4", ETag: "0x1", State: StateRunning, TaskID: "t-run"},
		{Container: "input", Blob: "done.mp4", ETag: "0x1", State: StateSucceeded, TaskID: "t-done"},
	} {
		if _, err := s.Put(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// A document as written before the task id was recorded in metadata.
	legacy := FileStatus{Container: "input", Blob: "legacy.mp4", ETag: "0x1", State: StateSubmitted, TaskID: "t-old", Arrival: arr}
	body, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.NewBlockBlobClient(blobName("input", "legacy.mp4")).UploadBuffer(ctx, body,
		&blockblob.UploadBufferOptions{Metadata: map[string]*string{stateMetadata: to.Ptr(string(StateSubmitted))}}); err != nil {
		t.Fatal(err)
	}
	got, next, err := s.ListInFlight(ctx, time.Now().Add(time.Hour), 10, "")
	if err != nil || next != "" {
		t.Fatalf("ListInFlight = %v, %q, %v", got, next, err)
	}
	byTask := map[string]Candidate{}
	for _, c := range got {
		byTask[c.TaskID] = c
	}
	tests := []struct {
		name, task, blob string
		state            State
		read             bool
	}{
		{"escaped name from metadata", "t-new", "dir/ép 1.mp4", StateSubmitted, false},
		{"running from metadata", "t-run", "run.mp4", StateRunning, false},
		{"legacy document read", "t-old", "legacy.mp4", StateSubmitted, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := byTask[tc.task]
			if !ok {
				t.Fatalf("%s not listed: %+v", tc.task, got)
			}
			if c.Container != "input" || c.Blob != tc.blob || c.State != tc.state || c.LastModified.IsZero() || (c.Doc != nil) != tc.read {
				t.Errorf("candidate = %+v, want blob %q state %s read %v", c, tc.blob, tc.state, tc.read)
			}
			if tc.read && (c.Doc.Arrival == nil || *c.Doc.Arrival != *arr) {
				t.Errorf("legacy document = %+v", c.Doc)
			}
		})
	}
	if len(got) != len(tests) {
		t.Errorf("listed %d candidates, want %d: %+v", len(got), len(tests), got)
	}
}
