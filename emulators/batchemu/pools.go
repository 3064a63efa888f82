package batchemu

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

const (
	defaultResizeTimeout = 15 * time.Minute
	minResizeTimeout     = 5 * time.Minute
	maxAutoScaleInterval = 168 * time.Hour
	defaultASInterval    = 15 * time.Minute
	maxTaskSlotsPerNode  = 256
)

// lookupPool returns the pool with id; mu must be held.
func (s *Server) lookupPool(id string) (*store.Pool, *wireerr.Error) {
	p, ok := s.st.Pools[store.Key(id)]
	if !ok {
		return nil, wireerr.PoolNotFound()
	}
	return p, nil
}

// activePool is lookupPool that also refuses a deleting pool; mu must be held.
func (s *Server) activePool(id string) (*store.Pool, *wireerr.Error) {
	p, e := s.lookupPool(id)
	if e != nil {
		return nil, e
	}
	if p.Pool.State == wire.PoolDeleting {
		return nil, wireerr.PoolBeingDeleted()
	}
	return p, nil
}

// poolForUpdate returns the active pool named in the request path once the
// request's preconditions (If-Match and the like) hold for it; mu must be
// held.
func (s *Server) poolForUpdate(r *http.Request) (*store.Pool, *wireerr.Error) {
	p, e := s.activePool(r.PathValue("poolId"))
	if e != nil {
		return nil, e
	}
	if e := checkConditions(r, p.Pool.ETag, p.Pool.LastModified.Time, false); e != nil {
		return nil, e
	}
	return p, nil
}

func (s *Server) touchPool(p *store.Pool, now time.Time) {
	p.Pool.ETag = s.st.NextETag()
	p.Pool.LastModified = wire.At(now)
	s.markDirty()
}

// ackPoolUpdate gives p a new ETag and Last-Modified and answers the
// update with status and the pool's new entity headers; mu must be held.
func (s *Server) ackPoolUpdate(w http.ResponseWriter, rc *reqCtx, p *store.Pool, status int) {
	s.touchPool(p, rc.now)
	setEntityHeaders(w, p.Pool.ETag, rc.now, rc.base+"/pools/"+p.Pool.ID)
	w.WriteHeader(status)
}

func renderPool(p *store.Pool, base string) wire.CloudPool {
	out := p.Pool
	out.URL = base + "/pools/" + p.Pool.ID
	return out
}

func (s *Server) validateStartTask(st *wire.StartTaskParameter) (*wire.StartTask, *wireerr.Error) {
	if st == nil {
		return nil, nil
	}
	if e := checkCommand("startTask", st.CommandLine, st.ContainerSettings); e != nil {
		return nil, e
	}
	if e := checkTaskInputs("startTask", st.ResourceFiles, st.EnvironmentSettings); e != nil {
		return nil, e
	}
	if e := validateRetryCount("startTask.maxTaskRetryCount", st.MaxTaskRetryCount); e != nil {
		return nil, e
	}
	out := &wire.StartTask{TaskCommand: st.TaskCommand, WaitForSuccess: true}
	if st.MaxTaskRetryCount != nil {
		out.MaxTaskRetryCount = *st.MaxTaskRetryCount
	}
	if st.WaitForSuccess != nil {
		out.WaitForSuccess = *st.WaitForSuccess
	}
	return out, nil
}

// checkInterval validates an autoScaleEvaluationInterval against the
// emulator's minimum (Options.AutoScaleMinInterval instead of Azure's 5m).
func (s *Server) checkInterval(d *wire.Duration) (time.Duration, *wireerr.Error) {
	if d == nil {
		return defaultASInterval, nil
	}
	v := time.Duration(*d)
	if v < s.opts.AutoScaleMinInterval || v > maxAutoScaleInterval {
		return 0, wireerr.InvalidProperty("autoScaleEvaluationInterval", wire.FormatDuration(v),
			"the interval must be between "+wire.FormatDuration(s.opts.AutoScaleMinInterval)+" and "+wire.FormatDuration(maxAutoScaleInterval))
	}
	return v, nil
}

