package batchemu

import (
	"net/http"
)

func renderNode(p *poolRec, n *nodeRec, base string) computeNode {
	out := n.Node
	out.URL = base + "/pools/" + p.Pool.ID + "/nodes/" + n.Node.ID
	if len(out.RecentTasks) > 0 {
		out.RecentTasks = append([]taskInformation(nil), out.RecentTasks...)
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

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
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
	return writeList(w, r, rc, items, schemaOf(computeNode{}), "nodes")
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	o, e := parseQueryOptions(r, schemaOf(computeNode{}), false)
	if e != nil {
		return e
	}
	s.mu.Lock()
	p, e := s.lookupPool(r.PathValue("poolId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	_, n := s.findNode(key(p.Pool.ID), r.PathValue("nodeId"))
	if n == nil {
		s.mu.Unlock()
		return errNodeNotFound()
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
