package batchemu

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

func (s *Server) lookupJob(id string) (*store.Job, *wireerr.Error) {
	j, ok := s.st.Jobs[store.Key(id)]
	if !ok {
		return nil, wireerr.JobNotFound()
	}
	return j, nil
}

func (s *Server) touchJob(j *store.Job, now time.Time) {
	j.Job.ETag = s.st.NextETag()
	j.Job.LastModified = wire.At(now)
	s.markDirty()
	s.jobsChanged = true
}

func (s *Server) setJobState(j *store.Job, st wire.JobState, now time.Time) {
	if wire.JobState(j.Job.State) == st {
		return
	}
	j.Job.PreviousState = j.Job.State
	j.Job.PreviousStateTransitionTime = wire.AtPtr(j.Job.StateTransitionTime.Time)
	j.Job.State = string(st)
	j.Job.StateTransitionTime = wire.At(now)
	s.touchJob(j, now)
}

func renderJob(j *store.Job, base string) wire.CloudJob {
	out := j.Job
	out.URL = base + "/jobs/" + j.Job.ID
	return out
}

// jobSettings are the job fields shared by add, patch and update.
type jobSettings struct {
	priority, maxParallel *int
	constraints           *wire.JobConstraints
	onAllTasksComplete    string
	poolInfo              *wire.PoolInformation
	allowAutoPool         bool // job add may name an auto pool
}

func validateJobSettings(in jobSettings) (string, *wireerr.Error) {
	if in.priority != nil && (*in.priority < -1000 || *in.priority > 1000) {
		return "", wireerr.OutOfRangePriority(*in.priority)
	}
	if in.maxParallel != nil && *in.maxParallel != -1 && *in.maxParallel < 1 {
		return "", wireerr.InvalidProperty("maxParallelTasks", strconv.Itoa(*in.maxParallel), "must be -1 or greater than 0")
	}
	if in.constraints != nil {
		if e := validateRetryCount("constraints.maxTaskRetryCount", in.constraints.MaxTaskRetryCount); e != nil {
			return "", e
		}
		if d := in.constraints.MaxWallClockTime; d != nil && *d <= 0 {
			return "", wireerr.InvalidProperty("constraints.maxWallClockTime", wire.FormatDuration(time.Duration(*d)), "must be positive")
		}
	}
	if in.poolInfo != nil {
		if present(in.poolInfo.AutoPoolSpecification) {
			if !in.allowAutoPool {
				return "", wireerr.UnsupportedProperty("poolInfo.autoPoolSpecification")
			}
		} else if in.poolInfo.PoolID == "" {
			return "", wireerr.MissingProperty("poolInfo.poolId")
		}
	}
	return normEnum("onAllTasksComplete", in.onAllTasksComplete, "noaction", "terminatejob")
}

func defaultJobConstraints(c *wire.JobConstraints) wire.JobConstraints {
	out := wire.JobConstraints{MaxWallClockTime: wire.DurationPtr(wire.InfiniteDuration), MaxTaskRetryCount: new(int)}
	if c != nil {
		if c.MaxWallClockTime != nil {
			out.MaxWallClockTime = c.MaxWallClockTime
		}
		if c.MaxTaskRetryCount != nil {
			out.MaxTaskRetryCount = c.MaxTaskRetryCount
		}
	}
	return out
}