// poolFromAdd validates a PoolAddParameter and builds the pool object
// (without times and eTag). interval is the autoscale evaluation interval.
func (s *Server) poolFromAdd(in *wire.PoolAddParameter) (pool wire.CloudPool, interval time.Duration, e *wireerr.Error) {
	if in.ID == "" {
		return pool, 0, wireerr.MissingProperty("id")
	}
	if !validID(in.ID) {
		return pool, 0, wireerr.InvalidProperty("id", in.ID, "ids are 1-64 letters, digits, hyphens and underscores")
	}
	if in.VMSize == "" {
		return pool, 0, wireerr.MissingProperty("vmSize")
	}
	if len(in.VirtualMachineConfiguration) == 0 && len(in.CloudServiceConfiguration) == 0 {
		return pool, 0, wireerr.MissingProperty("virtualMachineConfiguration")
	}
	if len(in.MountConfiguration) > 0 { // any value, even [], is refused (TestPoolErrors)
		return pool, 0, wireerr.UnsupportedProperty("mountConfiguration")
	}
	pool = wire.CloudPool{
		ID: in.ID, DisplayName: in.DisplayName, VMSize: in.VMSize,
		VirtualMachineConfiguration: in.VirtualMachineConfiguration, CloudServiceConfiguration: in.CloudServiceConfiguration,
		EnableInterNodeCommunication: in.EnableInterNodeCommunication, NetworkConfiguration: in.NetworkConfiguration,
		CertificateReferences: in.CertificateReferences, ApplicationPackageReferences: in.ApplicationPackageReferences,
		UserAccounts: in.UserAccounts, Metadata: in.Metadata, TargetNodeCommunicationMode: in.TargetNodeCommunicationMode,
		TaskSlotsPerNode: 1, TaskSchedulingPolicy: &wire.TaskSchedulingPolicy{NodeFillType: "spread"},
		State: wire.PoolActive, AllocationState: wire.AllocSteady, ResizeTimeout: wire.DurationPtr(defaultResizeTimeout),
	}
	if in.ResizeTimeout != nil {
		if d := time.Duration(*in.ResizeTimeout); d < minResizeTimeout {
			return pool, 0, wireerr.InvalidProperty("resizeTimeout", wire.FormatDuration(d), "the resize timeout must be at least PT5M")
		}
		pool.ResizeTimeout = in.ResizeTimeout
	}
	slots := in.TaskSlotsPerNode
	if slots == nil {
		slots = in.MaxTasksPerNode
	}
	if slots != nil {
		if *slots < 1 || *slots > maxTaskSlotsPerNode {
			return pool, 0, wireerr.InvalidProperty("taskSlotsPerNode", strconv.Itoa(*slots), "must be between 1 and 256")
		}
		pool.TaskSlotsPerNode = *slots
	}
	if in.TaskSchedulingPolicy != nil {
		ft, e := normEnum("taskSchedulingPolicy.nodeFillType", in.TaskSchedulingPolicy.NodeFillType, "spread", "pack")
		if e != nil {
			return pool, 0, e
		}
		if ft == "" {
			return pool, 0, wireerr.MissingProperty("taskSchedulingPolicy.nodeFillType")
		}
		pool.TaskSchedulingPolicy.NodeFillType = ft
	}
	st, e := s.validateStartTask(in.StartTask)
	if e != nil {
		return pool, 0, e
	}
	pool.StartTask = st
	if in.EnableAutoScale != nil && *in.EnableAutoScale {
		if in.TargetDedicatedNodes != nil || in.TargetLowPriorityNodes != nil {
			return pool, 0, wireerr.AutoScaleTargets()
		}
		if in.AutoScaleFormula == "" {
			return pool, 0, wireerr.MissingProperty("autoScaleFormula")
		}
		if e := checkFormula(in.AutoScaleFormula); e != nil {
			return pool, 0, e
		}
		if interval, e = s.checkInterval(in.AutoScaleEvaluationInterval); e != nil {
			return pool, 0, e
		}
		pool.EnableAutoScale, pool.AutoScaleFormula = true, in.AutoScaleFormula
		pool.AutoScaleEvaluationInterval = wire.DurationPtr(interval)
	} else {
		if in.AutoScaleFormula != "" || in.AutoScaleEvaluationInterval != nil {
			return pool, 0, wireerr.AutoScaleFormulaWithoutAutoScale()
		}
		if in.TargetDedicatedNodes == nil && in.TargetLowPriorityNodes == nil {
			return pool, 0, wireerr.MissingProperty("targetDedicatedNodes")
		}
		for name, v := range map[string]*int{"targetDedicatedNodes": in.TargetDedicatedNodes, "targetLowPriorityNodes": in.TargetLowPriorityNodes} {
			if v != nil && *v < 0 {
				return pool, 0, wireerr.InvalidProperty(name, strconv.Itoa(*v), "must not be negative")
			}
		}
		if in.TargetDedicatedNodes != nil {
			pool.TargetDedicatedNodes = *in.TargetDedicatedNodes
		}
		if in.TargetLowPriorityNodes != nil {
			pool.TargetLowPriorityNodes = *in.TargetLowPriorityNodes
		}
	}
	return pool, interval, nil
}

