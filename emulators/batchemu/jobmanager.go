package batchemu

import (
	"net/http"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// validateJobManager checks a job manager task's own fields; the task
// fields are checked by buildTask when the job is added.
func validateJobManager(jm *wire.JobManagerTask) *wireerr.Error {
	if jm == nil {
		return nil
	}
	if jm.ID == "" {
		return wireerr.MissingProperty("jobManagerTask.id")
	}
	for name, raw := range map[string][]byte{"containerSettings": jm.ContainerSettings,
		"applicationPackageReferences": jm.ApplicationPackageReferences, "authenticationTokenSettings": jm.AuthenticationTokenSettings} {
		if present(raw) {
			return wireerr.UnsupportedProperty("jobManagerTask." + name)
		}
	}
	if jm.KillJobOnCompletion == nil {
		jm.KillJobOnCompletion = boolp(true)
	}
	if jm.RunExclusive == nil {
		jm.RunExclusive = boolp(true)
	}
	if jm.AllowLowPriorityNode == nil {
		jm.AllowLowPriorityNode = boolp(true)
	}
	return nil
}

// managerTaskParameter is the TaskAddParameter of the job manager task jm.
func managerTaskParameter(jm *wire.JobManagerTask) *wire.TaskAddParameter {
	return &wire.TaskAddParameter{
		ID: jm.ID, DisplayName: jm.DisplayName, TaskCommand: jm.TaskCommand,
		OutputFiles: jm.OutputFiles, Constraints: jm.Constraints, RequiredSlots: jm.RequiredSlots,
	}
}

// prefixProperty qualifies the PropertyName of a validation error.
func prefixProperty(e *wireerr.Error, prefix string) *wireerr.Error {
	if e.Status != http.StatusBadRequest {
		return e
	}
	for i := range e.Values {
		if e.Values[i].Key == "PropertyName" {
			e.Values[i].Value = prefix + e.Values[i].Value
		}
	}
	return e
}

// taskSlots is how many slots t occupies on a node of p: all of them for an
// exclusive job manager task.
func taskSlots(j *store.Job, t *store.Task, p *store.Pool) int {
	if jm := j.Job.JobManagerTask; t.JobManager && jm != nil && jm.RunExclusive != nil && *jm.RunExclusive {
		return p.Pool.TaskSlotsPerNode
	}
	return t.Task.RequiredSlots
}

// jobManagerFits keeps a job manager task off low-priority nodes when it
// does not allow them.
func jobManagerFits(j *store.Job, t *store.Task, n *store.Node) bool {
	jm := j.Job.JobManagerTask
	return !t.JobManager || jm == nil || jm.AllowLowPriorityNode == nil || *jm.AllowLowPriorityNode || n.Node.IsDedicated
}
