package batchemu

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

const (
	defaultRetention   = 7 * 24 * time.Hour
	maxTasksPerRequest = 100
)

// maxDependencyIDChars bounds the total length of dependsOn.taskIds.
const maxDependencyIDChars = 64000

// validateDependencies checks dependsOn against the job (nil: none).
func validateDependencies(d *wire.TaskDependencies, j *store.Job) (*wire.TaskDependencies, *wireerr.Error) {
	if d == nil || len(d.TaskIDs) == 0 && len(d.TaskIDRanges) == 0 {
		return nil, nil
	}
	if !j.Job.UsesTaskDependencies {
		return nil, wireerr.DependenciesNotOnJob()
	}
	total := 0
	for i, id := range d.TaskIDs {
		if !validID(id) {
			return nil, wireerr.InvalidProperty(fmt.Sprintf("dependsOn.taskIds[%d]", i), id, "not a valid task id")
		}
		total += len(id)
	}
	if total > maxDependencyIDChars {
		return nil, wireerr.DependencyListTooLong(maxDependencyIDChars)
	}
	for i, r := range d.TaskIDRanges {
		if r.Start < 0 || r.End < r.Start {
			return nil, wireerr.InvalidProperty(fmt.Sprintf("dependsOn.taskIdRanges[%d]", i), fmt.Sprintf("%d-%d", r.Start, r.End),
				"start must be 0 or more and not greater than end")
		}
	}
	return d, nil
}

