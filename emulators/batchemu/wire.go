package batchemu

import "encoding/json"

// Wire types: the JSON objects of the Batch REST API as the emulator sends
// and stores them. They are the emulator's own (it must not share code with
// the production client), and they double as the persisted state, so every
// field the service reports lives here. Objects the emulator only echoes
// (VM configuration, network configuration, user identity, ...) are kept as
// raw JSON.

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type envSetting struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type resourceFile struct {
	AutoStorageContainerName string          `json:"autoStorageContainerName,omitempty"`
	StorageContainerURL      string          `json:"storageContainerUrl,omitempty"`
	HTTPURL                  string          `json:"httpUrl,omitempty"`
	BlobPrefix               string          `json:"blobPrefix,omitempty"`
	FilePath                 string          `json:"filePath,omitempty"`
	FileMode                 string          `json:"fileMode,omitempty"`
	IdentityReference        json.RawMessage `json:"identityReference,omitempty"`
}

type outputFile struct {
	FilePattern   string                  `json:"filePattern"`
	Destination   outputFileDestination   `json:"destination"`
	UploadOptions outputFileUploadOptions `json:"uploadOptions"`
}

type outputFileDestination struct {
	Container *outputContainer `json:"container,omitempty"`
}

type outputContainer struct {
	ContainerURL      string          `json:"containerUrl"`
	Path              string          `json:"path,omitempty"`
	IdentityReference json.RawMessage `json:"identityReference,omitempty"`
	UploadHeaders     []nameValue     `json:"uploadHeaders,omitempty"`
}

type outputFileUploadOptions struct {
	UploadCondition string `json:"uploadCondition"`
}

type failureInfo struct {
	Category string      `json:"category"`
	Code     string      `json:"code,omitempty"`
	Message  string      `json:"message,omitempty"`
	Details  []nameValue `json:"details,omitempty"`
}

type errorInfo struct {
	Code    string      `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
	Values  []nameValue `json:"values,omitempty"`
}

// ---- pools ----

// taskCommand is what every kind of task runs: its command line, inputs,
// environment and identity. Tasks, job manager, job preparation and release
// tasks and start tasks embed it (in requests and in responses alike).
type taskCommand struct {
	CommandLine         string          `json:"commandLine"`
	ContainerSettings   json.RawMessage `json:"containerSettings,omitempty"`
	ResourceFiles       []resourceFile  `json:"resourceFiles,omitempty"`
	EnvironmentSettings []envSetting    `json:"environmentSettings,omitempty"`
	UserIdentity        json.RawMessage `json:"userIdentity,omitempty"`
}

type startTask struct {
	taskCommand
	MaxTaskRetryCount int  `json:"maxTaskRetryCount"`
	WaitForSuccess    bool `json:"waitForSuccess"`
}

type taskSchedulingPolicy struct {
	NodeFillType string `json:"nodeFillType"`
}

type autoScaleRun struct {
	Timestamp wireTime   `json:"timestamp"`
	Results   string     `json:"results,omitempty"`
	Error     *errorInfo `json:"error,omitempty"`
}

type cloudPool struct {
	ID                            string                `json:"id"`
	DisplayName                   string                `json:"displayName,omitempty"`
	URL                           string                `json:"url"`
	ETag                          string                `json:"eTag"`
	LastModified                  wireTime              `json:"lastModified"`
	CreationTime                  wireTime              `json:"creationTime"`
	State                         string                `json:"state"`
	StateTransitionTime           wireTime              `json:"stateTransitionTime"`
	AllocationState               string                `json:"allocationState"`
	AllocationStateTransitionTime wireTime              `json:"allocationStateTransitionTime"`
	VMSize                        string                `json:"vmSize"`
	CloudServiceConfiguration     json.RawMessage       `json:"cloudServiceConfiguration,omitempty"`
	VirtualMachineConfiguration   json.RawMessage       `json:"virtualMachineConfiguration,omitempty"`
	ResizeTimeout                 *isoDuration          `json:"resizeTimeout,omitempty"`
	ResizeErrors                  []errorInfo           `json:"resizeErrors,omitempty"`
	CurrentDedicatedNodes         int                   `json:"currentDedicatedNodes"`
	CurrentLowPriorityNodes       int                   `json:"currentLowPriorityNodes"`
	TargetDedicatedNodes          int                   `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes        int                   `json:"targetLowPriorityNodes"`
	EnableAutoScale               bool                  `json:"enableAutoScale"`
	AutoScaleFormula              string                `json:"autoScaleFormula,omitempty"`
	AutoScaleEvaluationInterval   *isoDuration          `json:"autoScaleEvaluationInterval,omitempty"`
	AutoScaleRun                  *autoScaleRun         `json:"autoScaleRun,omitempty"`
	EnableInterNodeCommunication  bool                  `json:"enableInterNodeCommunication"`
	NetworkConfiguration          json.RawMessage       `json:"networkConfiguration,omitempty"`
	StartTask                     *startTask            `json:"startTask,omitempty"`
	CertificateReferences         json.RawMessage       `json:"certificateReferences,omitempty"`
	ApplicationPackageReferences  json.RawMessage       `json:"applicationPackageReferences,omitempty"`
	TaskSlotsPerNode              int                   `json:"taskSlotsPerNode"`
	TaskSchedulingPolicy          *taskSchedulingPolicy `json:"taskSchedulingPolicy,omitempty"`
	UserAccounts                  json.RawMessage       `json:"userAccounts,omitempty"`
	Metadata                      []nameValue           `json:"metadata,omitempty"`
	MountConfiguration            json.RawMessage       `json:"mountConfiguration,omitempty"`
	TargetNodeCommunicationMode   string                `json:"targetNodeCommunicationMode,omitempty"`
	CurrentNodeCommunicationMode  string                `json:"currentNodeCommunicationMode,omitempty"`
}

