package batchemu

import (
	"net/http"
	"strconv"
	"time"
)

func (s *Server) lookupJob(id string) (*jobRec, *apiError) {
	j, ok := s.st.Jobs[key(id)]
	if !ok {
		return nil, errJobNotFound()
	}
	return j, nil
}

func (s *Server) touchJob(j *jobRec, now time.Time) {
	j.Job.ETag = s.st.nextETag()
	j.Job.LastModified = wt(now)
	s.markDirty()
	s.jobsChanged = true
}

func (s *Server) setJobState(j *jobRec, st jobState, now time.Time) {
	if jobState(j.Job.State) == st {
		return
	}
	j.Job.PreviousState = j.Job.State
	j.Job.PreviousStateTransitionTime = wtp(j.Job.StateTransitionTime.Time)
	j.Job.State = string(st)
	j.Job.StateTransitionTime = wt(now)
	s.touchJob(j, now)
}

func renderJob(j *jobRec, base string) cloudJob {
	out := j.Job
	out.URL = base + "/jobs/" + j.Job.ID
	return out
}

// jobSettings are the job fields shared by add, patch and update.
type jobSettings struct {
	priority, maxParallel *int
	constraints           *jobConstraints
	onAllTasksComplete    string
	poolInfo              *poolInformation
	allowAutoPool         bool // job add may name an auto pool
}

func validateJobSettings(in jobSettings) (string, *apiError) {
	if in.priority != nil && (*in.priority < -1000 || *in.priority > 1000) {
		return "", errOutOfRangePriority(*in.priority)
	}
	if in.maxParallel != nil && *in.maxParallel != -1 && *in.maxParallel < 1 {
		return "", errInvalidProperty("maxParallelTasks", strconv.Itoa(*in.maxParallel), "must be -1 or greater than 0")
	}
	if in.constraints != nil {
		if e := validateRetryCount("constraints.maxTaskRetryCount", in.constraints.MaxTaskRetryCount); e != nil {
			return "", e
		}
		if d := in.constraints.MaxWallClockTime; d != nil && *d <= 0 {
			return "", errInvalidProperty("constraints.maxWallClockTime", formatDuration(time.Duration(*d)), "must be positive")
		}
	}
	if in.poolInfo != nil {
		if present(in.poolInfo.AutoPoolSpecification) {
			if !in.allowAutoPool {
				return "", errUnsupportedProperty("poolInfo.autoPoolSpecification")
			}
		} else if in.poolInfo.PoolID == "" {
			return "", errMissingProperty("poolInfo.poolId")
		}
	}
	return normEnum("onAllTasksComplete", in.onAllTasksComplete, "noaction", "terminatejob")
}

func defaultJobConstraints(c *jobConstraints) jobConstraints {
	out := jobConstraints{MaxWallClockTime: durp(infiniteDuration), MaxTaskRetryCount: new(int)}
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

func (s *Server) addJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	var in jobAddParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.ID == "" {
		return errMissingProperty("id")
	}
	if !validID(in.ID) {
		return errInvalidProperty("id", in.ID, "ids are 1-64 letters, digits, hyphens and underscores")
	}
	if in.PoolInfo == nil {
		return errMissingProperty("poolInfo")
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
	job := cloudJob{
		ID: in.ID, DisplayName: in.DisplayName, MaxParallelTasks: -1, AllowTaskPreemption: in.AllowTaskPreemption,
		Constraints: defaultJobConstraints(in.Constraints), CommonEnvironmentSettings: in.CommonEnvironmentSettings,
		PoolInfo: *in.PoolInfo, OnAllTasksComplete: "noaction", OnTaskFailure: "noaction", Metadata: in.Metadata,
		NetworkConfiguration: in.NetworkConfiguration, State: string(jobActive), UsesTaskDependencies: in.UsesTaskDependencies,
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
	if old, ok := s.st.Jobs[key(in.ID)]; ok {
		if jobState(old.Job.State) == jobDeleting {
			return errJobState(jobDeleting)
		}
		return errJobExists()
	}
	now := rc.now
	job.CreationTime, job.StateTransitionTime = wt(now), wt(now)
	job.ExecutionInfo = jobExecutionInfo{StartTime: wt(now), PoolID: job.PoolInfo.PoolID}
	if auto != nil {
		if _, taken := s.st.Pools[key(autoPool.ID)]; taken {
			return errAutoPoolIDTaken()
		}
		s.insertPool(autoPool, autoInterval, now)
		job.ExecutionInfo.PoolID = autoPool.ID
	}
	j := &jobRec{Job: job, Tasks: map[string]*taskRec{}}
	if jm := in.JobManagerTask; jm != nil {
		ct, e := buildTask(jm.asTask(), j, now)
		if e != nil {
			return prefixProperty(e, "jobManagerTask.")
		}
		t, _ := s.insertTask(j, ct, now)
		t.JobManager = true
		t.Order = 0 // the job manager runs before the job's other tasks
	}
	s.touchJob(j, now)
	s.st.Jobs[key(in.ID)] = j
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
func (s *Server) jobForUpdate(r *http.Request, allowed func(jobState) bool) (*jobRec, *apiError) {
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		return nil, e
	}
	if st := jobState(j.Job.State); !allowed(st) {
		return nil, errJobState(st)
	}
	if e := checkConditions(r, j.Job.ETag, j.Job.LastModified.Time, false); e != nil {
		return nil, e
	}
	return j, nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	return getEntity(s, w, r, rc, "jobs", func() (cloudJob, *apiError) {
		j, e := s.lookupJob(r.PathValue("jobId"))
		if e != nil {
			return cloudJob{}, e
		}
		return renderJob(j, rc.base), nil
	})
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	items := make([]listItem, 0, len(s.st.Jobs))
	for k, j := range s.st.Jobs {
		items = append(items, listItem{sortKey: k, obj: renderJob(j, rc.base)})
	}
	s.mu.Unlock()
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(cloudJob{}), "jobs")
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, jobNotDeleting)
	if e != nil {
		return e
	}
	now := rc.now
	s.setJobState(j, jobDeleting, now)
	for _, t := range j.Tasks {
		if t.Task.State == taskRunning {
			s.killTask(j, t)
		}
	}
	s.wake()
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) terminateJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	var in jobTerminateParameter
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
func (s *Server) terminateJobLocked(j *jobRec, reason string, now time.Time) {
	s.setJobState(j, jobTerminating, now)
	j.Job.ExecutionInfo.TerminateReason = reason
	for _, t := range j.Tasks {
		if t.Task.State == taskRunning {
			s.endTask(j, t, now)
		}
	}
	s.wake()
}

