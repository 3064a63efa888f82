package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// recordFile is the name of the running stack's record in the state
// directory.
const recordFile = "stack.json"

// Record is what stack.json holds while a stack runs: the endpoints, for
// the other commands, and the processes, so that `ffbatch down` can stop a
// stack whose ffbatch was killed and `up` can tell a stale file from a live
// stack.
type Record struct {
	Endpoints
	// Owner is the process that started the stack (ffbatch up or run).
	Owner ProcessRef `json:"owner"`
	// Processes are the stack's children: Azurite and the emulators.
	Processes []ProcessRef `json:"processes,omitempty"`
}

// Live returns the recorded processes (owner included) that still run.
func (r *Record) Live() []ProcessRef {
	var out []ProcessRef
	for _, p := range append([]ProcessRef{r.Owner}, r.Processes...) {
		if p.Alive() {
			out = append(out, p)
		}
	}
	return out
}

// ErrNoStack means no stack.json was found.
var ErrNoStack = errors.New("no running local stack found (start one with `ffbatch up` or `make dev`)")

// ReadRecord reads <dir>/stack.json.
func ReadRecord(dir string) (*Record, error) {
	path := filepath.Join(dir, recordFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrNoStack, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read stack record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read stack record %s: %w", path, err)
	}
	return &r, nil
}

// writeRecord writes <dir>/stack.json (mode 0600: it holds the stack's
// keys) through a temporary file, so readers never see half of it.
func writeRecord(dir string, r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stack record: %w", err)
	}
	tmp := filepath.Join(dir, recordFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write stack record: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, recordFile)); err != nil {
		return fmt.Errorf("write stack record: %w", err)
	}
	return nil
}

// SaveEndpoints writes a stack.json with only the endpoints, for a stack
// that Start did not write itself (tests).
func SaveEndpoints(dir string, e Endpoints) error {
	return writeRecord(dir, &Record{Endpoints: e})
}

// LoadEndpoints reads the endpoints from <dir>/stack.json. A record whose
// owner has exited is stale: that is ErrNoStack too, saying so.
func LoadEndpoints(dir string) (Endpoints, error) {
	r, err := ReadRecord(dir)
	if err != nil {
		return Endpoints{}, err
	}
	if r.Owner.PID != 0 && !r.Owner.Alive() {
		return Endpoints{}, fmt.Errorf("%w: %s is stale (the ffbatch that wrote it, pid %d, has exited; `ffbatch down` removes it)",
			ErrNoStack, filepath.Join(dir, recordFile), r.Owner.PID)
	}
	return r.Endpoints, nil
}

// RemoveEndpoints deletes <dir>/stack.json.
func RemoveEndpoints(dir string) error {
	err := os.Remove(filepath.Join(dir, recordFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stack record: %w", err)
	}
	return nil
}

// WriteRecord writes stack.json: the endpoints for the other commands and
// the processes for `ffbatch down`. Restart keeps it current and Stop
// removes it.
func (s *Stack) WriteRecord() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("write stack record: the stack is stopped")
	}
	s.recorded = true
	return s.writeRecordLocked()
}

// writeRecordLocked writes the record; s.mu must be held.
func (s *Stack) writeRecordLocked() error {
	owner, err := identify(os.Getpid())
	if err != nil {
		return fmt.Errorf("write stack record: %w", err)
	}
	owner.Name = filepath.Base(os.Args[0])
	r := &Record{Endpoints: s.Endpoints, Owner: owner}
	if s.azurite != nil {
		r.Processes = appendRef(r.Processes, Azurite, s.azurite.PID())
	}
	for _, name := range []string{ServiceBus, Batch, Functions} {
		if p, ok := s.procs[name]; ok {
			r.Processes = appendRef(r.Processes, name, p.pid())
		}
	}
	return writeRecord(s.Dir, r)
}

// appendRef adds the running process pid under the component's name.
func appendRef(refs []ProcessRef, name string, pid int) []ProcessRef {
	ref, err := identify(pid)
	if pid == 0 || err != nil {
		return refs
	}
	ref.Name = name
	return append(refs, ref)
}