// poolAddParameter is the body of POST /pools. Pointers tell "absent" from zero.
type poolAddParameter struct {
	ID                           string                `json:"id"`
	DisplayName                  string                `json:"displayName"`
	VMSize                       string                `json:"vmSize"`
	CloudServiceConfiguration    json.RawMessage       `json:"cloudServiceConfiguration"`
	VirtualMachineConfiguration  json.RawMessage       `json:"virtualMachineConfiguration"`
	ResizeTimeout                *isoDuration          `json:"resizeTimeout"`
	TargetDedicatedNodes         *int                  `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes       *int                  `json:"targetLowPriorityNodes"`
	EnableAutoScale              *bool                 `json:"enableAutoScale"`
	AutoScaleFormula             string                `json:"autoScaleFormula"`
	AutoScaleEvaluationInterval  *isoDuration          `json:"autoScaleEvaluationInterval"`
	EnableInterNodeCommunication bool                  `json:"enableInterNodeCommunication"`
	NetworkConfiguration         json.RawMessage       `json:"networkConfiguration"`
	StartTask                    *startTaskParameter   `json:"startTask"`
	CertificateReferences        json.RawMessage       `json:"certificateReferences"`
	ApplicationPackageReferences json.RawMessage       `json:"applicationPackageReferences"`
	TaskSlotsPerNode             *int                  `json:"taskSlotsPerNode"`
	MaxTasksPerNode              *int                  `json:"maxTasksPerNode"`
	TaskSchedulingPolicy         *taskSchedulingPolicy `json:"taskSchedulingPolicy"`
	UserAccounts                 json.RawMessage       `json:"userAccounts"`
	Metadata                     []nameValue           `json:"metadata"`
	MountConfiguration           json.RawMessage       `json:"mountConfiguration"`
	TargetNodeCommunicationMode  string                `json:"targetNodeCommunicationMode"`
}

type startTaskParameter struct {
	taskCommand
	MaxTaskRetryCount *int  `json:"maxTaskRetryCount"`
	WaitForSuccess    *bool `json:"waitForSuccess"`
}

type poolPatchParameter struct {
	StartTask                    *startTaskParameter `json:"startTask"`
	CertificateReferences        json.RawMessage     `json:"certificateReferences"`
	ApplicationPackageReferences json.RawMessage     `json:"applicationPackageReferences"`
	Metadata                     *[]nameValue        `json:"metadata"`
	TargetNodeCommunicationMode  string              `json:"targetNodeCommunicationMode"`
}

type poolResizeParameter struct {
	TargetDedicatedNodes   *int         `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes *int         `json:"targetLowPriorityNodes"`
	ResizeTimeout          *isoDuration `json:"resizeTimeout"`
	NodeDeallocationOption string       `json:"nodeDeallocationOption"`
}

