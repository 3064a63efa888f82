package wire

import (
	"encoding/json"
	"time"
)

type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type EnvSetting struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type ResourceFile struct {
	AutoStorageContainerName string          `json:"autoStorageContainerName,omitempty"`
	StorageContainerURL      string          `json:"storageContainerUrl,omitempty"`
	HTTPURL                  string          `json:"httpUrl,omitempty"`
	BlobPrefix               string          `json:"blobPrefix,omitempty"`
	FilePath                 string          `json:"filePath,omitempty"`
	FileMode                 string          `json:"fileMode,omitempty"`
	IdentityReference        json.RawMessage `json:"identityReference,omitempty"`
}

type OutputFile struct {
	FilePattern   string                  `json:"filePattern"`
	Destination   OutputFileDestination   `json:"destination"`
	UploadOptions OutputFileUploadOptions `json:"uploadOptions"`
}

type OutputFileDestination struct {
	Container *OutputContainer `json:"container,omitempty"`
}

type OutputContainer struct {
	ContainerURL      string          `json:"containerUrl"`
	Path              string          `json:"path,omitempty"`
	IdentityReference json.RawMessage `json:"identityReference,omitempty"`
	UploadHeaders     []NameValue     `json:"uploadHeaders,omitempty"`
}

type OutputFileUploadOptions struct {
	UploadCondition string `json:"uploadCondition"`
}

type FailureInfo struct {
	Category string      `json:"category"`
	Code     string      `json:"code,omitempty"`
	Message  string      `json:"message,omitempty"`
	Details  []NameValue `json:"details,omitempty"`
}

type ErrorInfo struct {
	Code    string      `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
	Values  []NameValue `json:"values,omitempty"`
}

// ---- pools ----

// TaskCommand is what every kind of task runs: its command line, inputs,
// environment and identity. Tasks, job manager, job preparation and release
// tasks and start tasks embed it (in requests and in responses alike).
type TaskCommand struct {
	CommandLine         string          `json:"commandLine"`
	ContainerSettings   json.RawMessage `json:"containerSettings,omitempty"`
	ResourceFiles       []ResourceFile  `json:"resourceFiles,omitempty"`
	EnvironmentSettings []EnvSetting    `json:"environmentSettings,omitempty"`
	UserIdentity        json.RawMessage `json:"userIdentity,omitempty"`
}

type StartTask struct {
	TaskCommand
	MaxTaskRetryCount int  `json:"maxTaskRetryCount"`
	WaitForSuccess    bool `json:"waitForSuccess"`
}

type TaskSchedulingPolicy struct {
	NodeFillType string `json:"nodeFillType"`
}

type AutoScaleRun struct {
	Timestamp Time       `json:"timestamp"`
	Results   string     `json:"results,omitempty"`
	Error     *ErrorInfo `json:"error,omitempty"`
}

type CloudPool struct {
	ID                            string                `json:"id"`
	DisplayName                   string                `json:"displayName,omitempty"`
	URL                           string                `json:"url"`
	ETag                          string                `json:"eTag"`
	LastModified                  Time                  `json:"lastModified"`
	CreationTime                  Time                  `json:"creationTime"`
	State                         string                `json:"state"`
	StateTransitionTime           Time                  `json:"stateTransitionTime"`
	AllocationState               string                `json:"allocationState"`
	AllocationStateTransitionTime Time                  `json:"allocationStateTransitionTime"`
	VMSize                        string                `json:"vmSize"`
	CloudServiceConfiguration     json.RawMessage       `json:"cloudServiceConfiguration,omitempty"`
	VirtualMachineConfiguration   json.RawMessage       `json:"virtualMachineConfiguration,omitempty"`
	ResizeTimeout                 *Duration             `json:"resizeTimeout,omitempty"`
	ResizeErrors                  []ErrorInfo           `json:"resizeErrors,omitempty"`
	CurrentDedicatedNodes         int                   `json:"currentDedicatedNodes"`
	CurrentLowPriorityNodes       int                   `json:"currentLowPriorityNodes"`
	TargetDedicatedNodes          int                   `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes        int                   `json:"targetLowPriorityNodes"`
	EnableAutoScale               bool                  `json:"enableAutoScale"`
	AutoScaleFormula              string                `json:"autoScaleFormula,omitempty"`
	AutoScaleEvaluationInterval   *Duration             `json:"autoScaleEvaluationInterval,omitempty"`
	AutoScaleRun                  *AutoScaleRun         `json:"autoScaleRun,omitempty"`
	EnableInterNodeCommunication  bool                  `json:"enableInterNodeCommunication"`
	NetworkConfiguration          json.RawMessage       `json:"networkConfiguration,omitempty"`
	StartTask                     *StartTask            `json:"startTask,omitempty"`
	CertificateReferences         json.RawMessage       `json:"certificateReferences,omitempty"`
	ApplicationPackageReferences  json.RawMessage       `json:"applicationPackageReferences,omitempty"`
	TaskSlotsPerNode              int                   `json:"taskSlotsPerNode"`
	TaskSchedulingPolicy          *TaskSchedulingPolicy `json:"taskSchedulingPolicy,omitempty"`
	UserAccounts                  json.RawMessage       `json:"userAccounts,omitempty"`
	Metadata                      []NameValue           `json:"metadata,omitempty"`
	MountConfiguration            json.RawMessage       `json:"mountConfiguration,omitempty"`
	TargetNodeCommunicationMode   string                `json:"targetNodeCommunicationMode,omitempty"`
	CurrentNodeCommunicationMode  string                `json:"currentNodeCommunicationMode,omitempty"`
}

