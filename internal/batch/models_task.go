package batch

import "time"

// TaskConstraints limit a task's run time, retention and retries.
type TaskConstraints struct {
	MaxWallClockTime  *Duration `json:"maxWallClockTime,omitempty"`
	RetentionTime     *Duration `json:"retentionTime,omitempty"`
	MaxTaskRetryCount *int32    `json:"maxTaskRetryCount,omitempty"`
}

// TaskAddParameter is one task to add to a job.
type TaskAddParameter struct {
	ID                  string                 `json:"id"`
	DisplayName         string                 `json:"displayName,omitempty"`
	CommandLine         string                 `json:"commandLine"`
	ResourceFiles       []ResourceFile         `json:"resourceFiles,omitempty"`
	OutputFiles         []OutputFile           `json:"outputFiles,omitempty"`
	EnvironmentSettings []EnvironmentSetting   `json:"environmentSettings,omitempty"`
	Constraints         *TaskConstraints       `json:"constraints,omitempty"`
	UserIdentity        *UserIdentity          `json:"userIdentity,omitempty"`
	RequiredSlots       int32                  `json:"requiredSlots,omitempty"`
	ContainerSettings   *TaskContainerSettings `json:"containerSettings,omitempty"`
}

// Task is a task as the service reports it (CloudTask).
type Task struct {
	ID                          string                 `json:"id,omitempty"`
	DisplayName                 string                 `json:"displayName,omitempty"`
	URL                         string                 `json:"url,omitempty"`
	ETag                        string                 `json:"eTag,omitempty"`
	LastModified                time.Time              `json:"lastModified,omitzero"`
	CreationTime                time.Time              `json:"creationTime,omitzero"`
	State                       TaskState              `json:"state,omitempty"`
	StateTransitionTime         time.Time              `json:"stateTransitionTime,omitzero"`
	PreviousState               TaskState              `json:"previousState,omitempty"`
	PreviousStateTransitionTime time.Time              `json:"previousStateTransitionTime,omitzero"`
	CommandLine                 string                 `json:"commandLine,omitempty"`
	ResourceFiles               []ResourceFile         `json:"resourceFiles,omitempty"`
	OutputFiles                 []OutputFile           `json:"outputFiles,omitempty"`
	EnvironmentSettings         []EnvironmentSetting   `json:"environmentSettings,omitempty"`
	Constraints                 *TaskConstraints       `json:"constraints,omitempty"`
	UserIdentity                *UserIdentity          `json:"userIdentity,omitempty"`
	RequiredSlots               int32                  `json:"requiredSlots,omitempty"`
	ContainerSettings           *TaskContainerSettings `json:"containerSettings,omitempty"`
	ExecutionInfo               *TaskExecutionInfo     `json:"executionInfo,omitempty"`
	NodeInfo                    *TaskNodeInfo          `json:"nodeInfo,omitempty"`
}

// TaskExecutionInfo is a task's run history. ExitCode is nil until the
// process has exited, and stays nil when the task failed before running.
type TaskExecutionInfo struct {
	StartTime       time.Time           `json:"startTime,omitzero"`
	EndTime         time.Time           `json:"endTime,omitzero"`
	ExitCode        *int32              `json:"exitCode,omitempty"`
	Result          TaskExecutionResult `json:"result,omitempty"`
	FailureInfo     *FailureInfo        `json:"failureInfo,omitempty"`
	RetryCount      int32               `json:"retryCount"`
	LastRetryTime   time.Time           `json:"lastRetryTime,omitzero"`
	RequeueCount    int32               `json:"requeueCount"`
	LastRequeueTime time.Time           `json:"lastRequeueTime,omitzero"`
}

// TaskNodeInfo says where a task ran.
type TaskNodeInfo struct {
	AffinityID           string `json:"affinityId,omitempty"`
	NodeURL              string `json:"nodeUrl,omitempty"`
	PoolID               string `json:"poolId,omitempty"`
	NodeID               string `json:"nodeId,omitempty"`
	TaskRootDirectory    string `json:"taskRootDirectory,omitempty"`
	TaskRootDirectoryURL string `json:"taskRootDirectoryUrl,omitempty"`
}

// TaskAddResult is the per-task outcome of an add-collection call.
type TaskAddResult struct {
	Status       TaskAddStatus `json:"status"`
	TaskID       string        `json:"taskId"`
	ETag         string        `json:"eTag,omitempty"`
	LastModified time.Time     `json:"lastModified,omitzero"`
	Location     string        `json:"location,omitempty"`
	Error        *Error        `json:"error,omitempty"`
}

// TaskAddCollectionResult is the response of an add-collection call.
// Results may come back in a different order from the request.
type TaskAddCollectionResult struct {
	Value []TaskAddResult `json:"value"`
}