type nodeRemoveParameter struct {
	NodeList               []string     `json:"nodeList"`
	ResizeTimeout          *isoDuration `json:"resizeTimeout"`
	NodeDeallocationOption string       `json:"nodeDeallocationOption"`
}

type poolEnableAutoScaleParameter struct {
	AutoScaleFormula            string       `json:"autoScaleFormula"`
	AutoScaleEvaluationInterval *isoDuration `json:"autoScaleEvaluationInterval"`
}

type poolEvaluateAutoScaleParameter struct {
	AutoScaleFormula string `json:"autoScaleFormula"`
}

// ---- nodes ----

// attemptOutcome is the part of every execution info (task, start task,
// job preparation and release task) that records how the last attempt
// ended and how often it was retried.
type attemptOutcome struct {
	EndTime       *wireTime    `json:"endTime,omitempty"`
	ExitCode      *int         `json:"exitCode,omitempty"`
	FailureInfo   *failureInfo `json:"failureInfo,omitempty"`
	RetryCount    int          `json:"retryCount"`
	LastRetryTime *wireTime    `json:"lastRetryTime,omitempty"`
	Result        string       `json:"result,omitempty"`
}

type startTaskInfo struct {
	State     string   `json:"state"`
	StartTime wireTime `json:"startTime"`
	attemptOutcome
}

type taskInformation struct {
	TaskURL   string `json:"taskUrl"`
	JobID     string `json:"jobId"`
	TaskID    string `json:"taskId"`
	TaskState string `json:"taskState"`
}

type nodeAgentInfo struct {
	Version        string   `json:"version"`
	LastUpdateTime wireTime `json:"lastUpdateTime"`
}

type computeNode struct {
	ID                    string            `json:"id"`
	URL                   string            `json:"url"`
	State                 string            `json:"state"`
	SchedulingState       string            `json:"schedulingState"`
	StateTransitionTime   wireTime          `json:"stateTransitionTime"`
	LastBootTime          *wireTime         `json:"lastBootTime,omitempty"`
	AllocationTime        wireTime          `json:"allocationTime"`
	IPAddress             string            `json:"ipAddress"`
	AffinityID            string            `json:"affinityId"`
	VMSize                string            `json:"vmSize"`
	TotalTasksRun         int               `json:"totalTasksRun"`
	RunningTasksCount     int               `json:"runningTasksCount"`
	RunningTaskSlotsCount int               `json:"runningTaskSlotsCount"`
	TotalTasksSucceeded   int               `json:"totalTasksSucceeded"`
	RecentTasks           []taskInformation `json:"recentTasks,omitempty"`
	StartTask             *startTask        `json:"startTask,omitempty"`
	StartTaskInfo         *startTaskInfo    `json:"startTaskInfo,omitempty"`
	IsDedicated           bool              `json:"isDedicated"`
	NodeAgentInfo         nodeAgentInfo     `json:"nodeAgentInfo"`
}

// ---- jobs ----