// PoolAddParameter is the body of POST /pools. Pointers tell "absent" from zero.
type PoolAddParameter struct {
	ID                           string                `json:"id"`
	DisplayName                  string                `json:"displayName"`
	VMSize                       string                `json:"vmSize"`
	CloudServiceConfiguration    json.RawMessage       `json:"cloudServiceConfiguration"`
	VirtualMachineConfiguration  json.RawMessage       `json:"virtualMachineConfiguration"`
	ResizeTimeout                *Duration             `json:"resizeTimeout"`
	TargetDedicatedNodes         *int                  `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes       *int                  `json:"targetLowPriorityNodes"`
	EnableAutoScale              *bool                 `json:"enableAutoScale"`
	AutoScaleFormula             string                `json:"autoScaleFormula"`
	AutoScaleEvaluationInterval  *Duration             `json:"autoScaleEvaluationInterval"`
	EnableInterNodeCommunication bool                  `json:"enableInterNodeCommunication"`
	NetworkConfiguration         json.RawMessage       `json:"networkConfiguration"`
	StartTask                    *StartTaskParameter   `json:"startTask"`
	CertificateReferences        json.RawMessage       `json:"certificateReferences"`
	ApplicationPackageReferences json.RawMessage       `json:"applicationPackageReferences"`
	TaskSlotsPerNode             *int                  `json:"taskSlotsPerNode"`
	MaxTasksPerNode              *int                  `json:"maxTasksPerNode"`
	TaskSchedulingPolicy         *TaskSchedulingPolicy `json:"taskSchedulingPolicy"`
	UserAccounts                 json.RawMessage       `json:"userAccounts"`
	Metadata                     []NameValue           `json:"metadata"`
	MountConfiguration           json.RawMessage       `json:"mountConfiguration"`
	TargetNodeCommunicationMode  string                `json:"targetNodeCommunicationMode"`
}

type StartTaskParameter struct {
	TaskCommand
	MaxTaskRetryCount *int  `json:"maxTaskRetryCount"`
	WaitForSuccess    *bool `json:"waitForSuccess"`
}

type PoolPatchParameter struct {
	StartTask                    *StartTaskParameter `json:"startTask"`
	CertificateReferences        json.RawMessage     `json:"certificateReferences"`
	ApplicationPackageReferences json.RawMessage     `json:"applicationPackageReferences"`
	Metadata                     *[]NameValue        `json:"metadata"`
	TargetNodeCommunicationMode  string              `json:"targetNodeCommunicationMode"`
}

type PoolResizeParameter struct {
	TargetDedicatedNodes   *int      `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes *int      `json:"targetLowPriorityNodes"`
	ResizeTimeout          *Duration `json:"resizeTimeout"`
	NodeDeallocationOption string    `json:"nodeDeallocationOption"`
}

