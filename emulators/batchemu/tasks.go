package batchemu

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

const (
	defaultRetention   = 7 * 24 * time.Hour
	maxTasksPerRequest = 100
)

// maxDependencyIDChars bounds the total length of dependsOn.taskIds.
const maxDependencyIDChars = 64000

// validateDependencies checks dependsOn against the job (nil: none).
func validateDependencies(d *taskDependencies, j *jobRec) (*taskDependencies, *apiError) {
	if d == nil || len(d.TaskIDs) == 0 && len(d.TaskIDRanges) == 0 {
		return nil, nil
	}
	if !j.Job.UsesTaskDependencies {
		return nil, newError(http.StatusBadRequest, "TaskDependenciesNotSpecifiedOnJob",
			"The task has dependencies but the job does not use task dependencies.")
	}
	total := 0
	for i, id := range d.TaskIDs {
		if !validID(id) {
			return nil, errInvalidProperty(fmt.Sprintf("dependsOn.taskIds[%d]", i), id, "not a valid task id")
		}
		total += len(id)
	}
	if total > maxDependencyIDChars {
		return nil, newError(http.StatusBadRequest, "TaskDependencyListTooLong",
			"The task dependency list is too long.", "MaxLength", strconv.Itoa(maxDependencyIDChars))
	}
	for i, r := range d.TaskIDRanges {
		if r.Start < 0 || r.End < r.Start {
			return nil, errInvalidProperty(fmt.Sprintf("dependsOn.taskIdRanges[%d]", i), fmt.Sprintf("%d-%d", r.Start, r.End),
				"start must be 0 or more and not greater than end")
		}
	}
	return d, nil
}

// depsSatisfied reports whether every task t depends on completed with the
// dependency action "satisfy" (by default: succeeded; exitConditions can
// make a failure satisfy its dependents too). mu held.
func depsSatisfied(j *jobRec, t *taskRec) bool {
	d := t.Task.DependsOn
	if d == nil {
		return true
	}
	ok := func(id string) bool {
		dep, found := j.Tasks[key(id)]
		return found && dep.Task.State == taskCompleted && exitOptionsOf(j, dep).DependencyAction == "satisfy"
	}
	for _, id := range d.TaskIDs {
		if !ok(id) {
			return false
		}
	}
	for _, r := range d.TaskIDRanges {
		if r.End-r.Start+1 > len(j.Tasks) {
			return false // some task of the range does not exist
		}
		for n := r.Start; n <= r.End; n++ {
			if !ok(strconv.Itoa(n)) {
				return false
			}
		}
	}
	return true
}

func (s *Server) touchTask(j *jobRec, t *taskRec, now time.Time) {
	t.Task.ETag = s.st.nextETag()
	t.Task.LastModified = wt(now)
	s.jobsChanged = true
	s.noteTask(j, t)
}

// noteTask records a change to t that does not show on the wire (no new
// eTag) or comes with one (touchTask), so that the next journal record
// carries t; mu held.
func (s *Server) noteTask(j *jobRec, t *taskRec) {
	s.markDirty()
	if s.changedTasks != nil {
		s.changedTasks[t] = taskRef{Job: key(j.Job.ID), Task: key(t.Task.ID)}
	}
}

func (s *Server) setTaskState(t *taskRec, state string, now time.Time) {
	if t.Task.State == state {
		return
	}
	t.Task.PreviousState = t.Task.State
	t.Task.PreviousStateTransitionTime = wtp(t.Task.StateTransitionTime.Time)
	t.Task.State = state
	t.Task.StateTransitionTime = wt(now)
}

func renderTask(j *jobRec, t *taskRec, base string) cloudTask {
	out := t.Task
	out.URL = base + "/jobs/" + j.Job.ID + "/tasks/" + t.Task.ID
	if ni := out.NodeInfo; ni != nil {
		c := *ni
		nodeURL := base + "/pools/" + c.PoolID + "/nodes/" + c.NodeID
		c.NodeURL = nodeURL
		c.TaskRootDirectoryURL = nodeURL + "/files/" + c.TaskRootDirectory
		out.NodeInfo = &c
	}
	return out
}

