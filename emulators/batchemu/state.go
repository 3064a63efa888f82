package batchemu

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// state is everything the emulator knows; it is persisted as one JSON
// document. Maps are keyed by the lower-cased id (ids are case-insensitive).
type state struct {
	Seq uint64 `json:"seq"` // source of eTags and ordering
	// Journal is the number of the last journal record this snapshot
	// contains; records up to it are skipped when the journal is replayed.
	Journal uint64              `json:"journal,omitempty"`
	Pools   map[string]*poolRec `json:"pools"`
	Jobs    map[string]*jobRec  `json:"jobs"`
}

type poolRec struct {
	Pool         wire.CloudPool `json:"pool"`
	Nodes        []*nodeRec     `json:"nodes"`
	NodeSeq      int            `json:"nodeSeq"`
	Deallocation string         `json:"deallocation,omitempty"` // option of the resize in progress
	// Autoscale bookkeeping.
	NextEvaluation time.Time           `json:"nextEvaluation"`
	LastEnable     time.Time           `json:"lastEnable"`
	NextSample     time.Time           `json:"nextSample"`
	Samples        map[string][]sample `json:"samples,omitempty"`
}

type sample struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
}

type nodeRec struct {
	Node    wire.ComputeNode `json:"node"`
	Dir     string           `json:"dir"`
	ReadyAt time.Time        `json:"readyAt"` // end of the simulated allocation
	// Removal: the node leaves the pool once no task runs on it.
	Leaving bool `json:"leaving,omitempty"`
	// PendingBoot is "rebooting" or "reimaging" while a reboot/reimage with
	// taskcompletion/retaineddata waits for the node's tasks to finish.
	PendingBoot string `json:"pendingBoot,omitempty"`

	startRun     *attempt // the running start task attempt (not persisted)
	startPending bool     // a start task retry waits for a process slot
}

type jobRec struct {
	Job   wire.CloudJob       `json:"job"`
	Tasks map[string]*taskRec `json:"tasks"`
	// Prep holds the job preparation/release task state per node, keyed by
	// prepKey(pool key, node id).
	Prep map[string]*nodePrep `json:"prep,omitempty"`
}

type taskRec struct {
	Task         wire.CloudTask `json:"task"`
	Order        uint64         `json:"order"`
	Dir          string         `json:"dir,omitempty"`  // task directory of the last attempt
	Pool         string         `json:"pool,omitempty"` // pool/node keys of the last attempt
	Node         string         `json:"node,omitempty"`
	FilesCleaned bool           `json:"filesCleaned,omitempty"`
	// JobManager marks the job manager task: scheduled first, exclusive
	// node unless runExclusive is false, completes the job when it ends.
	JobManager bool `json:"jobManager,omitempty"`

	run *attempt // the running attempt, if any (not persisted)
}

func newState() *state {
	return &state{Pools: map[string]*poolRec{}, Jobs: map[string]*jobRec{}}
}

func key(id string) string { return strings.ToLower(id) }

// nextETag returns a fresh eTag in the service's 0x8D… hex form.
func (st *state) nextETag() string {
	st.Seq++
	return fmt.Sprintf("0x8DE%012X", st.Seq)
}

func (st *state) marshal() ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// syncDir fsyncs a directory so that a rename in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// recover runs once at start-up on loaded state: every node "reboots"
// (its start task runs again) and tasks that were running are requeued.
func (s *Server) recover() {
	now := s.now()
	for _, j := range s.st.Jobs {
		for _, t := range j.Tasks {
			if t.Task.State != wire.TaskRunning {
				continue
			}
			s.setTaskState(t, wire.TaskActive, now)
			ei := &t.Task.ExecutionInfo
			ei.RequeueCount++
			ei.LastRequeueTime = wire.AtPtr(now)
			t.Task.NodeInfo = nil
			s.touchTask(j, t, now)
		}
	}
	for _, j := range s.st.Jobs {
		for k, st := range j.Prep {
			switch {
			case st.Prep != nil && st.Prep.State == "running":
				delete(j.Prep, k) // prepare again after the "reboot"
			case st.Release != nil && st.Release.State == "running":
				st.Release = nil // release again
			}
		}
	}
	for _, p := range s.st.Pools {
		for _, n := range p.Nodes {
			n.Node.RunningTasksCount = 0
			n.Node.RunningTaskSlotsCount = 0
			if n.Node.State == wire.NodeStartTaskFailed || n.Leaving {
				continue
			}
			n.ReadyAt = now
			n.Node.StartTaskInfo = nil
			setNodeState(n, wire.NodeStarting, now)
		}
	}
	s.markDirty()
}

// validID reports whether id is a valid Batch id: 1..64 characters from
// letters, digits, hyphens and underscores.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