type NodeRemoveParameter struct {
	NodeList               []string  `json:"nodeList"`
	ResizeTimeout          *Duration `json:"resizeTimeout"`
	NodeDeallocationOption string    `json:"nodeDeallocationOption"`
}

type PoolEnableAutoScaleParameter struct {
	AutoScaleFormula            string    `json:"autoScaleFormula"`
	AutoScaleEvaluationInterval *Duration `json:"autoScaleEvaluationInterval"`
}

type PoolEvaluateAutoScaleParameter struct {
	AutoScaleFormula string `json:"autoScaleFormula"`
}

// ---- nodes ----

// AttemptOutcome is the part of every execution info (task, start task,
// job preparation and release task) that records how the last attempt
// ended and how often it was retried.
type AttemptOutcome struct {
	EndTime       *Time        `json:"endTime,omitempty"`
	ExitCode      *int         `json:"exitCode,omitempty"`
	FailureInfo   *FailureInfo `json:"failureInfo,omitempty"`
	RetryCount    int          `json:"retryCount"`
	LastRetryTime *Time        `json:"lastRetryTime,omitempty"`
	Result        string       `json:"result,omitempty"`
}

type StartTaskInfo struct {
	State     string `json:"state"`
	StartTime Time   `json:"startTime"`
	AttemptOutcome
}

type TaskInformation struct {
	TaskURL   string `json:"taskUrl"`
	JobID     string `json:"jobId"`
	TaskID    string `json:"taskId"`
	TaskState string `json:"taskState"`
}

type NodeAgentInfo struct {
	Version        string `json:"version"`
	LastUpdateTime Time   `json:"lastUpdateTime"`
}

type ComputeNode struct {
	ID                    string            `json:"id"`
	URL                   string            `json:"url"`
	State                 string            `json:"state"`
	SchedulingState       string            `json:"schedulingState"`
	StateTransitionTime   Time              `json:"stateTransitionTime"`
	LastBootTime          *Time             `json:"lastBootTime,omitempty"`
	AllocationTime        Time              `json:"allocationTime"`
	IPAddress             string            `json:"ipAddress"`
	AffinityID            string            `json:"affinityId"`
	VMSize                string            `json:"vmSize"`
	TotalTasksRun         int               `json:"totalTasksRun"`
	RunningTasksCount     int               `json:"runningTasksCount"`
	RunningTaskSlotsCount int               `json:"runningTaskSlotsCount"`
	TotalTasksSucceeded   int               `json:"totalTasksSucceeded"`
	RecentTasks           []TaskInformation `json:"recentTasks,omitempty"`
	StartTask             *StartTask        `json:"startTask,omitempty"`
	StartTaskInfo         *StartTaskInfo    `json:"startTaskInfo,omitempty"`
	IsDedicated           bool              `json:"isDedicated"`
	NodeAgentInfo         NodeAgentInfo     `json:"nodeAgentInfo"`
}

// ---- jobs ----

type JobConstraints struct {
	MaxWallClockTime  *Duration `json:"maxWallClockTime,omitempty"`
	MaxTaskRetryCount *int      `json:"maxTaskRetryCount,omitempty"`
}

type PoolInformation struct {
	PoolID                string          `json:"poolId,omitempty"`
	AutoPoolSpecification json.RawMessage `json:"autoPoolSpecification,omitempty"`
}

type JobExecutionInfo struct {
	StartTime       Time         `json:"startTime"`
	EndTime         *Time        `json:"endTime,omitempty"`
	PoolID          string       `json:"poolId,omitempty"`
	SchedulingError *FailureInfo `json:"schedulingError,omitempty"`
	TerminateReason string       `json:"terminateReason,omitempty"`
}