// buildTask validates one TaskAddParameter against job j and returns the new
// task object (not yet stored).
func buildTask(in *taskAddParameter, j *jobRec, now time.Time) (*cloudTask, *apiError) {
	if in.ID == "" {
		return nil, errMissingProperty("id")
	}
	if !validID(in.ID) {
		return nil, errInvalidProperty("id", in.ID, "ids are 1-64 letters, digits, hyphens and underscores")
	}
	if e := checkTaskIDAgainstPrep(j, in.ID); e != nil {
		return nil, e
	}
	if in.CommandLine == "" {
		return nil, errMissingProperty("commandLine")
	}
	for name, raw := range map[string][]byte{
		"containerSettings": in.ContainerSettings, "multiInstanceSettings": in.MultiInstanceSettings,
		"applicationPackageReferences": in.ApplicationPackageReferences, "authenticationTokenSettings": in.AuthenticationTokenSettings,
	} {
		if present(raw) {
			return nil, errUnsupportedProperty(name)
		}
	}
	deps, e := validateDependencies(in.DependsOn, j)
	if e != nil {
		return nil, e
	}
	if e := validateExitConditions(in.ExitConditions, j); e != nil {
		return nil, e
	}
	if in.AffinityInfo != nil && in.AffinityInfo.AffinityID == "" {
		return nil, errMissingProperty("affinityInfo.affinityId")
	}
	if e := validateResourceFiles("resourceFiles", in.ResourceFiles); e != nil {
		return nil, e
	}
	if e := validateOutputFiles(in.OutputFiles); e != nil {
		return nil, e
	}
	if e := validateEnv("environmentSettings", in.EnvironmentSettings); e != nil {
		return nil, e
	}
	c := taskConstraints{MaxWallClockTime: durp(infiniteDuration), RetentionTime: durp(defaultRetention)}
	if jr := j.Job.Constraints.MaxTaskRetryCount; jr != nil {
		v := *jr
		c.MaxTaskRetryCount = &v
	} else {
		c.MaxTaskRetryCount = new(int)
	}
	if in.Constraints != nil {
		if e := validateRetryCount("constraints.maxTaskRetryCount", in.Constraints.MaxTaskRetryCount); e != nil {
			return nil, e
		}
		if d := in.Constraints.MaxWallClockTime; d != nil {
			if *d <= 0 {
				return nil, errInvalidProperty("constraints.maxWallClockTime", formatDuration(time.Duration(*d)), "must be positive")
			}
			c.MaxWallClockTime = d
		}
		if d := in.Constraints.RetentionTime; d != nil {
			if *d < 0 {
				return nil, errInvalidProperty("constraints.retentionTime", formatDuration(time.Duration(*d)), "must not be negative")
			}
			c.RetentionTime = d
		}
		if in.Constraints.MaxTaskRetryCount != nil {
			c.MaxTaskRetryCount = in.Constraints.MaxTaskRetryCount
		}
	}
	slots := 1
	if in.RequiredSlots != nil {
		if *in.RequiredSlots < 1 || *in.RequiredSlots > maxTaskSlotsPerNode {
			return nil, errInvalidProperty("requiredSlots", strconv.Itoa(*in.RequiredSlots), "must be between 1 and 256")
		}
		slots = *in.RequiredSlots
	}
	return &cloudTask{
		ID: in.ID, DisplayName: in.DisplayName, CommandLine: in.CommandLine,
		ResourceFiles: in.ResourceFiles, OutputFiles: in.OutputFiles, EnvironmentSettings: in.EnvironmentSettings,
		Constraints: c, RequiredSlots: slots, UserIdentity: in.UserIdentity, DependsOn: deps,
		ExitConditions: in.ExitConditions, AffinityInfo: in.AffinityInfo,
		State: taskActive, CreationTime: wt(now), StateTransitionTime: wt(now),
	}, nil
}

// activeJob looks up a job that accepts new tasks (active, or disabled:
// its tasks then wait for enable); mu held.
func (s *Server) activeJob(id string) (*jobRec, *apiError) {
	j, e := s.lookupJob(id)
	if e != nil {
		return nil, e
	}
	if !jobOpen(jobState(j.Job.State)) {
		return nil, errJobState(jobState(j.Job.State))
	}
	return j, nil
}