func (s *Server) addJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.JobAddParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.ID == "" {
		return wireerr.MissingProperty("id")
	}
	if !validID(in.ID) {
		return wireerr.InvalidProperty("id", in.ID, "ids are 1-64 letters, digits, hyphens and underscores")
	}
	if in.PoolInfo == nil {
		return wireerr.MissingProperty("poolInfo")
	}
	if e := validateJobManager(in.JobManagerTask); e != nil {
		return e
	}
	if e := validatePrepRelease(in.JobPreparationTask, in.JobReleaseTask); e != nil {
		return e
	}
	oatc, e := validateJobSettings(jobSettings{in.Priority, in.MaxParallelTasks, in.Constraints, in.OnAllTasksComplete, in.PoolInfo, true})
	if e != nil {
		return e
	}
	auto, autoPool, autoInterval, e := s.autoPoolFor(in.PoolInfo)
	if e != nil {
		return e
	}
	otf, e := normEnum("onTaskFailure", in.OnTaskFailure, "noaction", "performexitoptionsjobaction")
	if e != nil {
		return e
	}
	if e := validateEnv("commonEnvironmentSettings", in.CommonEnvironmentSettings); e != nil {
		return e
	}
	job := wire.CloudJob{
		ID: in.ID, DisplayName: in.DisplayName, MaxParallelTasks: -1, AllowTaskPreemption: in.AllowTaskPreemption,
		Constraints: defaultJobConstraints(in.Constraints), CommonEnvironmentSettings: in.CommonEnvironmentSettings,
		PoolInfo: *in.PoolInfo, OnAllTasksComplete: "noaction", OnTaskFailure: "noaction", Metadata: in.Metadata,
		NetworkConfiguration: in.NetworkConfiguration, State: string(wire.JobActive), UsesTaskDependencies: in.UsesTaskDependencies,
		JobPreparationTask: in.JobPreparationTask, JobReleaseTask: in.JobReleaseTask, JobManagerTask: in.JobManagerTask,
	}
	if in.Priority != nil {
		job.Priority = *in.Priority
	}
	if in.MaxParallelTasks != nil {
		job.MaxParallelTasks = *in.MaxParallelTasks
	}
	if oatc != "" {
		job.OnAllTasksComplete = oatc
	}
	if otf != "" {
		job.OnTaskFailure = otf
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.st.Jobs[store.Key(in.ID)]; ok {
		if wire.JobState(old.Job.State) == wire.JobDeleting {
			return wireerr.JobState(wire.JobDeleting)
		}
		return wireerr.JobExists()
	}
	now := rc.now
	job.CreationTime, job.StateTransitionTime = wire.At(now), wire.At(now)
	job.ExecutionInfo = wire.JobExecutionInfo{StartTime: wire.At(now), PoolID: job.PoolInfo.PoolID}
	if auto != nil {
		if _, taken := s.st.Pools[store.Key(autoPool.ID)]; taken {
			return wireerr.AutoPoolIDTaken()
		}
		s.insertPool(autoPool, autoInterval, now)
		job.ExecutionInfo.PoolID = autoPool.ID
	}
	j := &store.Job{Job: job, Tasks: map[string]*store.Task{}}
	if jm := in.JobManagerTask; jm != nil {
		ct, e := buildTask(managerTaskParameter(jm), j, now)
		if e != nil {
			return prefixProperty(e, "jobManagerTask.")
		}
		t, _ := s.insertTask(j, ct, now)
		t.JobManager = true
		t.Order = 0 // the job manager runs before the job's other tasks
	}
	s.touchJob(j, now)
	s.st.Jobs[store.Key(in.ID)] = j
	s.wake()
	loc := rc.base + "/jobs/" + in.ID
	setEntityHeaders(w, j.Job.ETag, now, loc)
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// jobForUpdate returns the job named in the request path once allowed
// accepts its state (otherwise the service's error for that state) and the
// request's preconditions hold for it; mu must be held.
func (s *Server) jobForUpdate(r *http.Request, allowed func(wire.JobState) bool) (*store.Job, *wireerr.Error) {
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		return nil, e
	}
	if st := wire.JobState(j.Job.State); !allowed(st) {
		return nil, wireerr.JobState(st)
	}
	if e := checkConditions(r, j.Job.ETag, j.Job.LastModified.Time, false); e != nil {
		return nil, e
	}
	return j, nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return getEntity(s, w, r, rc, "jobs", func() (wire.CloudJob, *wireerr.Error) {
		j, e := s.lookupJob(r.PathValue("jobId"))
		if e != nil {
			return wire.CloudJob{}, e
		}
		return renderJob(j, rc.base), nil
	})
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	items := make([]listItem, 0, len(s.st.Jobs))
	for k, j := range s.st.Jobs {
		items = append(items, listItem{sortKey: k, obj: renderJob(j, rc.base)})
	}
	s.mu.Unlock()
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(wire.CloudJob{}), "jobs")
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, jobNotDeleting)
	if e != nil {
		return e
	}
	now := rc.now
	s.setJobState(j, wire.JobDeleting, now)
	for _, t := range j.Tasks {
		if t.Task.State == wire.TaskRunning {
			s.killTask(j, t)
		}
	}
	s.wake()
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) terminateJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.JobTerminateParameter
	if _, e := readJSON(r, &in, true); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, jobOpen)
	if e != nil {
		return e
	}
	reason := in.TerminateReason
	if reason == "" {
		reason = "UserTerminate"
	}
	s.terminateJobLocked(j, reason, rc.now)
	setEntityHeaders(w, j.Job.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// terminateJobLocked moves j to terminating, ends its running tasks and lets
// the scheduler complete it; mu held.
func (s *Server) terminateJobLocked(j *store.Job, reason string, now time.Time) {
	s.setJobState(j, wire.JobTerminating, now)
	j.Job.ExecutionInfo.TerminateReason = reason
	for _, t := range j.Tasks {
		if t.Task.State == wire.TaskRunning {
			s.endTask(j, t, now)
		}
	}
	s.wake()
}

func (s *Server) patchJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return s.changeJob(w, r, rc, false)
}

func (s *Server) updateJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return s.changeJob(w, r, rc, true)
}

