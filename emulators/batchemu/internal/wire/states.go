package wire

// JobState is a job's state; the other entities' states are plain strings.
type JobState string

// The wire values of entity states.

const (
	JobActive      JobState = "active"
	JobDisabling   JobState = "disabling"
	JobDisabled    JobState = "disabled"
	JobEnabling    JobState = "enabling"
	JobTerminating JobState = "terminating"
	JobCompleted   JobState = "completed"
	JobDeleting    JobState = "deleting"
)

const (
	TaskActive    = "active"
	TaskRunning   = "running"
	TaskCompleted = "completed"

	PoolActive   = "active"
	PoolDeleting = "deleting"

	AllocSteady   = "steady"
	AllocResizing = "resizing"
	AllocStopping = "stopping"

	NodeCreating            = "creating"
	NodeStarting            = "starting"
	NodeWaitingForStartTask = "waitingforstarttask"
	NodeIdle                = "idle"
	NodeRunning             = "running"
	NodeStartTaskFailed     = "starttaskfailed"
	NodeLeavingPool         = "leavingpool"
	NodeRebooting           = "rebooting"
	NodeReimaging           = "reimaging"
)