func (s *Server) patchJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	return s.changeJob(w, r, rc, false)
}

func (s *Server) updateJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	return s.changeJob(w, r, rc, true)
}

// changeJob implements PATCH (only given fields) and PUT (replace: absent
// fields get their defaults, poolInfo is required).
func (s *Server) changeJob(w http.ResponseWriter, r *http.Request, rc *reqCtx, replace bool) *apiError {
	var in jobPatchParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if replace && in.PoolInfo == nil {
		return errMissingProperty("poolInfo")
	}
	oatc, e := validateJobSettings(jobSettings{in.Priority, in.MaxParallelTasks, in.Constraints, in.OnAllTasksComplete, in.PoolInfo, false})
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, func(st jobState) bool { return st != jobDeleting && st != jobCompleted && st != jobTerminating })
	if e != nil {
		return e
	}
	job := &j.Job
	if in.PoolInfo != nil && !equalFoldID(in.PoolInfo.PoolID, job.PoolInfo.PoolID) {
		if jobState(job.State) != jobDisabled {
			return errJobPoolChangeNotDisabled()
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

func equalFoldID(a, b string) bool { return key(a) == key(b) }

func (s *Server) disableJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	var in struct {
		DisableTasks string `json:"disableTasks"`
	}
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.DisableTasks == "" {
		return errMissingProperty("disableTasks")
	}
	mode, e := normEnum("disableTasks", in.DisableTasks, "requeue", "terminate", "wait")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.jobForUpdate(r, func(st jobState) bool { return st == jobActive })
	if e != nil {
		return e
	}
	s.setJobState(j, jobDisabling, rc.now)
	for _, t := range j.Tasks {
		if t.Task.State != taskRunning {
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

func (s *Server) enableJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		return e
	}
	switch st := jobState(j.Job.State); st {
	case jobDisabled, jobDisabling:
	case jobActive, jobEnabling:
		return errJobNotDisabled()
	default:
		return errJobState(st)
	}
	if e := checkConditions(r, j.Job.ETag, j.Job.LastModified.Time, false); e != nil {
		return e
	}
	s.setJobState(j, jobEnabling, rc.now)
	s.wake()
	setEntityHeaders(w, j.Job.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// taskCountsAPIVersion is the first api-version answering taskcounts with
// {taskCounts, taskSlotCounts}; older versions get the bare counts.
const taskCountsAPIVersion = "2020-09-01"

func (s *Server) getTaskCounts(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	var tc, sc taskCounts
	for _, t := range j.Tasks {
		slots := t.Task.RequiredSlots
		switch t.Task.State {
		case taskActive:
			tc.Active++
			sc.Active += slots
		case taskRunning:
			tc.Running++
			sc.Running += slots
		case taskCompleted:
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
			taskCounts
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
