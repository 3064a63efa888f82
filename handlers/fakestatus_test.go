package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// errStorage is the failure the fake status store injects.
var errStorage = errors.New("storage unavailable")

// fakeStatus is an in-memory statusStore with lifecycle.Store's contract:
// Update runs the transition on a fresh copy of the stored record (decoded
// from its JSON, as a read from Blob storage gives) and stores the result
// only when the Change is dirty, trimmed and dated; Get returns a copy or
// lifecycle.ErrNotFound; ClaimOutput follows the store's ownership rule;
// ListInFlight and ListRows see what the store's blob metadata says.
//
// A fake rather than lifecycle.Store on Azurite (which lifecycle's own tests
// and integration_test.go use): the handler tests inject a failed write at
// an exact point ("the record was written, then the task add failed") and
// make a write lose a race, and they stay fast.
//
// mu guards every field. Update holds it while fn runs, which serialises
// writers the way the store's ETag conditions do.
type fakeStatus struct {
	mu       sync.Mutex
	now      func() time.Time
	records  map[string][]byte    // JSON by lifecycle.RecordName, the store's blob name
	modified map[string]time.Time // last write by record name (the blob's Last-Modified)
	owners   map[string]lifecycle.OutputOwner
	// pageSize is ListInFlight's listing page (the store lists 1,000).
	pageSize int
	// activity is the activity summary; activityErr fails RecordActivity.
	activity    lifecycle.Activity
	activityErr error
	// activityEntered and activityRelease, if set, hold each
	// RecordActivity: the call sends on activityEntered, then waits for a
	// value on activityRelease. activityWrites counts the calls.
	activityEntered, activityRelease chan struct{}
	activityWrites                   int

	// failWrites fails that many next writes: the transition ran, nothing
	// is stored, Update returns an error. conflicts makes that many next
	// writes lose to a concurrent writer: the store then reads again and
	// runs fn again, so fn's first result is discarded. getErr, listErr and
	// claimErr fail Get, ListInFlight and ClaimOutput.
	failWrites int
	conflicts  int
	getErr     error
	listErr    error
	claimErr   error

	// updates counts Update calls, writes the records stored, gets the Get
	// calls.
	updates, writes, gets int
	// creates counts UpdateNew calls.
	creates int

	// journals holds the journals by name with their write time;
	// journalErr fails WriteJournal, deleteErr DeleteJournal.
	journals   map[string]storedJournal
	journalErr error
	deleteErr  error
	// onReadJournal, if set, runs at each ReadJournal (a slow store: it
	// advances the test's clock).
	onReadJournal func()
}

type storedJournal struct {
	body    []byte
	written time.Time
}

func newFakeStatus(now func() time.Time) *fakeStatus {
	return &fakeStatus{now: now, records: map[string][]byte{}, modified: map[string]time.Time{},
		owners: map[string]lifecycle.OutputOwner{}, pageSize: 1000, journals: map[string]storedJournal{}}
}

// load decodes the stored record name, or returns an empty one; mu must be
// held.
func (s *fakeStatus) load(name string) (*lifecycle.Record, bool) {
	var rec lifecycle.Record
	b, ok := s.records[name]
	if !ok {
		return &rec, false
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		panic(fmt.Sprintf("fake status: stored record %s does not decode: %v", name, err))
	}
	return &rec, true
}

func (s *fakeStatus) Update(_ context.Context, container, blob string, fn func(*lifecycle.Record) lifecycle.Change) (lifecycle.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	name := lifecycle.RecordName(container, blob)
	for {
		rec, _ := s.load(name)
		rec.Container, rec.Blob = container, blob
		ch := fn(rec)
		if !ch.Dirty() {
			return ch, nil
		}
		if s.conflicts > 0 {
			s.conflicts--
			continue
		}
		if s.failWrites > 0 {
			s.failWrites--
			return lifecycle.Change{}, fmt.Errorf("update status of %s/%s: %w", container, blob, errStorage)
		}
		trim(rec)
		rec.UpdatedAt = s.now().UTC()
		b, err := json.Marshal(rec)
		if err != nil {
			return lifecycle.Change{}, fmt.Errorf("update status of %s/%s: %w", container, blob, err)
		}
		s.records[name], s.modified[name] = b, s.now()
		s.writes++
		return ch, nil
	}
}

// UpdateNew has Update's effect (the store's saving of a read is not
// modelled); creates counts its calls.
func (s *fakeStatus) UpdateNew(ctx context.Context, container, blob string, fn func(*lifecycle.Record) lifecycle.Change) (lifecycle.Change, error) {
	s.mu.Lock()
	s.creates++
	s.mu.Unlock()
	return s.Update(ctx, container, blob, fn)
}

// trim is the store's history bound (lifecycle's own trim is unexported):
// the oldest answered requests beyond MaxHistory go.
func trim(r *lifecycle.Record) {
	for i := 0; len(r.Requests) > lifecycle.MaxHistory && i < len(r.Requests); {
		if r.Requests[i].State.Terminal() {
			r.Requests = slices.Delete(r.Requests, i, i+1)
			continue
		}
		i++
	}
}

func (s *fakeStatus) Get(_ context.Context, container, blob string) (*lifecycle.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.getErr != nil {
		return nil, s.getErr
	}
	rec, ok := s.load(lifecycle.RecordName(container, blob))
	if !ok {
		return nil, fmt.Errorf("get status of %s/%s: %w", container, blob, lifecycle.ErrNotFound)
	}
	return rec, nil
}

