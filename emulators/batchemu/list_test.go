package batchemu

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// countingLock counts its holdings and checks that render runs under it.
type countingLock struct {
	sync.Mutex
	held, locks int
}

func (l *countingLock) Lock()   { l.Mutex.Lock(); l.held++; l.locks++ }
func (l *countingLock) Unlock() { l.held--; l.Mutex.Unlock() }

// A page of a lazy list renders only the items it looks at (from the skip
// token on, until the page is full), each under the lock, and a
// continuation reaches every item exactly once.
func TestWriteLazyListRendersOnlyThePage(t *testing.T) {
	const total, page = 5000, 10
	lock := &countingLock{}
	rendered := map[int]int{}
	items := make([]listItem, total)
	for i := range items {
		items[i] = listItem{sortKey: fmt.Sprintf("%08d", i), render: func() (any, bool) {
			if lock.held != 1 {
				t.Errorf("item %d rendered without the lock", i)
			}
			rendered[i]++
			return map[string]any{"id": fmt.Sprint(i)}, i != 3 // item 3 is gone
		}}
	}
	get := func(query string) (ids []string, next string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/jobs/j/tasks?"+query, nil)
		if e := writeLazyList(rec, req, &reqCtx{base: "http://x"}, items, lock, schemaOf(wire.CloudTask{}), "tasks"); e != nil {
			t.Fatal(e)
		}
		var body struct {
			Value []struct{ ID string } `json:"value"`
			Next  string                `json:"odata.nextLink"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		for _, v := range body.Value {
			ids = append(ids, v.ID)
		}
		return ids, body.Next
	}
	ids, next := get(fmt.Sprintf("maxresults=%d", page))
	if len(ids) != page || ids[0] != "0" || ids[3] != "4" || next == "" {
		t.Fatalf("first page %v next %q, want 10 ids from 0 without 3 and a next link", ids, next)
	}
	if len(rendered) > page+renderChunk {
		t.Fatalf("a page of %d rendered %d of %d items", page, len(rendered), total)
	}
	// Follow the continuation links to the end: every item once.
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for next != "" {
		req := httptest.NewRequest("GET", next, nil)
		ids, next = get(req.URL.RawQuery)
		for _, id := range ids {
			seen[id]++
		}
	}
	if len(seen) != total-1 || seen["3"] != 0 {
		t.Fatalf("pages reached %d distinct items, want %d without item 3", len(seen), total-1)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("item %s on %d pages", id, n)
		}
	}
}

// A $filter on the properties an item carries (a task's state) is checked
// before rendering: the tasks it rejects are never rendered.
func TestWriteLazyListFiltersBeforeRendering(t *testing.T) {
	const total = 3000
	lock := &countingLock{}
	rendered := 0
	items := make([]listItem, total)
	for i := range items {
		state := "active"
		if i%1000 == 999 {
			state = "running"
		}
		items[i] = listItem{sortKey: fmt.Sprintf("%08d", i), props: map[string]any{"state": state}, render: func() (any, bool) {
			rendered++
			return map[string]any{"id": fmt.Sprint(i), "state": state}, true
		}}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/jobs/j/tasks?$filter="+url.QueryEscape("state ne 'active'"), nil)
	if e := writeLazyList(rec, req, &reqCtx{base: "http://x"}, items, lock, schemaOf(wire.CloudTask{}), "tasks"); e != nil {
		t.Fatal(e)
	}
	var body struct {
		Value []struct{ ID string } `json:"value"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Value) != 3 || body.Value[0].ID != "999" {
		t.Fatalf("value %v, want the 3 running tasks", body.Value)
	}
	if rendered != 3 {
		t.Fatalf("rendered %d of %d tasks for 3 matches", rendered, total)
	}
}
