package statusapi

import "github.com/ffbatch/ffbatch/internal/batch"

// Heat is the colour of a node in the heat map: the node states grouped
// by what they mean for the work.
type Heat string

const (
	HeatIdle     Heat = "idle"     // ready, no task
	HeatRunning  Heat = "running"  // running tasks
	HeatStarting Heat = "starting" // joining or restarting: creating, starting, start task, rebooting, reimaging
	HeatUnusable Heat = "unusable" // cannot run tasks: unusable, start task failed, offline, preempted, leaving, unknown
)

// HeatOf groups a node state.
func HeatOf(s batch.NodeState) Heat {
	switch s {
	case batch.NodeStateIdle:
		return HeatIdle
	case batch.NodeStateRunning:
		return HeatRunning
	case batch.NodeStateCreating, batch.NodeStateStarting, batch.NodeStateWaitingForStartTask,
		batch.NodeStateRebooting, batch.NodeStateReimaging:
		return HeatStarting
	}
	return HeatUnusable
}
