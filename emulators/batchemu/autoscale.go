package batchemu

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/autoscale"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// maxSamples bounds the history kept per metric and pool.
const maxSamples = 2880

// autoscaleMetrics are the task metrics the emulator samples.
var autoscaleMetrics = []string{"$ActiveTasks", "$RunningTasks", "$PendingTasks", "$SucceededTasks", "$FailedTasks"}

// checkFormula validates a formula's syntax and limits (autoscale.Parse
// applies the service's 8 KB / 100 statement limits).
func checkFormula(formula string) *wireerr.Error {
	if _, err := autoscale.Parse(formula); err != nil {
		return wireerr.Formula(engineError(err))
	}
	return nil
}

// engineError returns err as the formula engine's *autoscale.Error, which
// every error of Parse and Evaluate is.
func engineError(err error) *autoscale.Error {
	var ae *autoscale.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &autoscale.Error{Code: autoscale.CodeEvaluationError, Message: err.Error()}
}

// evaluate runs formula against p's current samples and counts; mu held.
// parseErr is set when the formula does not parse, runErr when it does not
// evaluate.
func (s *Server) evaluate(p *store.Pool, formula string, now time.Time) (res *autoscale.Result, parseErr, runErr *autoscale.Error) {
	f, err := autoscale.Parse(formula)
	if err != nil {
		return nil, engineError(err), nil
	}
	in := autoscale.Inputs{
		Now:                    now,
		Samples:                map[string][]autoscale.Sample{},
		TargetDedicatedNodes:   float64(p.Pool.TargetDedicatedNodes),
		TargetLowPriorityNodes: float64(p.Pool.TargetLowPriorityNodes),
		TaskSlotsPerNode:       float64(p.Pool.TaskSlotsPerNode),
		SampleInterval:         s.opts.SampleInterval,
	}
	ded, low := currentNodes(p)
	in.CurrentDedicatedNodes, in.CurrentLowPriorityNodes = float64(ded), float64(low)
	for name, ss := range p.Samples {
		out := make([]autoscale.Sample, len(ss))
		for i, v := range ss {
			out[i] = autoscale.Sample{Time: v.Time, Value: v.Value}
		}
		in.Samples[name] = out
	}
	res, err = f.Evaluate(in)
	if err != nil {
		return nil, nil, engineError(err)
	}
	return res, nil, nil
}

// currentNodes counts the pool's nodes that are not leaving.
func currentNodes(p *store.Pool) (ded, low int) {
	for _, n := range p.Nodes {
		if n.Leaving {
			continue
		}
		if n.Node.IsDedicated {
			ded++
		} else {
			low++
		}
	}
	return ded, low
}

// runAutoScale evaluates the pool's formula, records autoScaleRun and
// resizes to the result; mu held.
func (s *Server) runAutoScale(p *store.Pool, now time.Time) {
	res, parseErr, runErr := s.evaluate(p, p.Pool.AutoScaleFormula, now)
	run := &wire.AutoScaleRun{Timestamp: wire.At(now)}
	switch {
	case parseErr != nil:
		run.Error = wireerr.AutoScaleRunError(parseErr)
	case runErr != nil:
		run.Error = wireerr.AutoScaleRunError(runErr)
	default:
		run.Results = res.Results
	}
	p.Pool.AutoScaleRun = run
	s.touchPool(p, now)
	if res == nil {
		s.log.Info("autoscale evaluation failed", "pool", p.Pool.ID, "code", run.Error.Code)
		return
	}
	opt := strings.ToLower(res.NodeDeallocationOption)
	if opt == "" {
		opt = "requeue"
	}
	ded, low := currentNodes(p)
	if res.TargetDedicatedNodes != p.Pool.TargetDedicatedNodes || res.TargetLowPriorityNodes != p.Pool.TargetLowPriorityNodes ||
		ded != res.TargetDedicatedNodes || low != res.TargetLowPriorityNodes {
		s.log.Info("autoscale resize", "pool", p.Pool.ID, "dedicated", res.TargetDedicatedNodes, "lowPriority", res.TargetLowPriorityNodes, "deallocation", opt)
		s.startResize(p, res.TargetDedicatedNodes, res.TargetLowPriorityNodes, opt, now)
	}
}