type CloudJob struct {
	ID                          string              `json:"id"`
	DisplayName                 string              `json:"displayName,omitempty"`
	UsesTaskDependencies        bool                `json:"usesTaskDependencies"`
	URL                         string              `json:"url"`
	ETag                        string              `json:"eTag"`
	LastModified                Time                `json:"lastModified"`
	CreationTime                Time                `json:"creationTime"`
	State                       string              `json:"state"`
	StateTransitionTime         Time                `json:"stateTransitionTime"`
	PreviousState               string              `json:"previousState,omitempty"`
	PreviousStateTransitionTime *Time               `json:"previousStateTransitionTime,omitempty"`
	Priority                    int                 `json:"priority"`
	MaxParallelTasks            int                 `json:"maxParallelTasks"`
	AllowTaskPreemption         bool                `json:"allowTaskPreemption"`
	Constraints                 JobConstraints      `json:"constraints"`
	CommonEnvironmentSettings   []EnvSetting        `json:"commonEnvironmentSettings,omitempty"`
	PoolInfo                    PoolInformation     `json:"poolInfo"`
	JobManagerTask              *JobManagerTask     `json:"jobManagerTask,omitempty"`
	JobPreparationTask          *JobPreparationTask `json:"jobPreparationTask,omitempty"`
	JobReleaseTask              *JobReleaseTask     `json:"jobReleaseTask,omitempty"`
	OnAllTasksComplete          string              `json:"onAllTasksComplete"`
	OnTaskFailure               string              `json:"onTaskFailure"`
	NetworkConfiguration        json.RawMessage     `json:"networkConfiguration,omitempty"`
	Metadata                    []NameValue         `json:"metadata,omitempty"`
	ExecutionInfo               JobExecutionInfo    `json:"executionInfo"`
}

type JobAddParameter struct {
	ID                        string              `json:"id"`
	DisplayName               string              `json:"displayName"`
	Priority                  *int                `json:"priority"`
	MaxParallelTasks          *int                `json:"maxParallelTasks"`
	AllowTaskPreemption       bool                `json:"allowTaskPreemption"`
	Constraints               *JobConstraints     `json:"constraints"`
	JobManagerTask            *JobManagerTask     `json:"jobManagerTask"`
	JobPreparationTask        *JobPreparationTask `json:"jobPreparationTask"`
	JobReleaseTask            *JobReleaseTask     `json:"jobReleaseTask"`
	CommonEnvironmentSettings []EnvSetting        `json:"commonEnvironmentSettings"`
	PoolInfo                  *PoolInformation    `json:"poolInfo"`
	OnAllTasksComplete        string              `json:"onAllTasksComplete"`
	OnTaskFailure             string              `json:"onTaskFailure"`
	Metadata                  []NameValue         `json:"metadata"`
	UsesTaskDependencies      bool                `json:"usesTaskDependencies"`
	NetworkConfiguration      json.RawMessage     `json:"networkConfiguration"`
}

// JobManagerTask is a job's manager task: a task added with the job that
// runs first and, by default, completes the job when it ends.
type JobManagerTask struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	TaskCommand
	OutputFiles                  []OutputFile     `json:"outputFiles,omitempty"`
	Constraints                  *TaskConstraints `json:"constraints,omitempty"`
	RequiredSlots                *int             `json:"requiredSlots,omitempty"`
	KillJobOnCompletion          *bool            `json:"killJobOnCompletion,omitempty"`
	RunExclusive                 *bool            `json:"runExclusive,omitempty"`
	ApplicationPackageReferences json.RawMessage  `json:"applicationPackageReferences,omitempty"`
	AuthenticationTokenSettings  json.RawMessage  `json:"authenticationTokenSettings,omitempty"`
	AllowLowPriorityNode         *bool            `json:"allowLowPriorityNode,omitempty"`
}

type JobPreparationTask struct {
	ID string `json:"id,omitempty"`
	TaskCommand
	Constraints                   *TaskConstraints `json:"constraints,omitempty"`
	WaitForSuccess                *bool            `json:"waitForSuccess,omitempty"`
	RerunOnNodeRebootAfterSuccess *bool            `json:"rerunOnNodeRebootAfterSuccess,omitempty"`
}