// ClaimOutput: the same input blob and preset own the output whatever the
// version or request; any other pair is refused (the holder returned)
// unless overwrite, which hands the output over.
func (s *fakeStatus) ClaimOutput(_ context.Context, o lifecycle.OutputOwner, overwrite bool) (*lifecycle.OutputOwner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimErr != nil {
		return nil, s.claimErr
	}
	cur, ok := s.owners[o.Output]
	if ok && cur.Container == o.Container && cur.Blob == o.Blob && cur.Preset == o.Preset {
		return nil, nil
	}
	if ok && !overwrite {
		return &cur, nil
	}
	s.owners[o.Output] = o
	return nil, nil
}

// sortedNames returns the record names in listing order; mu must be held.
func (s *fakeStatus) sortedNames() []string {
	names := make([]string, 0, len(s.records))
	for n := range s.records {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ListRows lists the rows of the records under the query's container and
// prefix in name order, as the store does from metadata (one page, no
// marker support beyond the start, no cut names).
func (s *fakeStatus) ListRows(_ context.Context, q lifecycle.RowQuery) (lifecycle.RowPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return lifecycle.RowPage{}, s.listErr
	}
	page := lifecycle.RowPage{Requests: 1}
	for _, n := range s.sortedNames() {
		rec, _ := s.load(n)
		row, ok := lifecycle.RowOf(rec)
		if !ok || rec.Container != q.Container || !strings.HasPrefix(rec.Blob, q.Prefix) {
			continue
		}
		page.Listed++
		row.UpdatedAt = s.modified[n]
		if len(q.States) == 0 || slices.Contains(q.States, row.State) {
			page.Rows = append(page.Rows, row)
		}
		if len(page.Rows) == q.Limit {
			break
		}
	}
	return page, nil
}

// Activity and RecordActivity keep the activity summary in memory.
func (s *fakeStatus) Activity(context.Context) (lifecycle.Activity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.activity
	a.Trim(s.now())
	return a, nil
}

func (s *fakeStatus) RecordActivity(_ context.Context, answered []lifecycle.Entry) error {
	s.mu.Lock()
	entered, release := s.activityEntered, s.activityRelease
	s.activityWrites++
	s.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
		<-release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.activityErr != nil {
		return s.activityErr
	}
	s.activity.Add(answered, s.now())
	return nil
}

// ListInFlight pages through the records in name order, pageSize at a
// time, keeping those written before before that own tasks in flight; it
// stops at the end of the first page at which it holds limit candidates
// and returns the last name of that page as the marker.
func (s *fakeStatus) ListInFlight(_ context.Context, before time.Time, limit int, marker string) ([]lifecycle.Candidate, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, "", s.listErr
	}
	var names []string
	for _, n := range s.sortedNames() {
		if n > marker {
			names = append(names, n)
		}
	}
	var out []lifecycle.Candidate
	for start := 0; start < len(names); start += s.pageSize {
		page := names[start:min(start+s.pageSize, len(names))]
		for _, n := range page {
			rec, _ := s.load(n)
			if tasks := rec.InFlightTasks(); (len(tasks) > 0 || rec.Waiting()) && s.modified[n].Before(before) {
				out = append(out, lifecycle.Candidate{Container: rec.Container, Blob: rec.Blob, TaskIDs: tasks, Waiting: rec.Waiting(), LastModified: s.modified[n]})
			}
		}
		if len(out) >= limit && start+s.pageSize < len(names) {
			return out, page[len(page)-1], nil
		}
	}
	return out, "", nil
}

// owner returns who holds output ("" fields when nobody does).
func (s *fakeStatus) owner(output string) lifecycle.OutputOwner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owners[output]
}

// counts returns the Update, write and Get counters.
func (s *fakeStatus) counts() (updates, writes, gets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates, s.writes, s.gets
}

// inject sets failures under the lock: fn changes s's injection fields.
func (s *fakeStatus) inject(fn func(s *fakeStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

func (s *fakeStatus) WriteJournal(_ context.Context, j *lifecycle.Journal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journalErr != nil {
		return fmt.Errorf("write journal %s: %w", j.Name, s.journalErr)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	s.journals[j.Name] = storedJournal{body: b, written: s.now()}
	return nil
}

func (s *fakeStatus) ReadJournal(_ context.Context, name string) (*lifecycle.Journal, error) {
	s.mu.Lock()
	hook := s.onReadJournal
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sj, ok := s.journals[name]
	if !ok {
		return nil, fmt.Errorf("read journal %s: %w", name, lifecycle.ErrNotFound)
	}
	j := &lifecycle.Journal{Name: name}
	if err := json.Unmarshal(sj.body, j); err != nil {
		return nil, fmt.Errorf("read journal %s: decode: %w: %w", name, lifecycle.ErrCorrupt, err)
	}
	return j, nil
}

func (s *fakeStatus) DeleteJournal(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleteErr != nil {
		return fmt.Errorf("delete journal %s: %w", name, s.deleteErr)
	}
	delete(s.journals, name)
	return nil
}

func (s *fakeStatus) ListJournals(_ context.Context, before time.Time, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, sj := range s.journals {
		if sj.written.Before(before) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names[:min(limit, len(names))], nil
}

// journalNames returns the names of the journals not folded yet.
func (s *fakeStatus) journalNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.journals {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
