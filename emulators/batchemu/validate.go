package batchemu

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/taskrun"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// normEnum lower-cases an enum value and checks it against allowed values
// (the service compares enum values case-insensitively). "" passes as "".
func normEnum(prop, v string, allowed ...string) (string, *wireerr.Error) {
	if v == "" {
		return "", nil
	}
	lv := strings.ToLower(v)
	for _, a := range allowed {
		if lv == a {
			return lv, nil
		}
	}
	return "", wireerr.InvalidProperty(prop, v, "allowed values are "+strings.Join(allowed, ", "))
}

// deallocationOption checks what happens to the running tasks of nodes that
// leave (resize, remove, reboot, reimage): requeue (the default), terminate,
// taskcompletion or retaineddata.
func deallocationOption(prop, v string) (string, *wireerr.Error) {
	opt, e := normEnum(prop, v, "requeue", "terminate", "taskcompletion", "retaineddata")
	if e != nil || opt != "" {
		return opt, e
	}
	return "requeue", nil
}

func validateResourceFiles(prop string, rfs []wire.ResourceFile) *wireerr.Error {
	for i, rf := range rfs {
		p := fmt.Sprintf("%s[%d]", prop, i)
		if present(rf.IdentityReference) {
			return wireerr.UnsupportedProperty(p + ".identityReference")
		}
		if err := taskrun.ResourceFile(rf).Validate(); err != nil {
			return wireerr.InvalidPropertyReason(p, err.Error())
		}
	}
	return nil
}

func validateOutputFiles(files []wire.OutputFile) *wireerr.Error {
	for i := range files {
		f := &files[i]
		p := fmt.Sprintf("outputFiles[%d]", i)
		if f.FilePattern == "" {
			return wireerr.MissingProperty(p + ".filePattern")
		}
		if f.Destination.Container == nil {
			return wireerr.MissingProperty(p + ".destination.container")
		}
		if f.Destination.Container.ContainerURL == "" {
			return wireerr.MissingProperty(p + ".destination.container.containerUrl")
		}
		if present(f.Destination.Container.IdentityReference) {
			return wireerr.UnsupportedProperty(p + ".destination.container.identityReference")
		}
		if f.UploadOptions.UploadCondition == "" {
			return wireerr.MissingProperty(p + ".uploadOptions.uploadCondition")
		}
		c, e := normEnum(p+".uploadOptions.uploadCondition", f.UploadOptions.UploadCondition, "tasksuccess", "taskfailure", "taskcompletion")
		if e != nil {
			return e
		}
		f.UploadOptions.UploadCondition = c
	}
	// The executor's own checks (pattern syntax, absolute http(s) container
	// URL, header names) answer at add time, as the service does, instead
	// of failing the task after it ran.
	for i, of := range taskrun.OutputFiles(files) {
		if err := of.Validate(); err != nil {
			return wireerr.InvalidPropertyReason(fmt.Sprintf("outputFiles[%d]", i), err.Error())
		}
	}
	return nil
}

// checkCommand checks the command of a start, job preparation or job
// release task (prop names it, "startTask"): the command line is required
// and containers are not supported.
func checkCommand(prop, commandLine string, containerSettings json.RawMessage) *wireerr.Error {
	if commandLine == "" {
		return wireerr.MissingProperty(prop + ".commandLine")
	}
	if present(containerSettings) {
		return wireerr.UnsupportedProperty(prop + ".containerSettings")
	}
	return nil
}

// checkTaskInputs checks the resource files and environment settings of a
// start, job preparation or job release task (prop names it).
func checkTaskInputs(prop string, rfs []wire.ResourceFile, env []wire.EnvSetting) *wireerr.Error {
	if e := validateResourceFiles(prop+".resourceFiles", rfs); e != nil {
		return e
	}
	return validateEnv(prop+".environmentSettings", env)
}

// taskDefaults are the constraints of a task that sets none: no wall clock
// limit, the default retention and the job's retry count (jobRetries, 0
// when nil).
func taskDefaults(jobRetries *int) wire.TaskConstraints {
	retries := 0
	if jobRetries != nil {
		retries = *jobRetries
	}
	return wire.TaskConstraints{MaxWallClockTime: wire.DurationPtr(wire.InfiniteDuration), RetentionTime: wire.DurationPtr(defaultRetention), MaxTaskRetryCount: &retries}
}

// overlayConstraints validates the constraints given in in (when not nil)
// and returns defaults with them laid over, field by field; prop names in
// for errors.
func overlayConstraints(prop string, defaults wire.TaskConstraints, in *wire.TaskConstraints) (wire.TaskConstraints, *wireerr.Error) {
	c := defaults
	if in == nil {
		return c, nil
	}
	if e := validateRetryCount(prop+".maxTaskRetryCount", in.MaxTaskRetryCount); e != nil {
		return wire.TaskConstraints{}, e
	}
	if d := in.MaxWallClockTime; d != nil {
		if *d <= 0 {
			return wire.TaskConstraints{}, wireerr.InvalidProperty(prop+".maxWallClockTime", wire.FormatDuration(time.Duration(*d)), "must be positive")
		}
		c.MaxWallClockTime = d
	}
	if d := in.RetentionTime; d != nil {
		if *d < 0 {
			return wire.TaskConstraints{}, wireerr.InvalidProperty(prop+".retentionTime", wire.FormatDuration(time.Duration(*d)), "must not be negative")
		}
		c.RetentionTime = d
	}
	if in.MaxTaskRetryCount != nil {
		c.MaxTaskRetryCount = in.MaxTaskRetryCount
	}
	return c, nil
}

func validateEnv(prop string, env []wire.EnvSetting) *wireerr.Error {
	for i, e := range env {
		if e.Name == "" {
			return wireerr.MissingProperty(fmt.Sprintf("%s[%d].name", prop, i))
		}
	}
	return nil
}

func validateRetryCount(prop string, n *int) *wireerr.Error {
	if n != nil && *n < -1 {
		return wireerr.InvalidProperty(prop, strconv.Itoa(*n), "must be -1 (unlimited) or greater")
	}
	return nil
}

// present reports whether an optional JSON property was given a value:
// absent, null and an empty array all mean "not set", as the service treats
// them, so every unsupported-property check agrees.
func present(raw []byte) bool {
	v := strings.TrimSpace(string(raw))
	return v != "" && v != "null" && v != "[]"
}

// validID reports whether id is a valid Batch id: 1..64 characters from
// letters, digits, hyphens and underscores.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