// jobNotDeleting reports whether a job in state st is not being deleted.
func jobNotDeleting(st jobState) bool { return st != jobDeleting }

// jobOpen reports whether a job in state st is neither ending nor ended.
func jobOpen(st jobState) bool {
	switch st {
	case jobActive, jobDisabling, jobDisabled, jobEnabling:
		return true
	}
	return false
}

// insertTask stores a built task; mu held.
func (s *Server) insertTask(j *jobRec, ct *cloudTask, now time.Time) (*taskRec, *apiError) {
	if _, ok := j.Tasks[key(ct.ID)]; ok {
		return nil, newError(http.StatusConflict, codeTaskExists, "The specified task already exists.")
	}
	s.st.Seq++
	t := &taskRec{Task: *ct, Order: s.st.Seq}
	s.touchTask(j, t, now)
	j.Tasks[key(ct.ID)] = t
	return t, nil
}

func (s *Server) addTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	var in taskAddParameter
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.activeJob(r.PathValue("jobId"))
	if e != nil {
		return e
	}
	ct, e := buildTask(&in, j, rc.now)
	if e != nil {
		return e
	}
	t, e := s.insertTask(j, ct, rc.now)
	if e != nil {
		return e
	}
	s.wake()
	loc := rc.base + "/jobs/" + j.Job.ID + "/tasks/" + t.Task.ID
	setEntityHeaders(w, t.Task.ETag, rc.now, loc)
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) addTaskCollection(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	var in struct {
		Value []taskAddParameter `json:"value"`
	}
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.Value == nil {
		return errMissingProperty("value")
	}
	if len(in.Value) == 0 || len(in.Value) > maxTasksPerRequest {
		return errInvalidProperty("value", fmt.Sprintf("%d tasks", len(in.Value)),
			"a task collection must hold between 1 and 100 tasks")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.activeJob(r.PathValue("jobId"))
	if e != nil {
		return e
	}
	results := make([]taskAddResult, 0, len(in.Value))
	for i := range in.Value {
		p := &in.Value[i]
		ct, e := buildTask(p, j, rc.now)
		var t *taskRec
		if e == nil {
			t, e = s.insertTask(j, ct, rc.now)
		}
		if e != nil {
			results = append(results, taskAddResult{Status: "clienterror", TaskID: p.ID, Error: &errorBody{
				Code: e.Code, Message: errorMessage{Lang: "en-US", Value: e.Message + "\nRequestId:" + rc.requestID + "\nTime:" + formatTime(rc.now)}, Values: e.Values,
			}})
			continue
		}
		results = append(results, taskAddResult{
			Status: "success", TaskID: t.Task.ID, ETag: t.Task.ETag, LastModified: wtp(rc.now),
			Location: rc.base + "/jobs/" + j.Job.ID + "/tasks/" + t.Task.ID,
		})
	}
	s.wake()
	writeJSON(w, http.StatusOK, map[string]any{
		"odata.metadata": rc.base + "/$metadata#taskaddresult",
		"value":          results,
	})
	return nil
}

func (s *Server) lookupTask(jobID, taskID string) (*jobRec, *taskRec, *apiError) {
	j, e := s.lookupJob(jobID)
	if e != nil {
		return nil, nil, e
	}
	t, ok := j.Tasks[key(taskID)]
	if !ok {
		return nil, nil, errTaskNotFound()
	}
	return j, t, nil
}

// taskForUpdate returns the task named in the request path, and its job,
// once jobAllowed accepts the job's state (otherwise the service's error
// for that state), check (when not nil) accepts the task and the request's
// preconditions hold for the task; mu must be held.
func (s *Server) taskForUpdate(r *http.Request, jobAllowed func(jobState) bool, check func(*taskRec) *apiError) (*jobRec, *taskRec, *apiError) {
	j, t, e := s.lookupTask(r.PathValue("jobId"), r.PathValue("taskId"))
	if e != nil {
		return nil, nil, e
	}
	if st := jobState(j.Job.State); !jobAllowed(st) {
		return nil, nil, errJobState(st)
	}
	if check != nil {
		if e := check(t); e != nil {
			return nil, nil, e
		}
	}
	if e := checkConditions(r, t.Task.ETag, t.Task.LastModified.Time, false); e != nil {
		return nil, nil, e
	}
	return j, t, nil
}

// taskNotCompleted refuses a task that has already completed.
func taskNotCompleted(t *taskRec) *apiError {
	if t.Task.State == taskCompleted {
		return newError(http.StatusConflict, codeTaskCompleted, "The specified task is already completed.")
	}
	return nil
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	return getEntity(s, w, r, rc, "tasks", func() (cloudTask, *apiError) {
		j, t, e := s.lookupTask(r.PathValue("jobId"), r.PathValue("taskId"))
		if e != nil {
			return cloudTask{}, e
		}
		return renderTask(j, t, rc.base), nil
	})
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	j, e := s.lookupJob(r.PathValue("jobId"))
	if e != nil {
		s.mu.Unlock()
		return e
	}
	// Only the sort keys under the lock: writeLazyList renders the tasks
	// the page shows, a chunk at a time under the lock.
	items := make([]listItem, 0, len(j.Tasks))
	for k, t := range j.Tasks {
		items = append(items, listItem{sortKey: fmt.Sprintf("%016x", t.Order), props: map[string]any{"state": t.Task.State}, render: func() (any, bool) {
			if j.Tasks[k] != t {
				return nil, false // deleted (or replaced) since
			}
			return renderTask(j, t, rc.base), true
		}})
	}
	s.mu.Unlock()
	sortItems(items)
	return writeLazyList(w, r, rc, items, &s.mu, schemaOf(cloudTask{}), "tasks")
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, jobNotDeleting, nil)
	if e != nil {
		return e
	}
	if t.Task.State == taskRunning {
		s.killTask(j, t)
	}
	delete(j.Tasks, key(t.Task.ID))
	if s.changedTasks != nil { // persisting: the next journal record drops it
		s.deletedTasks = append(s.deletedTasks, taskRef{Job: key(j.Job.ID), Task: key(t.Task.ID)})
	}
	s.jobsChanged = true
	s.removeTaskDir(j, t)
	s.markDirty()
	s.wake()
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) terminateTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, jobNotDeleting, taskNotCompleted)
	if e != nil {
		return e
	}
	s.endTask(j, t, rc.now)
	s.wake()
	setEntityHeaders(w, t.Task.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID+"/tasks/"+t.Task.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reactivateTask puts a failed completed task back in the queue with its
// retry count reset, as the service does.
func (s *Server) reactivateTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, jobOpen, func(t *taskRec) *apiError {
		if t.Task.State != taskCompleted {
			return newError(http.StatusConflict, "TaskNotCompleted", "The specified task is not completed.")
		}
		if t.Task.ExecutionInfo.Result == "success" {
			return newError(http.StatusConflict, "TaskSucceeded", "The specified task completed successfully and cannot be reactivated.")
		}
		return nil
	})
	if e != nil {
		return e
	}
	s.setTaskState(t, taskActive, rc.now)
	t.Task.ExecutionInfo = taskExecutionInfo{RequeueCount: t.Task.ExecutionInfo.RequeueCount, LastRequeueTime: t.Task.ExecutionInfo.LastRequeueTime}
	s.touchTask(j, t, rc.now)
	s.wake()
	setEntityHeaders(w, t.Task.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID+"/tasks/"+t.Task.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	var in struct {
		Constraints *taskConstraints `json:"constraints"`
	}
	if _, e := readJSON(r, &in, true); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, func(st jobState) bool { return st != jobDeleting && st != jobCompleted }, taskNotCompleted)
	if e != nil {
		return e
	}
	c, e := overlayConstraints("constraints",
		taskConstraints{MaxWallClockTime: durp(infiniteDuration), RetentionTime: durp(defaultRetention), MaxTaskRetryCount: j.Job.Constraints.MaxTaskRetryCount}, in.Constraints)
	if e != nil {
		return e
	}
	t.Task.Constraints = c
	s.touchTask(j, t, rc.now)
	setEntityHeaders(w, t.Task.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID+"/tasks/"+t.Task.ID)
	w.WriteHeader(http.StatusOK)
	return nil
}