type JobReleaseTask struct {
	ID string `json:"id,omitempty"`
	TaskCommand
	MaxWallClockTime *Duration `json:"maxWallClockTime,omitempty"`
	RetentionTime    *Duration `json:"retentionTime,omitempty"`
}

// PrepReleaseExecutionInfo is the per-node state of a job preparation or
// release task (jobpreparationandreleasetaskstatus).
type PrepReleaseExecutionInfo struct {
	StartTime            Time   `json:"startTime"`
	State                string `json:"state"`
	TaskRootDirectory    string `json:"taskRootDirectory,omitempty"`
	TaskRootDirectoryURL string `json:"taskRootDirectoryUrl,omitempty"`
	AttemptOutcome
}

// PrepReleaseTaskStatus is one item of jobpreparationandreleasetaskstatus.
type PrepReleaseTaskStatus struct {
	PoolID  string                    `json:"poolId"`
	NodeID  string                    `json:"nodeId"`
	NodeURL string                    `json:"nodeUrl"`
	Prep    *PrepReleaseExecutionInfo `json:"jobPreparationTaskExecutionInfo,omitempty"`
	Release *PrepReleaseExecutionInfo `json:"jobReleaseTaskExecutionInfo,omitempty"`
}

type JobPatchParameter struct {
	Priority            *int             `json:"priority"`
	MaxParallelTasks    *int             `json:"maxParallelTasks"`
	AllowTaskPreemption *bool            `json:"allowTaskPreemption"`
	OnAllTasksComplete  string           `json:"onAllTasksComplete"`
	Constraints         *JobConstraints  `json:"constraints"`
	PoolInfo            *PoolInformation `json:"poolInfo"`
	Metadata            *[]NameValue     `json:"metadata"`
}

type JobTerminateParameter struct {
	TerminateReason string `json:"terminateReason"`
}

// ---- tasks ----

type TaskConstraints struct {
	MaxWallClockTime  *Duration `json:"maxWallClockTime,omitempty"`
	RetentionTime     *Duration `json:"retentionTime,omitempty"`
	MaxTaskRetryCount *int      `json:"maxTaskRetryCount,omitempty"`
}

type TaskExecutionInfo struct {
	StartTime       *Time `json:"startTime,omitempty"`
	RequeueCount    int   `json:"requeueCount"`
	LastRequeueTime *Time `json:"lastRequeueTime,omitempty"`
	AttemptOutcome
}

type NodeInfo struct {
	AffinityID           string `json:"affinityId,omitempty"`
	NodeURL              string `json:"nodeUrl,omitempty"`
	PoolID               string `json:"poolId,omitempty"`
	NodeID               string `json:"nodeId,omitempty"`
	TaskRootDirectory    string `json:"taskRootDirectory,omitempty"`
	TaskRootDirectoryURL string `json:"taskRootDirectoryUrl,omitempty"`
}

type CloudTask struct {
	ID                          string          `json:"id"`
	DisplayName                 string          `json:"displayName,omitempty"`
	URL                         string          `json:"url"`
	ETag                        string          `json:"eTag"`
	LastModified                Time            `json:"lastModified"`
	CreationTime                Time            `json:"creationTime"`
	ExitConditions              *ExitConditions `json:"exitConditions,omitempty"`
	State                       string          `json:"state"`
	StateTransitionTime         Time            `json:"stateTransitionTime"`
	PreviousState               string          `json:"previousState,omitempty"`
	PreviousStateTransitionTime *Time           `json:"previousStateTransitionTime,omitempty"`
	TaskCommand
	OutputFiles                  []OutputFile         `json:"outputFiles,omitempty"`
	AffinityInfo                 *AffinityInformation `json:"affinityInfo,omitempty"`
	Constraints                  TaskConstraints      `json:"constraints"`
	RequiredSlots                int                  `json:"requiredSlots"`
	ExecutionInfo                TaskExecutionInfo    `json:"executionInfo"`
	NodeInfo                     *NodeInfo            `json:"nodeInfo,omitempty"`
	DependsOn                    *TaskDependencies    `json:"dependsOn,omitempty"`
	ApplicationPackageReferences json.RawMessage      `json:"applicationPackageReferences,omitempty"`
}