// changeJob implements PATCH (only given fields) and PUT (replace: absent
// fields get their defaults, poolInfo is required).
func (s *Server) changeJob(w http.ResponseWriter, r *http.Request, rc *reqCtx, replace bool) *wireerr.Error {
	var in wire.JobPatchParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if replace && in.PoolInfo == nil {
		return wireerr.MissingProperty("poolInfo")
	}
	oatc, e := validateJobSettings(jobSettings{in.Priority, in.MaxParallelTasks, in.Constraints, in.OnAllTasksComplete, in.PoolInfo, false})
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, func(st wire.JobState) bool {
		return st != wire.JobDeleting && st != wire.JobCompleted && st != wire.JobTerminating
	})
	if e != nil {
		return e
	}
	job := &j.Job
	if in.PoolInfo != nil && !equalFoldID(in.PoolInfo.PoolID, job.PoolInfo.PoolID) {
		if wire.JobState(job.State) != wire.JobDisabled {
			return wireerr.JobPoolChangeNotDisabled()
		}
		job.PoolInfo = *in.PoolInfo
		job.ExecutionInfo.PoolID = in.PoolInfo.PoolID
	}
	if replace {
		job.Priority, job.MaxParallelTasks, job.AllowTaskPreemption = 0, -1, false
		job.Constraints = defaultJobConstraints(nil)
		job.OnAllTasksComplete = "noaction"
		job.Metadata = nil
	}
	if in.Priority != nil {
		job.Priority = *in.Priority
	}
	if in.MaxParallelTasks != nil {
		job.MaxParallelTasks = *in.MaxParallelTasks
	}
	if in.AllowTaskPreemption != nil {
		job.AllowTaskPreemption = *in.AllowTaskPreemption
	}
	if in.Constraints != nil {
		job.Constraints = defaultJobConstraints(in.Constraints)
	}
	if oatc != "" {
		job.OnAllTasksComplete = oatc
	}
	if in.Metadata != nil {
		job.Metadata = *in.Metadata
	}
	s.touchJob(j, rc.now)
	s.wake()
	setEntityHeaders(w, j.Job.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID)
	w.WriteHeader(http.StatusOK)
	return nil
}

func equalFoldID(a, b string) bool { return store.Key(a) == store.Key(b) }

func (s *Server) disableJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in struct {
		DisableTasks string `json:"disableTasks"`
	}
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.DisableTasks == "" {
		return wireerr.MissingProperty("disableTasks")
	}
	mode, e := normEnum("disableTasks", in.DisableTasks, "requeue", "terminate", "wait")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, func(st wire.JobState) bool { return st == wire.JobActive })
	if e != nil {
		return e
	}
	s.setJobState(j, wire.JobDisabling, rc.now)
	for _, t := range j.Tasks {
		if t.Task.State != wire.TaskRunning {
			continue
		}
		switch mode {
		case "requeue":
			s.requeueTask(j, t, rc.now)
		case "terminate":
			s.endTask(j, t, rc.now)
		}
	}
	s.wake()
	setEntityHeaders(w, j.Job.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) enableJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		return e
	}
	switch st := wire.JobState(j.Job.State); st {
	case wire.JobDisabled, wire.JobDisabling:
	case wire.JobActive, wire.JobEnabling:
		return wireerr.JobNotDisabled()
	default:
		return wireerr.JobState(st)
	}
	if e := checkConditions(r, j.Job.ETag, j.Job.LastModified.Time, false); e != nil {
		return e
	}
	s.setJobState(j, wire.JobEnabling, rc.now)
	s.wake()
	setEntityHeaders(w, j.Job.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// taskCountsAPIVersion is the first api-version answering taskcounts with
// {taskCounts, taskSlotCounts}; older versions get the bare counts.
const taskCountsAPIVersion = "2020-09-01"

func (s *Server) getTaskCounts(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	var tc, sc wire.TaskCounts
	for _, t := range j.Tasks {
		slots := t.Task.RequiredSlots
		switch t.Task.State {
		case wire.TaskActive:
			tc.Active++
			sc.Active += slots
		case wire.TaskRunning:
			tc.Running++
			sc.Running += slots
		case wire.TaskCompleted:
			tc.Completed++
			sc.Completed += slots
			if t.Task.ExecutionInfo.Result == "success" {
				tc.Succeeded++
				sc.Succeeded += slots
			} else {
				tc.Failed++
				sc.Failed += slots
			}
		}
	}
	s.mu.Unlock()
	if rc.apiVersion < taskCountsAPIVersion {
		writeJSON(w, http.StatusOK, struct {
			Metadata string `json:"odata.metadata"`
			wire.TaskCounts
			ValidationStatus string `json:"validationStatus"`
		}{rc.base + "/$metadata#taskcounts/@Element", tc, "validated"})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"odata.metadata": rc.base + "/$metadata#taskcountsresult/@Element",
		"taskCounts":     tc,
		"taskSlotCounts": sc,
	})
	return nil
}
