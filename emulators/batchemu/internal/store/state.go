package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
)

// State is everything the emulator knows; it is persisted as one JSON
// document. Maps are keyed by the lower-cased id (ids are case-insensitive).
type State struct {
	Seq uint64 `json:"seq"` // source of eTags and ordering
	// Journal is the number of the last journal record this snapshot
	// contains; records up to it are skipped when the journal is replayed.
	Journal uint64           `json:"journal,omitempty"`
	Pools   map[string]*Pool `json:"pools"`
	Jobs    map[string]*Job  `json:"jobs"`
}

// Pool is a pool and its nodes, with the emulator's bookkeeping.
type Pool struct {
	Pool         wire.CloudPool `json:"pool"`
	Nodes        []*Node        `json:"nodes"`
	NodeSeq      int            `json:"nodeSeq"`
	Deallocation string         `json:"deallocation,omitempty"` // option of the resize in progress
	// Autoscale bookkeeping.
	NextEvaluation time.Time           `json:"nextEvaluation"`
	LastEnable     time.Time           `json:"lastEnable"`
	NextSample     time.Time           `json:"nextSample"`
	Samples        map[string][]Sample `json:"samples,omitempty"`
}

// Sample is one autoscale metric sample.
type Sample struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
}

// Node is a compute node: its wire object and its directory.
type Node struct {
	Node    wire.ComputeNode `json:"node"`
	Dir     string           `json:"dir"`
	ReadyAt time.Time        `json:"readyAt"` // end of the simulated allocation
	// Removal: the node leaves the pool once no task runs on it.
	Leaving bool `json:"leaving,omitempty"`
	// PendingBoot is "rebooting" or "reimaging" while a reboot/reimage with
	// taskcompletion/retaineddata waits for the node's tasks to finish.
	PendingBoot string `json:"pendingBoot,omitempty"`

	StartRun     *Attempt `json:"-"` // the running start task attempt (not persisted)
	StartPending bool     `json:"-"` // a start task retry waits for a process slot
}

// Job is a job with its tasks and per-node preparation state.
type Job struct {
	Job   wire.CloudJob    `json:"job"`
	Tasks map[string]*Task `json:"tasks"`
	// Prep holds the job preparation/release task state per node, keyed by
	// PrepKey(pool key, node id).
	Prep map[string]*NodePrep `json:"prep,omitempty"`
}

// Task is a task with the place of its last attempt.
type Task struct {
	Task         wire.CloudTask `json:"task"`
	Order        uint64         `json:"order"`
	Dir          string         `json:"dir,omitempty"`  // task directory of the last attempt
	Pool         string         `json:"pool,omitempty"` // pool/node keys of the last attempt
	Node         string         `json:"node,omitempty"`
	FilesCleaned bool           `json:"filesCleaned,omitempty"`
	// JobManager marks the job manager task: scheduled first, exclusive
	// node unless runExclusive is false, completes the job when it ends.
	JobManager bool `json:"jobManager,omitempty"`

	Run *Attempt `json:"-"` // the running attempt, if any (not persisted)
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Pools: map[string]*Pool{}, Jobs: map[string]*Job{}}
}

// Key is the map key of an id (Batch ids are case-insensitive).
func Key(id string) string { return strings.ToLower(id) }

// NextETag returns a fresh eTag in the service's 0x8D… hex form.
func (st *State) NextETag() string {
	st.Seq++
	return fmt.Sprintf("0x8DE%012X", st.Seq)
}

func (st *State) Marshal() ([]byte, error) {
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

// Attempt is one running process (a task attempt or a start task attempt).
// It is never persisted; its fields are guarded by the emulator's state
// mutex (batchemu.Server.mu).
type Attempt struct {
	Cancel    context.CancelFunc
	Abandoned bool // the task/node moved on (ended, requeued, deleted); ignore the result
	Released  bool // node slot counts were already given back
	Start     bool // a start task attempt
	PoolKey   string
	NodeID    string
	JobKey    string
	TaskKey   string
	Slots     int
}

// NodePrep is one node's preparation/release state for a job.
type NodePrep struct {
	PoolKey string                         `json:"pool"`
	PoolID  string                         `json:"poolId"`
	NodeID  string                         `json:"node"`
	Prep    *wire.PrepReleaseExecutionInfo `json:"prep,omitempty"`
	Release *wire.PrepReleaseExecutionInfo `json:"release,omitempty"`

	PrepRun     *Attempt `json:"-"` // running preparation attempt (not persisted)
	ReleaseRun  *Attempt `json:"-"` // running release attempt (not persisted)
	PrepPending bool     `json:"-"` // a preparation retry waits for a process slot
}

// PrepKey is the key of a node's preparation state in Job.Prep.
func PrepKey(pk, nodeID string) string { return pk + "/" + nodeID }
