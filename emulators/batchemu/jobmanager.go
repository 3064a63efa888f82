package batchemu

import (
	"net/http"

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