// depsSatisfied reports whether every task t depends on completed with the
// dependency action "satisfy" (by default: succeeded; exitConditions can
// make a failure satisfy its dependents too). mu held.
func depsSatisfied(j *store.Job, t *store.Task) bool {
	d := t.Task.DependsOn
	if d == nil {
		return true
	}
	ok := func(id string) bool {
		dep, found := j.Tasks[store.Key(id)]
		return found && dep.Task.State == wire.TaskCompleted && exitOptionsOf(j, dep).DependencyAction == "satisfy"
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

func (s *Server) touchTask(j *store.Job, t *store.Task, now time.Time) {
	t.Task.ETag = s.st.NextETag()
	t.Task.LastModified = wire.At(now)
	s.jobsChanged = true
	s.noteTask(j, t)
}

// noteTask records a change to t that does not show on the wire (no new
// eTag) or comes with one (touchTask), so that the next journal record
// carries t; mu held.
func (s *Server) noteTask(j *store.Job, t *store.Task) {
	s.markDirty()
	if s.changedTasks != nil {
		s.changedTasks[t] = store.TaskRef{Job: store.Key(j.Job.ID), Task: store.Key(t.Task.ID)}
	}
}

func (s *Server) setTaskState(t *store.Task, to string, now time.Time) {
	if t.Task.State == to {
		return
	}
	t.Task.PreviousState = t.Task.State
	t.Task.PreviousStateTransitionTime = wire.AtPtr(t.Task.StateTransitionTime.Time)
	t.Task.State = to
	t.Task.StateTransitionTime = wire.At(now)
}

func renderTask(j *store.Job, t *store.Task, base string) wire.CloudTask {
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
func buildTask(in *wire.TaskAddParameter, j *store.Job, now time.Time) (*wire.CloudTask, *wireerr.Error) {
	if in.ID == "" {
		return nil, wireerr.MissingProperty("id")
	}
	if !validID(in.ID) {
		return nil, wireerr.InvalidProperty("id", in.ID, "ids are 1-64 letters, digits, hyphens and underscores")
	}
	if e := checkTaskIDAgainstPrep(j, in.ID); e != nil {
		return nil, e
	}
	if in.CommandLine == "" {
		return nil, wireerr.MissingProperty("commandLine")
	}
	for name, raw := range map[string][]byte{
		"containerSettings": in.ContainerSettings, "multiInstanceSettings": in.MultiInstanceSettings,
		"applicationPackageReferences": in.ApplicationPackageReferences, "authenticationTokenSettings": in.AuthenticationTokenSettings,
	} {
		if present(raw) {
			return nil, wireerr.UnsupportedProperty(name)
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
		return nil, wireerr.MissingProperty("affinityInfo.affinityId")
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
	c, e := overlayConstraints("constraints", taskDefaults(j.Job.Constraints.MaxTaskRetryCount), in.Constraints)
	if e != nil {
		return nil, e
	}
	slots := 1
	if in.RequiredSlots != nil {
		if *in.RequiredSlots < 1 || *in.RequiredSlots > maxTaskSlotsPerNode {
			return nil, wireerr.InvalidProperty("requiredSlots", strconv.Itoa(*in.RequiredSlots), "must be between 1 and 256")
		}
		slots = *in.RequiredSlots
	}
	return &wire.CloudTask{
		ID: in.ID, DisplayName: in.DisplayName, TaskCommand: in.TaskCommand, OutputFiles: in.OutputFiles,
		Constraints: c, RequiredSlots: slots, DependsOn: deps,
		ExitConditions: in.ExitConditions, AffinityInfo: in.AffinityInfo,
		State: wire.TaskActive, CreationTime: wire.At(now), StateTransitionTime: wire.At(now),
	}, nil
}

// activeJob looks up a job that accepts new tasks (active, or disabled:
// its tasks then wait for enable); mu held.
func (s *Server) activeJob(id string) (*store.Job, *wireerr.Error) {
	j, e := s.lookupJob(id)
	if e != nil {
		return nil, e
	}
	if !jobOpen(wire.JobState(j.Job.State)) {
		return nil, wireerr.JobState(wire.JobState(j.Job.State))
	}
	return j, nil
}

// jobNotDeleting reports whether a job in state st is not being deleted.
func jobNotDeleting(st wire.JobState) bool { return st != wire.JobDeleting }

// jobOpen reports whether a job in state st is neither ending nor ended.
func jobOpen(st wire.JobState) bool {
	switch st {
	case wire.JobActive, wire.JobDisabling, wire.JobDisabled, wire.JobEnabling:
		return true
	}
	return false
}

// insertTask stores a built task; mu held.
func (s *Server) insertTask(j *store.Job, ct *wire.CloudTask, now time.Time) (*store.Task, *wireerr.Error) {
	if _, ok := j.Tasks[store.Key(ct.ID)]; ok {
		return nil, wireerr.TaskExists()
	}
	s.st.Seq++
	t := &store.Task{Task: *ct, Order: s.st.Seq}
	s.touchTask(j, t, now)
	j.Tasks[store.Key(ct.ID)] = t
	return t, nil
}

func (s *Server) addTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in wire.TaskAddParameter
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

func (s *Server) addTaskCollection(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in struct {
		Value []wire.TaskAddParameter `json:"value"`
	}
	if _, e := readJSON(r, &in, false); e != nil {
		return e
	}
	if in.Value == nil {
		return wireerr.MissingProperty("value")
	}
	if len(in.Value) == 0 || len(in.Value) > maxTasksPerRequest {
		return wireerr.InvalidProperty("value", fmt.Sprintf("%d tasks", len(in.Value)),
			"a task collection must hold between 1 and 100 tasks")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, e := s.activeJob(r.PathValue("jobId"))
	if e != nil {
		return e
	}
	results := make([]wire.TaskAddResult, 0, len(in.Value))
	for i := range in.Value {
		p := &in.Value[i]
		ct, e := buildTask(p, j, rc.now)
		var t *store.Task
		if e == nil {
			t, e = s.insertTask(j, ct, rc.now)
		}
		if e != nil {
			body := e.Body(rc.requestID, rc.now)
			results = append(results, wire.TaskAddResult{Status: "clienterror", TaskID: p.ID, Error: &body})
			continue
		}
		results = append(results, wire.TaskAddResult{
			Status: "success", TaskID: t.Task.ID, ETag: t.Task.ETag, LastModified: wire.AtPtr(rc.now),
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

func (s *Server) lookupTask(jobID, taskID string) (*store.Job, *store.Task, *wireerr.Error) {
	j, e := s.lookupJob(jobID)
	if e != nil {
		return nil, nil, e
	}
	t, ok := j.Tasks[store.Key(taskID)]
	if !ok {
		return nil, nil, wireerr.TaskNotFound()
	}
	return j, t, nil
}

// taskForUpdate returns the task named in the request path, and its job,
// once jobAllowed accepts the job's state (otherwise the service's error
// for that state), check (when not nil) accepts the task and the request's
// preconditions hold for the task; mu must be held.
func (s *Server) taskForUpdate(r *http.Request, jobAllowed func(wire.JobState) bool, check func(*store.Task) *wireerr.Error) (*store.Job, *store.Task, *wireerr.Error) {
	j, t, e := s.lookupTask(r.PathValue("jobId"), r.PathValue("taskId"))
	if e != nil {
		return nil, nil, e
	}
	if st := wire.JobState(j.Job.State); !jobAllowed(st) {
		return nil, nil, wireerr.JobState(st)
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
func taskNotCompleted(t *store.Task) *wireerr.Error {
	if t.Task.State == wire.TaskCompleted {
		return wireerr.TaskCompleted()
	}
	return nil
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	return getEntity(s, w, r, rc, "tasks", func() (wire.CloudTask, *wireerr.Error) {
		j, t, e := s.lookupTask(r.PathValue("jobId"), r.PathValue("taskId"))
		if e != nil {
			return wire.CloudTask{}, e
		}
		return renderTask(j, t, rc.base), nil
	})
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
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
	return writeLazyList(w, r, rc, items, &s.mu, schemaOf(wire.CloudTask{}), "tasks")
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, jobNotDeleting, nil)
	if e != nil {
		return e
	}
	if t.Task.State == wire.TaskRunning {
		s.killTask(j, t)
	}
	delete(j.Tasks, store.Key(t.Task.ID))
	if s.changedTasks != nil { // persisting: the next journal record drops it
		s.deletedTasks = append(s.deletedTasks, store.TaskRef{Job: store.Key(j.Job.ID), Task: store.Key(t.Task.ID)})
	}
	s.jobsChanged = true
	s.removeTaskDir(j, t)
	s.markDirty()
	s.wake()
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) terminateTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
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
func (s *Server) reactivateTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, jobOpen, func(t *store.Task) *wireerr.Error {
		if t.Task.State != wire.TaskCompleted {
			return wireerr.TaskNotCompleted()
		}
		if t.Task.ExecutionInfo.Result == "success" {
			return wireerr.TaskSucceeded()
		}
		return nil
	})
	if e != nil {
		return e
	}
	s.setTaskState(t, wire.TaskActive, rc.now)
	t.Task.ExecutionInfo = wire.TaskExecutionInfo{RequeueCount: t.Task.ExecutionInfo.RequeueCount, LastRequeueTime: t.Task.ExecutionInfo.LastRequeueTime}
	s.touchTask(j, t, rc.now)
	s.wake()
	setEntityHeaders(w, t.Task.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID+"/tasks/"+t.Task.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
	var in struct {
		Constraints *wire.TaskConstraints `json:"constraints"`
	}
	if _, e := readJSON(r, &in, true); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.taskForUpdate(r, func(st wire.JobState) bool { return st != wire.JobDeleting && st != wire.JobCompleted }, taskNotCompleted)
	if e != nil {
		return e
	}
	c, e := overlayConstraints("constraints", taskDefaults(j.Job.Constraints.MaxTaskRetryCount), in.Constraints)
	if e != nil {
		return e
	}
	t.Task.Constraints = c
	s.touchTask(j, t, rc.now)
	setEntityHeaders(w, t.Task.ETag, rc.now, rc.base+"/jobs/"+j.Job.ID+"/tasks/"+t.Task.ID)
	w.WriteHeader(http.StatusOK)
	return nil
}
