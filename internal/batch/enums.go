package batch

// The Batch service writes enum values in lower case; these typed strings
// carry the wire spelling.

// PoolState is the lifecycle state of a pool.
type PoolState string

const (
	PoolStateActive   PoolState = "active"
	PoolStateDeleting PoolState = "deleting"
)

// AllocationState says whether a pool is resizing.
type AllocationState string

const (
	PoolAllocationStateSteady   AllocationState = "steady"
	PoolAllocationStateResizing AllocationState = "resizing"
	PoolAllocationStateStopping AllocationState = "stopping"
)

// NodeDeallocationOption says what happens to running tasks when nodes
// leave a pool.
type NodeDeallocationOption string

const (
	NodeDeallocationOptionRequeue        NodeDeallocationOption = "requeue"
	NodeDeallocationOptionTerminate      NodeDeallocationOption = "terminate"
	NodeDeallocationOptionTaskCompletion NodeDeallocationOption = "taskcompletion"
	NodeDeallocationOptionRetainedData   NodeDeallocationOption = "retaineddata"
)

// AutoUserScope is the scope of an auto user.
type AutoUserScope string

const (
	AutoUserScopeTask AutoUserScope = "task"
	AutoUserScopePool AutoUserScope = "pool"
)

// ElevationLevel is the elevation of a task's user.
type ElevationLevel string

const (
	ElevationLevelNonAdmin ElevationLevel = "nonadmin"
	ElevationLevelAdmin    ElevationLevel = "admin"
)

// NodeFillType says how tasks are spread over a pool's nodes.
type NodeFillType string

const (
	NodeFillTypeSpread NodeFillType = "spread"
	NodeFillTypePack   NodeFillType = "pack"
)

// JobState is the lifecycle state of a job.
type JobState string

const (
	JobStateActive      JobState = "active"
	JobStateDisabling   JobState = "disabling"
	JobStateDisabled    JobState = "disabled"
	JobStateEnabling    JobState = "enabling"
	JobStateTerminating JobState = "terminating"
	JobStateCompleted   JobState = "completed"
	JobStateDeleting    JobState = "deleting"
)

// OnAllTasksComplete is what the service does when every task of a job is
// complete.
type OnAllTasksComplete string

const (
	OnAllTasksCompleteNoAction     OnAllTasksComplete = "noaction"
	OnAllTasksCompleteTerminateJob OnAllTasksComplete = "terminatejob"
)

// OnTaskFailure is what the service does when a task of a job fails.
type OnTaskFailure string

const (
	OnTaskFailureNoAction                    OnTaskFailure = "noaction"
	OnTaskFailurePerformExitOptionsJobAction OnTaskFailure = "performexitoptionsjobaction"
)

// TaskState is the lifecycle state of a task.
type TaskState string

const (
	TaskStateActive    TaskState = "active"
	TaskStatePreparing TaskState = "preparing"
	TaskStateRunning   TaskState = "running"
	TaskStateCompleted TaskState = "completed"
)

// TaskExecutionResult is the outcome of a completed task.
type TaskExecutionResult string

const (
	TaskExecutionResultSuccess TaskExecutionResult = "success"
	TaskExecutionResultFailure TaskExecutionResult = "failure"
)

// ErrorCategory classifies a task failure.
type ErrorCategory string

const (
	ErrorCategoryUserError   ErrorCategory = "usererror"
	ErrorCategoryServerError ErrorCategory = "servererror"
)

// OutputFileUploadCondition says when an output file is uploaded.
type OutputFileUploadCondition string

const (
	OutputFileUploadConditionTaskSuccess    OutputFileUploadCondition = "tasksuccess"
	OutputFileUploadConditionTaskFailure    OutputFileUploadCondition = "taskfailure"
	OutputFileUploadConditionTaskCompletion OutputFileUploadCondition = "taskcompletion"
)

// TaskAddStatus is the per-task outcome of an add-collection call.
type TaskAddStatus string

const (
	TaskAddStatusSuccess     TaskAddStatus = "success"
	TaskAddStatusClientError TaskAddStatus = "clienterror"
	TaskAddStatusServerError TaskAddStatus = "servererror"
)

// NodeState is the state of a compute node.
type NodeState string

const (
	NodeStateIdle                NodeState = "idle"
	NodeStateRebooting           NodeState = "rebooting"
	NodeStateReimaging           NodeState = "reimaging"
	NodeStateRunning             NodeState = "running"
	NodeStateUnusable            NodeState = "unusable"
	NodeStateCreating            NodeState = "creating"
	NodeStateStarting            NodeState = "starting"
	NodeStateWaitingForStartTask NodeState = "waitingforstarttask"
	NodeStateStartTaskFailed     NodeState = "starttaskfailed"
	NodeStateUnknown             NodeState = "unknown"
	NodeStateLeavingPool         NodeState = "leavingpool"
	NodeStateOffline             NodeState = "offline"
	NodeStatePreempted           NodeState = "preempted"
)

// SchedulingState says whether a node accepts new tasks.
type SchedulingState string

const (
	SchedulingStateEnabled  SchedulingState = "enabled"
	SchedulingStateDisabled SchedulingState = "disabled"
)

// StartTaskState is the state of a node's start task.
type StartTaskState string

const (
	StartTaskStateRunning   StartTaskState = "running"
	StartTaskStateCompleted StartTaskState = "completed"
)
