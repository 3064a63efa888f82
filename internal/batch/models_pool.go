package batch

import "time"

// PoolAddParameter is the body of a create-pool request.
type PoolAddParameter struct {
	ID                          string                       `json:"id"`
	DisplayName                 string                       `json:"displayName,omitempty"`
	VMSize                      string                       `json:"vmSize"`
	VirtualMachineConfiguration *VirtualMachineConfiguration `json:"virtualMachineConfiguration,omitempty"`
	ResizeTimeout               *Duration                    `json:"resizeTimeout,omitempty"`
	TargetDedicatedNodes        *int32                       `json:"targetDedicatedNodes,omitempty"`
	TargetLowPriorityNodes      *int32                       `json:"targetLowPriorityNodes,omitempty"`
	EnableAutoScale             *bool                        `json:"enableAutoScale,omitempty"`
	AutoScaleFormula            string                       `json:"autoScaleFormula,omitempty"`
	AutoScaleEvaluationInterval *Duration                    `json:"autoScaleEvaluationInterval,omitempty"`
	StartTask                   *StartTask                   `json:"startTask,omitempty"`
	TaskSlotsPerNode            int32                        `json:"taskSlotsPerNode,omitempty"`
	TaskSchedulingPolicy        *TaskSchedulingPolicy        `json:"taskSchedulingPolicy,omitempty"`
	Metadata                    []MetadataItem               `json:"metadata,omitempty"`
}

// Pool is a pool as the service reports it (CloudPool).
type Pool struct {
	ID                            string                       `json:"id,omitempty"`
	DisplayName                   string                       `json:"displayName,omitempty"`
	URL                           string                       `json:"url,omitempty"`
	ETag                          string                       `json:"eTag,omitempty"`
	LastModified                  time.Time                    `json:"lastModified,omitzero"`
	CreationTime                  time.Time                    `json:"creationTime,omitzero"`
	State                         PoolState                    `json:"state,omitempty"`
	StateTransitionTime           time.Time                    `json:"stateTransitionTime,omitzero"`
	AllocationState               AllocationState              `json:"allocationState,omitempty"`
	AllocationStateTransitionTime time.Time                    `json:"allocationStateTransitionTime,omitzero"`
	VMSize                        string                       `json:"vmSize,omitempty"`
	VirtualMachineConfiguration   *VirtualMachineConfiguration `json:"virtualMachineConfiguration,omitempty"`
	ResizeTimeout                 *Duration                    `json:"resizeTimeout,omitempty"`
	ResizeErrors                  []ResizeError                `json:"resizeErrors,omitempty"`
	CurrentDedicatedNodes         int32                        `json:"currentDedicatedNodes"`
	CurrentLowPriorityNodes       int32                        `json:"currentLowPriorityNodes"`
	TargetDedicatedNodes          int32                        `json:"targetDedicatedNodes"`
	TargetLowPriorityNodes        int32                        `json:"targetLowPriorityNodes"`
	EnableAutoScale               bool                         `json:"enableAutoScale"`
	AutoScaleFormula              string                       `json:"autoScaleFormula,omitempty"`
	AutoScaleEvaluationInterval   *Duration                    `json:"autoScaleEvaluationInterval,omitempty"`
	AutoScaleRun                  *AutoScaleRun                `json:"autoScaleRun,omitempty"`
	StartTask                     *StartTask                   `json:"startTask,omitempty"`
	TaskSlotsPerNode              int32                        `json:"taskSlotsPerNode,omitempty"`
	TaskSchedulingPolicy          *TaskSchedulingPolicy        `json:"taskSchedulingPolicy,omitempty"`
	Metadata                      []MetadataItem               `json:"metadata,omitempty"`
}

// PoolResizeParameter is the body of a resize request.
type PoolResizeParameter struct {
	TargetDedicatedNodes   *int32                 `json:"targetDedicatedNodes,omitempty"`
	TargetLowPriorityNodes *int32                 `json:"targetLowPriorityNodes,omitempty"`
	ResizeTimeout          *Duration              `json:"resizeTimeout,omitempty"`
	NodeDeallocationOption NodeDeallocationOption `json:"nodeDeallocationOption,omitempty"`
}

// PoolEnableAutoScaleParameter is the body of an enable-autoscale request.
type PoolEnableAutoScaleParameter struct {
	AutoScaleFormula            string    `json:"autoScaleFormula,omitempty"`
	AutoScaleEvaluationInterval *Duration `json:"autoScaleEvaluationInterval,omitempty"`
}

// Node is a compute node of a pool (ComputeNode).
type Node struct {
	ID                    string          `json:"id,omitempty"`
	URL                   string          `json:"url,omitempty"`
	State                 NodeState       `json:"state,omitempty"`
	SchedulingState       SchedulingState `json:"schedulingState,omitempty"`
	StateTransitionTime   time.Time       `json:"stateTransitionTime,omitzero"`
	AllocationTime        time.Time       `json:"allocationTime,omitzero"`
	IPAddress             string          `json:"ipAddress,omitempty"`
	VMSize                string          `json:"vmSize,omitempty"`
	IsDedicated           bool            `json:"isDedicated"`
	RunningTasksCount     int32           `json:"runningTasksCount"`
	RunningTaskSlotsCount int32           `json:"runningTaskSlotsCount"`
	TotalTasksRun         int32           `json:"totalTasksRun"`
	TotalTasksSucceeded   int32           `json:"totalTasksSucceeded"`
	StartTaskInfo         *StartTaskInfo  `json:"startTaskInfo,omitempty"`
	Errors                []NodeError     `json:"errors,omitempty"`
}

// StartTaskInfo is the state of a node's start task.
type StartTaskInfo struct {
	State         StartTaskState      `json:"state,omitempty"`
	StartTime     time.Time           `json:"startTime,omitzero"`
	EndTime       time.Time           `json:"endTime,omitzero"`
	ExitCode      *int32              `json:"exitCode,omitempty"`
	FailureInfo   *FailureInfo        `json:"failureInfo,omitempty"`
	RetryCount    int32               `json:"retryCount"`
	LastRetryTime time.Time           `json:"lastRetryTime,omitzero"`
	Result        TaskExecutionResult `json:"result,omitempty"`
}

// NodeError is an error a node reports.
type NodeError struct {
	Code         string          `json:"code,omitempty"`
	Message      string          `json:"message,omitempty"`
	ErrorDetails []NameValuePair `json:"errorDetails,omitempty"`
}