type TaskAddParameter struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	TaskCommand
	ExitConditions               *ExitConditions      `json:"exitConditions"`
	OutputFiles                  []OutputFile         `json:"outputFiles"`
	AffinityInfo                 *AffinityInformation `json:"affinityInfo"`
	Constraints                  *TaskConstraints     `json:"constraints"`
	RequiredSlots                *int                 `json:"requiredSlots"`
	MultiInstanceSettings        json.RawMessage      `json:"multiInstanceSettings"`
	DependsOn                    *TaskDependencies    `json:"dependsOn"`
	ApplicationPackageReferences json.RawMessage      `json:"applicationPackageReferences"`
	AuthenticationTokenSettings  json.RawMessage      `json:"authenticationTokenSettings"`
}

type ExitConditions struct {
	ExitCodes          []ExitCodeMapping      `json:"exitCodes,omitempty"`
	ExitCodeRanges     []ExitCodeRangeMapping `json:"exitCodeRanges,omitempty"`
	PreProcessingError *ExitOptions           `json:"preProcessingError,omitempty"`
	FileUploadError    *ExitOptions           `json:"fileUploadError,omitempty"`
	Default            *ExitOptions           `json:"default,omitempty"`
}

type ExitCodeMapping struct {
	Code        int         `json:"code"`
	ExitOptions ExitOptions `json:"exitOptions"`
}

type ExitCodeRangeMapping struct {
	Start       int         `json:"start"`
	End         int         `json:"end"`
	ExitOptions ExitOptions `json:"exitOptions"`
}

type ExitOptions struct {
	JobAction        string `json:"jobAction,omitempty"`
	DependencyAction string `json:"dependencyAction,omitempty"`
}

type AffinityInformation struct {
	AffinityID string `json:"affinityId"`
}

type TaskDependencies struct {
	TaskIDs      []string      `json:"taskIds,omitempty"`
	TaskIDRanges []TaskIDRange `json:"taskIdRanges,omitempty"`
}

type TaskIDRange struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

type TaskAddResult struct {
	Status       string     `json:"status"`
	TaskID       string     `json:"taskId"`
	ETag         string     `json:"eTag,omitempty"`
	LastModified *Time      `json:"lastModified,omitempty"`
	Location     string     `json:"location,omitempty"`
	Error        *ErrorBody `json:"error,omitempty"`
}

type TaskCounts struct {
	Active    int `json:"active"`
	Running   int `json:"running"`
	Completed int `json:"completed"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

type FileProperties struct {
	CreationTime  *Time  `json:"creationTime,omitempty"`
	LastModified  Time   `json:"lastModified"`
	ContentLength int64  `json:"contentLength"`
	ContentType   string `json:"contentType,omitempty"`
	FileMode      string `json:"fileMode,omitempty"`
}

type NodeFile struct {
	Name        string          `json:"name"`
	URL         string          `json:"url"`
	IsDirectory bool            `json:"isDirectory"`
	Properties  *FileProperties `json:"properties,omitempty"`
}

// ErrorValue is one key/value detail of an error.
type ErrorValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ErrorBody is the JSON body of every Batch error response.
type ErrorBody struct {
	Metadata string       `json:"odata.metadata"`
	Code     string       `json:"code"`
	Message  ErrorMessage `json:"message"`
	Values   []ErrorValue `json:"values,omitempty"`
}

// ErrorMessage is an error's message in one language.
type ErrorMessage struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

// Version returns the job's eTag and last-modified time.
func (j CloudJob) Version() (string, time.Time) { return j.ETag, j.LastModified.Time }

// Version returns the pool's eTag and last-modified time.
func (p CloudPool) Version() (string, time.Time) { return p.ETag, p.LastModified.Time }

// Version returns the task's eTag and last-modified time.
func (t CloudTask) Version() (string, time.Time) { return t.ETag, t.LastModified.Time }