type jobConstraints struct {
	MaxWallClockTime  *isoDuration `json:"maxWallClockTime,omitempty"`
	MaxTaskRetryCount *int         `json:"maxTaskRetryCount,omitempty"`
}

type poolInformation struct {
	PoolID                string          `json:"poolId,omitempty"`
	AutoPoolSpecification json.RawMessage `json:"autoPoolSpecification,omitempty"`
}

type jobExecutionInfo struct {
	StartTime       wireTime     `json:"startTime"`
	EndTime         *wireTime    `json:"endTime,omitempty"`
	PoolID          string       `json:"poolId,omitempty"`
	SchedulingError *failureInfo `json:"schedulingError,omitempty"`
	TerminateReason string       `json:"terminateReason,omitempty"`
}

type cloudJob struct {
	ID                          string              `json:"id"`
	DisplayName                 string              `json:"displayName,omitempty"`
	UsesTaskDependencies        bool                `json:"usesTaskDependencies"`
	URL                         string              `json:"url"`
	ETag                        string              `json:"eTag"`
	LastModified                wireTime            `json:"lastModified"`
	CreationTime                wireTime            `json:"creationTime"`
	State                       string              `json:"state"`
	StateTransitionTime         wireTime            `json:"stateTransitionTime"`
	PreviousState               string              `json:"previousState,omitempty"`
	PreviousStateTransitionTime *wireTime           `json:"previousStateTransitionTime,omitempty"`
	Priority                    int                 `json:"priority"`
	MaxParallelTasks            int                 `json:"maxParallelTasks"`
	AllowTaskPreemption         bool                `json:"allowTaskPreemption"`
	Constraints                 jobConstraints      `json:"constraints"`
	CommonEnvironmentSettings   []envSetting        `json:"commonEnvironmentSettings,omitempty"`
	PoolInfo                    poolInformation     `json:"poolInfo"`
	JobManagerTask              *jobManagerTask     `json:"jobManagerTask,omitempty"`
	JobPreparationTask          *jobPreparationTask `json:"jobPreparationTask,omitempty"`
	JobReleaseTask              *jobReleaseTask     `json:"jobReleaseTask,omitempty"`
	OnAllTasksComplete          string              `json:"onAllTasksComplete"`
	OnTaskFailure               string              `json:"onTaskFailure"`
	NetworkConfiguration        json.RawMessage     `json:"networkConfiguration,omitempty"`
	Metadata                    []nameValue         `json:"metadata,omitempty"`
	ExecutionInfo               jobExecutionInfo    `json:"executionInfo"`
}

type jobAddParameter struct {
	ID                        string              `json:"id"`
	DisplayName               string              `json:"displayName"`
	Priority                  *int                `json:"priority"`
	MaxParallelTasks          *int                `json:"maxParallelTasks"`
	AllowTaskPreemption       bool                `json:"allowTaskPreemption"`
	Constraints               *jobConstraints     `json:"constraints"`
	JobManagerTask            *jobManagerTask     `json:"jobManagerTask"`
	JobPreparationTask        *jobPreparationTask `json:"jobPreparationTask"`
	JobReleaseTask            *jobReleaseTask     `json:"jobReleaseTask"`
	CommonEnvironmentSettings []envSetting        `json:"commonEnvironmentSettings"`
	PoolInfo                  *poolInformation    `json:"poolInfo"`
	OnAllTasksComplete        string              `json:"onAllTasksComplete"`
	OnTaskFailure             string              `json:"onTaskFailure"`
	Metadata                  []nameValue         `json:"metadata"`
	UsesTaskDependencies      bool                `json:"usesTaskDependencies"`
	NetworkConfiguration      json.RawMessage     `json:"networkConfiguration"`
}

