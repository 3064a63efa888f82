package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// Persister persists the state: whole snapshots and, between them, journal
// records. Both methods make data durable (file contents and directory
// entries fsynced) before they return nil. See docs/decisions/0027.
type Persister interface {
	// WriteSnapshot atomically replaces the snapshot with data and then
	// empties the journal.
	WriteSnapshot(data []byte) error
	// AppendJournal appends one record (a JSON document without newline).
	AppendJournal(rec []byte) error
	// JournalSize is the journal's current length in bytes.
	JournalSize() int64
}

// JournalRecord is one journal record: the state changes since the previous
// record. Pools (without their autoscale sample histories, which only
// snapshots keep) and job metadata are recorded whole (a pool or job missing
// from Pools/Jobs was removed); tasks are recorded when touched.
type JournalRecord struct {
	N       uint64             `json:"n"` // record number, increasing
	Seq     uint64             `json:"seq"`
	Pools   map[string]*Pool   `json:"pools"`
	Jobs    map[string]JobMeta `json:"jobs"`
	Deleted []TaskRef          `json:"deleted,omitempty"` // applied before Tasks
	Tasks   []TaskDelta        `json:"tasks,omitempty"`
}

// JobMeta is a job record without its tasks.
type JobMeta struct {
	Job  wire.CloudJob        `json:"job"`
	Prep map[string]*NodePrep `json:"prep,omitempty"`
}

// TaskRef names a task by its job and task keys.
type TaskRef struct {
	Job  string `json:"job"`
	Task string `json:"task"`
}

// TaskDelta is a task recorded in a journal record.
type TaskDelta struct {
	TaskRef
	Rec *Task `json:"rec"`
}

// Apply replays rec onto st.
func (st *State) Apply(rec *JournalRecord) {
	st.Seq = max(st.Seq, rec.Seq)
	pools := rec.Pools
	if pools == nil {
		pools = map[string]*Pool{}
	}
	for pk, p := range pools {
		if old := st.Pools[pk]; old != nil && p.Samples == nil {
			p.Samples = old.Samples // records carry no samples; keep the snapshot's
		}
	}
	st.Pools = pools
	jobs := make(map[string]*Job, len(rec.Jobs))
	for jk, m := range rec.Jobs {
		j := st.Jobs[jk]
		if j == nil {
			j = &Job{Tasks: map[string]*Task{}}
		}
		j.Job, j.Prep = m.Job, m.Prep
		jobs[jk] = j
	}
	st.Jobs = jobs
	for _, d := range rec.Deleted {
		if j := st.Jobs[d.Job]; j != nil {
			delete(j.Tasks, d.Task)
		}
	}
	for _, d := range rec.Tasks {
		if j := st.Jobs[d.Job]; j != nil && d.Rec != nil {
			j.Tasks[d.Task] = d.Rec
		}
	}
}

// Dir keeps the state in <DataDir>/state.json, replaced atomically
// (temporary file, fsync, rename, fsync of the directory), and a journal
// <DataDir>/journal.jsonl of one record per line, appended and fsynced.
type Dir struct {
	path    string // state.json
	jpath   string // journal.jsonl
	journal *os.File
	size    int64
}

func NewDir(dir string) *Dir {
	return &Dir{path: filepath.Join(dir, "state.json"), jpath: filepath.Join(dir, "journal.jsonl")}
}

// Load reads the snapshot and replays the journal records it does not
// contain. It returns the number of the last record seen. A torn last line
// (a crash during an append that was therefore never acknowledged) is
// ignored; any other bad record is an error.
func (s *Dir) Load() (*State, uint64, error) {
	st := NewState()
	b, err := os.ReadFile(s.path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, 0, fmt.Errorf("load state: %w", err)
	default:
		if err := json.Unmarshal(b, st); err != nil {
			return nil, 0, fmt.Errorf("load state %s: %w", s.path, err)
		}
	}
	if st.Pools == nil {
		st.Pools = map[string]*Pool{}
	}
	if st.Jobs == nil {
		st.Jobs = map[string]*Job{}
	}
	last := st.Journal
	jb, err := os.ReadFile(s.jpath)
	if err != nil && !os.IsNotExist(err) {
		return nil, 0, fmt.Errorf("load state journal: %w", err)
	}
	lines := bytes.Split(jb, []byte("\n"))
	// The part after the last newline is empty or a torn record.
	lines = lines[:len(lines)-1]
	for i, line := range lines {
		var rec JournalRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			if i == len(lines)-1 {
				break // torn last record: its append never completed
			}
			return nil, 0, fmt.Errorf("load state journal %s line %d: %w", s.jpath, i+1, err)
		}
		if rec.N <= st.Journal {
			continue // already in the snapshot
		}
		st.Apply(&rec)
		last = max(last, rec.N)
	}
	for _, j := range st.Jobs {
		if j.Tasks == nil {
			j.Tasks = map[string]*Task{}
		}
	}
	s.size = int64(len(jb))
	return st, last, nil
}

func (s *Dir) WriteSnapshot(data []byte) error {
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write state: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	// The snapshot contains every record: empty the journal. Records left
	// behind by a crash here are skipped on load (their numbers are not
	// above the snapshot's Journal).
	if s.journal != nil {
		if err := s.journal.Truncate(0); err != nil {
			return fmt.Errorf("write state: truncate journal: %w", err)
		}
	} else if err := os.Truncate(s.jpath, 0); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("write state: truncate journal: %w", err)
	}
	s.size = 0
	return nil
}

func (s *Dir) AppendJournal(rec []byte) error {
	if s.journal == nil {
		f, err := os.OpenFile(s.jpath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("append to state journal: %w", err)
		}
		if err := syncDir(filepath.Dir(s.jpath)); err != nil {
			f.Close()
			return fmt.Errorf("append to state journal: %w", err)
		}
		s.journal = f
	}
	line := append(rec, '\n')
	n, err := s.journal.Write(line)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("append to state journal: %w", err)
	}
	if err := s.journal.Sync(); err != nil {
		return fmt.Errorf("append to state journal: sync: %w", err)
	}
	return nil
}

func (s *Dir) JournalSize() int64 { return s.size }

// Close releases the journal file.
func (s *Dir) Close() error {
	if s.journal == nil {
		return nil
	}
	err := s.journal.Close()
	s.journal = nil
	if err != nil {
		return fmt.Errorf("close state journal: %w", err)
	}
	return nil
}
