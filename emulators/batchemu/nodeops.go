package batchemu

import (
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// Node operations: reboot, reimage, disable/enable scheduling. A rebooted
// node runs its start task again; a reimaged one also loses its files.

type nodeRebootParameter struct {
	NodeRebootOption  string `json:"nodeRebootOption"`
	NodeReimageOption string `json:"nodeReimageOption"`
}

// nodeForOperation looks up an active pool's node; mu held.
func (s *Server) nodeForOperation(r *http.Request) (*store.Pool, *store.Node, *wireerr.Error) {
	p, e := s.activePool(r.PathValue("poolId"))
	if e != nil {
		return nil, nil, e
	}
	_, n := s.findNode(store.Key(p.Pool.ID), r.PathValue("nodeId"))
	if n == nil {
		return nil, nil, wireerr.NodeNotFound()
	}
	return p, n, nil
}

// nodeBusy is the 409 for a node that is not ready for an operation.
func nodeBusy(n *store.Node) *wireerr.Error {
	switch {
	case n.Leaving:
		return wireerr.NodeBusy(wire.NodeLeavingPool)
	case n.Node.State == wire.NodeRebooting || n.PendingBoot == wire.NodeRebooting:
		return wireerr.NodeBusy(wire.NodeRebooting)
	case n.Node.State == wire.NodeReimaging || n.PendingBoot == wire.NodeReimaging:
		return wireerr.NodeBusy(wire.NodeReimaging)
	case n.Node.State == wire.NodeCreating, n.Node.State == wire.NodeStarting, n.Node.State == wire.NodeWaitingForStartTask:
		return wireerr.NodeBusy(n.Node.State)
	}
	return nil
}

func (s *Server) rebootNode(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return s.restartNode(w, r, rc, wire.NodeRebooting)
}

func (s *Server) reimageNode(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return s.restartNode(w, r, rc, wire.NodeReimaging)
}

func (s *Server) restartNode(w http.ResponseWriter, r *http.Request, rc *reqCtx, kind string) *wireerr.Error {
	var in nodeRebootParameter
	if _, e := readJSON(r, &in, true); e != nil {
		return e
	}
	prop, opt := "nodeRebootOption", in.NodeRebootOption
	if kind == wire.NodeReimaging {
		prop, opt = "nodeReimageOption", in.NodeReimageOption
	}
	opt, e := deallocationOption(prop, opt)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, n, e := s.nodeForOperation(r)
	if e != nil {
		return e
	}
	if e := nodeBusy(n); e != nil {
		return e
	}
	s.stopNodeTasks(p, n, opt, rc.now)
	s.forgetNodePrep(store.Key(p.Pool.ID), n.Node.ID, kind == wire.NodeRebooting)
	if n.StartRun != nil {
		n.StartRun.Abandoned = true
		n.StartRun.Cancel()
		n.StartRun = nil
	}
	n.StartPending = false
	if n.Node.RunningTasksCount == 0 {
		s.bootNode(n, kind, rc.now)
	} else {
		n.PendingBoot = kind
	}
	s.markDirty()
	s.wake()
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// bootNode takes n down for a reboot or reimage; mu held.
func (s *Server) bootNode(n *store.Node, kind string, now time.Time) {
	n.PendingBoot = ""
	setNodeState(n, kind, now)
	n.ReadyAt = now.Add(s.opts.NodeStartDelay)
	s.markDirty()
}

// wipeNode empties a reimaged node's directories; mu held.
func (s *Server) wipeNode(n *store.Node) {
	for _, sub := range []string{"shared", "startup", "workitems", "fsmounts"} {
		dir := filepath.Join(n.Dir, sub)
		if err := os.RemoveAll(dir); err != nil {
			s.log.Warn("reimage node", "node", n.Node.ID, "err", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			s.log.Warn("reimage node", "node", n.Node.ID, "err", err)
		}
	}
	for _, j := range s.st.Jobs {
		for _, t := range j.Tasks {
			if t.Node == n.Node.ID && t.Dir != "" && t.Run == nil {
				t.FilesCleaned = true
				s.noteTask(j, t)
			}
		}
	}
}

// stopNodeTasks applies a requeue/terminate option to the tasks running on
// n; taskcompletion and retaineddata let them finish; mu held.
func (s *Server) stopNodeTasks(p *store.Pool, n *store.Node, opt string, now time.Time) {
	if opt != "requeue" && opt != "terminate" {
		return
	}
	for _, j := range s.st.Jobs {
		for _, t := range j.Tasks {
			if t.Run == nil || t.Run.PoolKey != store.Key(p.Pool.ID) || t.Run.NodeID != n.Node.ID {
				continue
			}
			if opt == "terminate" {
				s.endTask(j, t, now)
			} else {
				s.requeueTask(j, t, now)
			}
		}
	}
}

func (s *Server) disableNodeScheduling(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in struct {
		Option string `json:"nodeDisableSchedulingOption"`
	}
	if _, e := readJSON(r, &in, true); e != nil {
		return e
	}
	opt, e := normEnum("nodeDisableSchedulingOption", in.Option, "requeue", "terminate", "taskcompletion")
	if e != nil {
		return e
	}
	if opt == "" {
		opt = "requeue"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, n, e := s.nodeForOperation(r)
	if e != nil {
		return e
	}
	n.Node.SchedulingState = "disabled"
	s.stopNodeTasks(p, n, opt, rc.now)
	s.markDirty()
	s.wake()
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) enableNodeScheduling(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, n, e := s.nodeForOperation(r)
	if e != nil {
		return e
	}
	n.Node.SchedulingState = "enabled"
	s.markDirty()
	s.wake()
	w.WriteHeader(http.StatusOK)
	return nil
}