// jobManagerTask is a job's manager task: a task added with the job that
// runs first and, by default, completes the job when it ends.
type jobManagerTask struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	taskCommand
	OutputFiles                  []outputFile     `json:"outputFiles,omitempty"`
	Constraints                  *taskConstraints `json:"constraints,omitempty"`
	RequiredSlots                *int             `json:"requiredSlots,omitempty"`
	KillJobOnCompletion          *bool            `json:"killJobOnCompletion,omitempty"`
	RunExclusive                 *bool            `json:"runExclusive,omitempty"`
	ApplicationPackageReferences json.RawMessage  `json:"applicationPackageReferences,omitempty"`
	AuthenticationTokenSettings  json.RawMessage  `json:"authenticationTokenSettings,omitempty"`
	AllowLowPriorityNode         *bool            `json:"allowLowPriorityNode,omitempty"`
}

type jobPreparationTask struct {
	ID string `json:"id,omitempty"`
	taskCommand
	Constraints                   *taskConstraints `json:"constraints,omitempty"`
	WaitForSuccess                *bool            `json:"waitForSuccess,omitempty"`
	RerunOnNodeRebootAfterSuccess *bool            `json:"rerunOnNodeRebootAfterSuccess,omitempty"`
}

type jobReleaseTask struct {
	ID string `json:"id,omitempty"`
	taskCommand
	MaxWallClockTime *isoDuration `json:"maxWallClockTime,omitempty"`
	RetentionTime    *isoDuration `json:"retentionTime,omitempty"`
}

// prepReleaseExecutionInfo is the per-node state of a job preparation or
// release task (jobpreparationandreleasetaskstatus).
type prepReleaseExecutionInfo struct {
	StartTime            wireTime `json:"startTime"`
	State                string   `json:"state"`
	TaskRootDirectory    string   `json:"taskRootDirectory,omitempty"`
	TaskRootDirectoryURL string   `json:"taskRootDirectoryUrl,omitempty"`
	attemptOutcome
}

type jobPatchParameter struct {
	Priority            *int             `json:"priority"`
	MaxParallelTasks    *int             `json:"maxParallelTasks"`
	AllowTaskPreemption *bool            `json:"allowTaskPreemption"`
	OnAllTasksComplete  string           `json:"onAllTasksComplete"`
	Constraints         *jobConstraints  `json:"constraints"`
	PoolInfo            *poolInformation `json:"poolInfo"`
	Metadata            *[]nameValue     `json:"metadata"`
}

type jobTerminateParameter struct {
	TerminateReason string `json:"terminateReason"`
}

// ---- tasks ----

type taskConstraints struct {
	MaxWallClockTime  *isoDuration `json:"maxWallClockTime,omitempty"`
	RetentionTime     *isoDuration `json:"retentionTime,omitempty"`
	MaxTaskRetryCount *int         `json:"maxTaskRetryCount,omitempty"`
}

type taskExecutionInfo struct {
	StartTime       *wireTime `json:"startTime,omitempty"`
	RequeueCount    int       `json:"requeueCount"`
	LastRequeueTime *wireTime `json:"lastRequeueTime,omitempty"`
	attemptOutcome
}

type nodeInfo struct {
	AffinityID           string `json:"affinityId,omitempty"`
	NodeURL              string `json:"nodeUrl,omitempty"`
	PoolID               string `json:"poolId,omitempty"`
	NodeID               string `json:"nodeId,omitempty"`
	TaskRootDirectory    string `json:"taskRootDirectory,omitempty"`
	TaskRootDirectoryURL string `json:"taskRootDirectoryUrl,omitempty"`
}

