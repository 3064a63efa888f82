package batchemu

import (
	"net/http"
	"strconv"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

const maxRemoveNodes = 100

// removeNodes removes specific nodes: the targets drop by their count and the
// nodes leave with the given deallocation option.
func (s *Server) removeNodes(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.NodeRemoveParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if len(in.NodeList) == 0 {
		return wireerr.MissingProperty("nodeList")
	}
	if len(in.NodeList) > maxRemoveNodes {
		return wireerr.InvalidProperty("nodeList", strconv.Itoa(len(in.NodeList))+" nodes", "at most 100 nodes can be removed per request")
	}
	opt, e := deallocationOption("nodeDeallocationOption", in.NodeDeallocationOption)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	if p.Pool.EnableAutoScale {
		return wireerr.RemoveNodesWithAutoScale()
	}
	if p.Pool.AllocationState != wire.AllocSteady {
		return wireerr.PoolBeingResized()
	}
	var nodes []*store.Node
	for _, id := range in.NodeList {
		_, n := s.findNode(store.Key(p.Pool.ID), id)
		if n == nil {
			return wireerr.NodeNotInPool(id)
		}
		nodes = append(nodes, n)
	}
	ded, low := p.Pool.TargetDedicatedNodes, p.Pool.TargetLowPriorityNodes
	for _, n := range nodes {
		if n.Leaving {
			continue
		}
		if n.Node.IsDedicated {
			ded--
		} else {
			low--
		}
		s.evictNode(p, n, opt, rc.now)
	}
	s.startResize(p, max(ded, 0), max(low, 0), opt, rc.now)
	s.ackPoolUpdate(w, rc, p, http.StatusAccepted)
	return nil
}

func renderNode(p *store.Pool, n *store.Node, base string) wire.ComputeNode {
	out := n.Node
	out.URL = base + "/pools/" + p.Pool.ID + "/nodes/" + n.Node.ID
	if len(out.RecentTasks) > 0 {
		out.RecentTasks = append([]wire.TaskInformation(nil), out.RecentTasks...)
		for i := range out.RecentTasks {
			rt := &out.RecentTasks[i]
			rt.TaskURL = base + "/jobs/" + rt.JobID + "/tasks/" + rt.TaskID
		}
	}
	if out.StartTaskInfo != nil {
		c := *out.StartTaskInfo
		out.StartTaskInfo = &c
	}
	return out
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	p, e := s.lookupPool(r.PathValue("poolId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	items := make([]listItem, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		items = append(items, listItem{sortKey: n.Node.ID, obj: renderNode(p, n, rc.base)})
	}
	s.mu.Unlock()
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(wire.ComputeNode{}), "nodes")
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	o, e := parseQueryOptions(r, schemaOf(wire.ComputeNode{}), false)
	if e != nil {
		return e
	}
	s.mu.Lock()
	p, e := s.lookupPool(r.PathValue("poolId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	_, n := s.findNode(store.Key(p.Pool.ID), r.PathValue("nodeId"))
	if n == nil {
		s.mu.Unlock()
		return wireerr.NodeNotFound()
	}
	out := renderNode(p, n, rc.base)
	s.mu.Unlock()
	body, e := shape(out, o.selectExpr, rc.base+"/$metadata#nodes/@Element")
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