func (s *Server) addPool(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.PoolAddParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	pool, interval, e := s.poolFromAdd(&in)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.st.Pools[store.Key(in.ID)]; ok {
		if old.Pool.State == wire.PoolDeleting {
			return wireerr.PoolBeingDeleted()
		}
		return wireerr.PoolExists()
	}
	now := rc.now
	p := s.insertPool(pool, interval, now)
	loc := rc.base + "/pools/" + in.ID
	setEntityHeaders(w, p.Pool.ETag, now, loc)
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// insertPool stores a validated new pool and starts its allocation; mu held.
func (s *Server) insertPool(pool wire.CloudPool, interval time.Duration, now time.Time) *store.Pool {
	pool.CreationTime, pool.StateTransitionTime, pool.AllocationStateTransitionTime = wire.At(now), wire.At(now), wire.At(now)
	p := &store.Pool{Pool: pool}
	s.touchPool(p, now)
	s.st.Pools[store.Key(pool.ID)] = p
	if pool.EnableAutoScale {
		s.sampleAutoScale(p, now)
		p.NextSample = now.Add(s.opts.SampleInterval)
		s.runAutoScale(p, now) // evaluation at creation, like the service
		p.NextEvaluation = now.Add(interval)
	} else if pool.TargetDedicatedNodes+pool.TargetLowPriorityNodes > 0 {
		s.setAllocation(p, wire.AllocResizing, now)
		p.Deallocation = "requeue"
	}
	s.wake()
	return p
}

func (s *Server) setAllocation(p *store.Pool, to string, now time.Time) {
	if p.Pool.AllocationState != to {
		p.Pool.AllocationState = to
		p.Pool.AllocationStateTransitionTime = wire.At(now)
	}
}

func (s *Server) getPool(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return getEntity(s, w, r, rc, "pools", func() (wire.CloudPool, *wireerr.Error) {
		p, e := s.lookupPool(r.PathValue("poolId"))
		if e != nil {
			return wire.CloudPool{}, e
		}
		return renderPool(p, rc.base), nil
	})
}

func (s *Server) listPools(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	items := make([]listItem, 0, len(s.st.Pools))
	for k, p := range s.st.Pools {
		items = append(items, listItem{sortKey: k, obj: renderPool(p, rc.base)})
	}
	s.mu.Unlock()
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(wire.CloudPool{}), "pools")
}

func sortItems(items []listItem) {
	sort.Slice(items, func(i, j int) bool { return items[i].sortKey < items[j].sortKey })
}