type cloudTask struct {
	ID                          string          `json:"id"`
	DisplayName                 string          `json:"displayName,omitempty"`
	URL                         string          `json:"url"`
	ETag                        string          `json:"eTag"`
	LastModified                wireTime        `json:"lastModified"`
	CreationTime                wireTime        `json:"creationTime"`
	ExitConditions              *exitConditions `json:"exitConditions,omitempty"`
	State                       string          `json:"state"`
	StateTransitionTime         wireTime        `json:"stateTransitionTime"`
	PreviousState               string          `json:"previousState,omitempty"`
	PreviousStateTransitionTime *wireTime       `json:"previousStateTransitionTime,omitempty"`
	taskCommand
	OutputFiles                  []outputFile         `json:"outputFiles,omitempty"`
	AffinityInfo                 *affinityInformation `json:"affinityInfo,omitempty"`
	Constraints                  taskConstraints      `json:"constraints"`
	RequiredSlots                int                  `json:"requiredSlots"`
	ExecutionInfo                taskExecutionInfo    `json:"executionInfo"`
	NodeInfo                     *nodeInfo            `json:"nodeInfo,omitempty"`
	DependsOn                    *taskDependencies    `json:"dependsOn,omitempty"`
	ApplicationPackageReferences json.RawMessage      `json:"applicationPackageReferences,omitempty"`
}

type taskAddParameter struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	taskCommand
	ExitConditions               *exitConditions      `json:"exitConditions"`
	OutputFiles                  []outputFile         `json:"outputFiles"`
	AffinityInfo                 *affinityInformation `json:"affinityInfo"`
	Constraints                  *taskConstraints     `json:"constraints"`
	RequiredSlots                *int                 `json:"requiredSlots"`
	MultiInstanceSettings        json.RawMessage      `json:"multiInstanceSettings"`
	DependsOn                    *taskDependencies    `json:"dependsOn"`
	ApplicationPackageReferences json.RawMessage      `json:"applicationPackageReferences"`
	AuthenticationTokenSettings  json.RawMessage      `json:"authenticationTokenSettings"`
}

type exitConditions struct {
	ExitCodes          []exitCodeMapping      `json:"exitCodes,omitempty"`
	ExitCodeRanges     []exitCodeRangeMapping `json:"exitCodeRanges,omitempty"`
	PreProcessingError *exitOptions           `json:"preProcessingError,omitempty"`
	FileUploadError    *exitOptions           `json:"fileUploadError,omitempty"`
	Default            *exitOptions           `json:"default,omitempty"`
}

type exitCodeMapping struct {
	Code        int         `json:"code"`
	ExitOptions exitOptions `json:"exitOptions"`
}

type exitCodeRangeMapping struct {
	Start       int         `json:"start"`
	End         int         `json:"end"`
	ExitOptions exitOptions `json:"exitOptions"`
}

type exitOptions struct {
	JobAction        string `json:"jobAction,omitempty"`
	DependencyAction string `json:"dependencyAction,omitempty"`
}

type affinityInformation struct {
	AffinityID string `json:"affinityId"`
}

type taskDependencies struct {
	TaskIDs      []string      `json:"taskIds,omitempty"`
	TaskIDRanges []taskIDRange `json:"taskIdRanges,omitempty"`
}

type taskIDRange struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

type taskAddResult struct {
	Status       string     `json:"status"`
	TaskID       string     `json:"taskId"`
	ETag         string     `json:"eTag,omitempty"`
	LastModified *wireTime  `json:"lastModified,omitempty"`
	Location     string     `json:"location,omitempty"`
	Error        *errorBody `json:"error,omitempty"`
}

type taskCounts struct {
	Active    int `json:"active"`
	Running   int `json:"running"`
	Completed int `json:"completed"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

type fileProperties struct {
	CreationTime  *wireTime `json:"creationTime,omitempty"`
	LastModified  wireTime  `json:"lastModified"`
	ContentLength int64     `json:"contentLength"`
	ContentType   string    `json:"contentType,omitempty"`
	FileMode      string    `json:"fileMode,omitempty"`
}

type nodeFile struct {
	Name        string          `json:"name"`
	URL         string          `json:"url"`
	IsDirectory bool            `json:"isDirectory"`
	Properties  *fileProperties `json:"properties,omitempty"`
}