// sampleAutoScale appends one sample of each task metric for p; mu held.
func (s *Server) sampleAutoScale(p *store.Pool, now time.Time) {
	var active, running, succeeded, failed float64
	for _, j := range s.st.Jobs {
		if jobPoolKey(j) != store.Key(p.Pool.ID) {
			continue
		}
		for _, t := range j.Tasks {
			switch t.Task.State {
			case wire.TaskActive:
				if wire.JobState(j.Job.State) == wire.JobActive && depsSatisfied(j, t) {
					active++
				}
			case wire.TaskRunning:
				running++
			case wire.TaskCompleted:
				if t.Task.ExecutionInfo.Result == "success" {
					succeeded++
				} else {
					failed++
				}
			}
		}
	}
	if p.Samples == nil {
		p.Samples = map[string][]store.Sample{}
	}
	vals := map[string]float64{
		"$ActiveTasks": active, "$RunningTasks": running, "$PendingTasks": active + running,
		"$SucceededTasks": succeeded, "$FailedTasks": failed,
	}
	for _, m := range autoscaleMetrics {
		ss := append(p.Samples[m], store.Sample{Time: now, Value: vals[m]})
		if len(ss) > maxSamples {
			ss = ss[len(ss)-maxSamples:]
		}
		p.Samples[m] = ss
	}
	s.markDirty()
}

// enableRateLimit is the minimum time between enableautoscale calls on one
// pool: 30 s like the service, scaled down with a lowered AutoScaleMinInterval.
func (s *Server) enableRateLimit() time.Duration {
	if s.opts.AutoScaleMinInterval >= 5*time.Minute {
		return 30 * time.Second
	}
	return time.Duration(float64(30*time.Second) * float64(s.opts.AutoScaleMinInterval) / float64(5*time.Minute))
}

func (s *Server) enableAutoScale(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.PoolEnableAutoScaleParameter
	if _, e := readJSON(r, &in, true); e != nil {
		return e
	}
	if in.AutoScaleFormula != "" {
		if e := checkFormula(in.AutoScaleFormula); e != nil {
			return e
		}
	}
	var interval time.Duration
	var e *wireerr.Error
	if in.AutoScaleEvaluationInterval != nil {
		if interval, e = s.checkInterval(in.AutoScaleEvaluationInterval); e != nil {
			return e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	now := rc.now
	if !p.Pool.EnableAutoScale {
		if p.Pool.AllocationState != wire.AllocSteady {
			return wireerr.PoolResizingForAutoScale()
		}
		if in.AutoScaleFormula == "" {
			return wireerr.MissingProperty("autoScaleFormula")
		}
	}
	if !p.LastEnable.IsZero() && now.Sub(p.LastEnable) < s.enableRateLimit() {
		return wireerr.TooManyEnableAutoScale()
	}
	p.LastEnable = now
	if in.AutoScaleFormula != "" {
		p.Pool.AutoScaleFormula = in.AutoScaleFormula
	}
	if in.AutoScaleEvaluationInterval != nil {
		p.Pool.AutoScaleEvaluationInterval = wire.DurationPtr(interval)
	} else if p.Pool.AutoScaleEvaluationInterval == nil {
		p.Pool.AutoScaleEvaluationInterval = wire.DurationPtr(defaultASInterval)
	}
	if !p.Pool.EnableAutoScale {
		p.Samples = nil
		p.NextSample = now
		s.sampleAutoScale(p, now)
		p.NextSample = now.Add(s.opts.SampleInterval)
	}
	p.Pool.EnableAutoScale = true
	s.runAutoScale(p, now)
	p.NextEvaluation = now.Add(time.Duration(*p.Pool.AutoScaleEvaluationInterval))
	setEntityHeaders(w, p.Pool.ETag, now, rc.base+"/pools/"+p.Pool.ID)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) disableAutoScale(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.poolForUpdate(r)
	if e != nil {
		return e
	}
	p.Pool.EnableAutoScale = false
	p.Pool.AutoScaleFormula = ""
	p.Pool.AutoScaleEvaluationInterval = nil
	p.Pool.AutoScaleRun = nil
	p.Samples = nil
	s.ackPoolUpdate(w, rc, p, http.StatusOK)
	return nil
}

func (s *Server) evaluateAutoScale(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.PoolEvaluateAutoScaleParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.AutoScaleFormula == "" {
		return wireerr.MissingProperty("autoScaleFormula")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.activePool(r.PathValue("poolId"))
	if e != nil {
		return e
	}
	if !p.Pool.EnableAutoScale {
		return wireerr.AutoScaleNotEnabled()
	}
	res, parseErr, runErr := s.evaluate(p, in.AutoScaleFormula, rc.now)
	if parseErr != nil {
		return wireerr.Formula(parseErr)
	}
	run := map[string]any{
		"odata.metadata": rc.base + "/$metadata#Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun",
		"timestamp":      wire.At(rc.now),
	}
	if runErr != nil {
		run["error"] = wireerr.AutoScaleRunError(runErr)
	} else {
		run["results"] = res.Results
	}
	setEntityHeaders(w, p.Pool.ETag, p.Pool.LastModified.Time, rc.base+"/pools/"+p.Pool.ID)
	writeJSON(w, http.StatusOK, run)
	return nil
}