func (s *Server) deletePool(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	s.deletePoolLocked(p, rc.now)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// deletePoolLocked starts deleting p: running tasks are requeued and the
// nodes go away on the next scheduler pass; mu held.
func (s *Server) deletePoolLocked(p *store.Pool, now time.Time) {
	p.Pool.State = wire.PoolDeleting
	p.Pool.StateTransitionTime = wire.At(now)
	s.setAllocation(p, wire.AllocResizing, now)
	for _, n := range p.Nodes {
		s.evictNode(p, n, "requeue", now)
	}
	s.touchPool(p, now)
	s.wake()
}

func (s *Server) patchPool(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.PoolPatchParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	st, e := s.validateStartTask(in.StartTask)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	if in.StartTask != nil {
		p.Pool.StartTask = st
	}
	if in.Metadata != nil {
		p.Pool.Metadata = *in.Metadata
	}
	if in.CertificateReferences != nil {
		p.Pool.CertificateReferences = in.CertificateReferences
	}
	if in.ApplicationPackageReferences != nil {
		p.Pool.ApplicationPackageReferences = in.ApplicationPackageReferences
	}
	if in.TargetNodeCommunicationMode != "" {
		p.Pool.TargetNodeCommunicationMode = in.TargetNodeCommunicationMode
	}
	s.ackPoolUpdate(w, rc, p, http.StatusOK)
	return nil
}

// updatePoolProperties replaces the updatable properties (POST
// updateproperties): absent startTask removes it; the lists are required.
func (s *Server) updatePoolProperties(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.PoolPatchParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.CertificateReferences == nil {
		return wireerr.MissingProperty("certificateReferences")
	}
	if in.ApplicationPackageReferences == nil {
		return wireerr.MissingProperty("applicationPackageReferences")
	}
	if in.Metadata == nil {
		return wireerr.MissingProperty("metadata")
	}
	st, e := s.validateStartTask(in.StartTask)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	p.Pool.StartTask = st
	p.Pool.CertificateReferences = in.CertificateReferences
	p.Pool.ApplicationPackageReferences = in.ApplicationPackageReferences
	p.Pool.Metadata = *in.Metadata
	if in.TargetNodeCommunicationMode != "" {
		p.Pool.TargetNodeCommunicationMode = in.TargetNodeCommunicationMode
	}
	s.ackPoolUpdate(w, rc, p, http.StatusNoContent)
	return nil
}

func (s *Server) resizePool(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.PoolResizeParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	opt, e := deallocationOption("nodeDeallocationOption", in.NodeDeallocationOption)
	if e != nil {
		return e
	}
	if in.TargetDedicatedNodes == nil && in.TargetLowPriorityNodes == nil {
		return wireerr.MissingProperty("targetDedicatedNodes")
	}
	for name, v := range map[string]*int{"targetDedicatedNodes": in.TargetDedicatedNodes, "targetLowPriorityNodes": in.TargetLowPriorityNodes} {
		if v != nil && *v < 0 {
			return wireerr.InvalidProperty(name, strconv.Itoa(*v), "must not be negative")
		}
	}
	if in.ResizeTimeout != nil && time.Duration(*in.ResizeTimeout) < minResizeTimeout {
		return wireerr.InvalidProperty("resizeTimeout", wire.FormatDuration(time.Duration(*in.ResizeTimeout)), "the resize timeout must be at least PT5M")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	if p.Pool.EnableAutoScale {
		return wireerr.ResizeWithAutoScale()
	}
	if p.Pool.AllocationState != wire.AllocSteady {
		return wireerr.PoolBeingResized()
	}
	ded, low := p.Pool.TargetDedicatedNodes, p.Pool.TargetLowPriorityNodes
	if in.TargetDedicatedNodes != nil {
		ded = *in.TargetDedicatedNodes
	}
	if in.TargetLowPriorityNodes != nil {
		low = *in.TargetLowPriorityNodes
	}
	if in.ResizeTimeout != nil {
		p.Pool.ResizeTimeout = in.ResizeTimeout
	}
	s.startResize(p, ded, low, opt, rc.now)
	s.ackPoolUpdate(w, rc, p, http.StatusAccepted)
	return nil
}

// startResize sets new targets; the scheduler loop converges on them. mu held.
func (s *Server) startResize(p *store.Pool, ded, low int, opt string, now time.Time) {
	p.Pool.TargetDedicatedNodes, p.Pool.TargetLowPriorityNodes = ded, low
	p.Pool.ResizeErrors = nil
	p.Deallocation = opt
	s.setAllocation(p, wire.AllocResizing, now)
	s.wake()
}

func (s *Server) stopResizePool(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	if p.Pool.AllocationState == wire.AllocResizing {
		// Keep the nodes the pool has now; nodes already leaving still leave.
		p.Pool.TargetDedicatedNodes, p.Pool.TargetLowPriorityNodes = currentNodes(p)
		s.setAllocation(p, wire.AllocStopping, rc.now)
		p.Pool.ResizeErrors = append(p.Pool.ResizeErrors, wireerr.ResizeStopped())
	}
	s.touchPool(p, rc.now)
	s.wake()
	setEntityHeaders(w, p.Pool.ETag, rc.now, rc.base+"/pools/"+p.Pool.ID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}
