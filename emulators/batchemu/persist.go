package batchemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
)

// errCrashed is returned by saves after a test simulated a crash.
var errCrashed = errors.New("the emulator crashed (test hook)")

// Durability of client requests (docs/decisions/0027):
//
// Every change to s.st calls markDirty, which advances s.gen. A mutating
// request (any method but GET and HEAD) is answered only after a snapshot
// that contains the state at the end of its handler has been written and
// fsynced: the handler's response is buffered (durableWriter), then
// syncTo(gen) runs. Writers are serialised by flushMu, and a writer encodes
// the newest state when it gets its turn, so requests that wait together are
// covered by one write (group commit). Scheduler-internal changes are saved
// lazily by the loop and by any later request's write.

// markDirty records a change to s.st; mu held.
func (s *Server) markDirty() {
	s.dirty = true
	s.gen++
}

// syncTo returns once a snapshot containing every change up to generation
// gen is durable, writing one if needed. Without a DataDir it does nothing.
// mu must not be held.
func (s *Server) syncTo(gen uint64) error {
	if s.store == nil {
		return nil
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.savedGen >= gen {
		return nil
	}
	return s.saveLocked(false)
}

// Compaction: a journal longer than max(minCompact, compactFactor × the last
// snapshot) is folded into a new snapshot by the next save.
const (
	minCompact    = 8 << 20
	compactFactor = 2
)

// saveLocked makes every change so far durable, by appending a journal
// record or, when full is set, the journal is long or a previous save failed,
// by writing a whole snapshot. flushMu held, mu not. On failure the next save
// writes a snapshot (a failed append may have left a torn record behind).
func (s *Server) saveLocked(full bool) error {
	if s.crashed {
		return errCrashed
	}
	s.mu.Lock()
	g := s.gen
	full = full || s.needSnapshot || s.store.JournalSize() > max(minCompact, compactFactor*s.snapshotSize)
	s.journalN++
	var data []byte
	var err error
	if full {
		s.st.Journal = s.journalN
		data, err = s.st.Marshal()
	} else {
		data, err = json.Marshal(s.journalRecord(s.journalN))
		if err != nil {
			err = fmt.Errorf("encode state journal record: %w", err)
		}
	}
	clear(s.changedTasks)
	s.deletedTasks = s.deletedTasks[:0]
	s.dirty = false
	s.mu.Unlock()
	if err == nil {
		if full {
			err = s.store.WriteSnapshot(data)
		} else {
			err = s.store.AppendJournal(data)
		}
	}
	if err != nil {
		s.mu.Lock()
		s.dirty, s.needSnapshot = true, true
		s.mu.Unlock()
		return fmt.Errorf("save state: %w", err)
	}
	if full {
		s.needSnapshot = false
		s.snapshotSize = int64(len(data))
	}
	s.savedGen = g
	return nil
}

// journalRecord builds journal record n from the changes since the last
// save; mu held.
func (s *Server) journalRecord(n uint64) *store.JournalRecord {
	rec := &store.JournalRecord{N: n, Seq: s.st.Seq, Pools: make(map[string]*store.Pool, len(s.st.Pools)), Jobs: make(map[string]store.JobMeta, len(s.st.Jobs))}
	for pk, p := range s.st.Pools {
		// Autoscale sample histories (up to ~650 KB per pool) go only into
		// snapshots: every record would otherwise repeat them, under mu. A
		// crash loses at most the samples since the last snapshot.
		c := *p
		c.Samples = nil
		rec.Pools[pk] = &c
	}
	for jk, j := range s.st.Jobs {
		rec.Jobs[jk] = store.JobMeta{Job: j.Job, Prep: j.Prep}
	}
	rec.Deleted = append(rec.Deleted, s.deletedTasks...)
	for t, ref := range s.changedTasks {
		if j := s.st.Jobs[ref.Job]; j != nil && j.Tasks[ref.Task] == t {
			rec.Tasks = append(rec.Tasks, store.TaskDelta{TaskRef: ref, Rec: t})
		}
	}
	return rec
}

// mutating reports whether a request may change the state and so must be
// durable before it is answered.
func mutating(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

// durableWriter buffers a response until the change it reports is durable.
type durableWriter struct {
	w      http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func newDurableWriter(w http.ResponseWriter) *durableWriter {
	return &durableWriter{w: w, header: w.Header().Clone()}
}

func (d *durableWriter) Header() http.Header { return d.header }

func (d *durableWriter) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}

func (d *durableWriter) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return d.body.Write(p)
}

// flush sends the buffered response.
func (d *durableWriter) flush() {
	h := d.w.Header()
	clear(h)
	for k, v := range d.header {
		h[k] = v
	}
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.w.WriteHeader(d.status)
	_, _ = d.w.Write(d.body.Bytes())
}
