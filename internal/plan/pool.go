package plan

import (
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// DefaultStartTask installs ffmpeg on a node unless it is already there, so
// it is safe after reboots and on images that ship ffmpeg. It needs a
// shell for "||" and runs elevated for apt-get.
const DefaultStartTask = `/bin/sh -c "command -v ffmpeg >/dev/null || (apt-get update && apt-get install -y ffmpeg)"`

// PoolOptions describe the pool.
type PoolOptions struct {
	ID               string
	VMSize           string
	TaskSlotsPerNode int
	DedicatedMin     int
	DedicatedMax     int
	SpotMin          int
	SpotMax          int
	// Autoscale selects the autoscale formula; otherwise the pool starts at
	// the minimums and SubmitTasks/SweepPools resize it.
	Autoscale         bool
	AutoscaleInterval time.Duration
	ImagePublisher    string
	ImageOffer        string
	ImageSKU          string
	ImageVersion      string
	NodeAgentSKU      string
	// ContainerImage, when set, is prefetched on every node through the
	// pool's container configuration instead of installing ffmpeg with a
	// start task.
	ContainerImage string
	// StartTaskCommand overrides DefaultStartTask.
	StartTaskCommand string
}

// Pool builds the pool add request.
func Pool(o PoolOptions) (batch.PoolAddParameter, error) {
	if o.ID == "" || o.VMSize == "" || o.NodeAgentSKU == "" {
		return batch.PoolAddParameter{}, fmt.Errorf("plan pool: id, vm size and node agent sku are required")
	}
	if o.TaskSlotsPerNode < 1 {
		return batch.PoolAddParameter{}, fmt.Errorf("plan pool %s: task slots per node must be at least 1", o.ID)
	}
	version := o.ImageVersion
	if version == "" {
		version = "latest"
	}
	vm := &batch.VirtualMachineConfiguration{
		ImageReference: batch.ImageReference{Publisher: o.ImagePublisher, Offer: o.ImageOffer, SKU: o.ImageSKU, Version: version},
		NodeAgentSKUID: o.NodeAgentSKU,
	}
	resize := batch.Duration(15 * time.Minute)
	p := batch.PoolAddParameter{
		ID:                          o.ID,
		DisplayName:                 "ffbatch MP4 to MP3",
		VMSize:                      o.VMSize,
		ResizeTimeout:               &resize,
		TaskSlotsPerNode:            int32(o.TaskSlotsPerNode),
		TaskSchedulingPolicy:        &batch.TaskSchedulingPolicy{NodeFillType: batch.NodeFillTypePack},
		VirtualMachineConfiguration: vm,
		Metadata:                    []batch.MetadataItem{{Name: "managed-by", Value: "ffbatch"}},
	}
	if o.ContainerImage != "" {
		vm.ContainerConfiguration = &batch.ContainerConfiguration{Type: "dockerCompatible", ContainerImageNames: []string{o.ContainerImage}}
	} else {
		cmd := o.StartTaskCommand
		if cmd == "" {
			cmd = DefaultStartTask
		}
		wait, retries := true, int32(2)
		p.StartTask = &batch.StartTask{
			CommandLine:       cmd,
			UserIdentity:      &batch.UserIdentity{AutoUser: &batch.AutoUserSpecification{Scope: batch.AutoUserScopePool, ElevationLevel: batch.ElevationLevelAdmin}},
			MaxTaskRetryCount: &retries,
			WaitForSuccess:    &wait,
		}
	}
	if o.Autoscale {
		interval := batch.Duration(o.AutoscaleInterval)
		enable := true
		p.EnableAutoScale = &enable
		p.AutoScaleFormula = AutoscaleFormula(o)
		p.AutoScaleEvaluationInterval = &interval
	} else {
		d, s := int32(o.DedicatedMin), int32(o.SpotMin)
		p.TargetDedicatedNodes, p.TargetLowPriorityNodes = &d, &s
	}
	return p, nil
}

// AutoscaleFormula sizes the pool from $PendingTasks (active + running):
// enough nodes for the pending tasks at TaskSlotsPerNode each, dedicated
// nodes first, then Spot, each within its bounds. With fewer than 70% of
// the last 5 minutes' samples (a new pool) it uses the latest sample.
// Nodes leave only after their running tasks complete.
func AutoscaleFormula(o PoolOptions) string {
	slots := max(o.TaskSlotsPerNode, 1)
	return fmt.Sprintf(`$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);
$pending = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));
$need = ($pending + %[1]d - 1) / %[1]d;
$dedicated = min(%[3]d, max(%[2]d, $need));
$spot = min(%[5]d, max(%[4]d, $need - $dedicated));
$TargetDedicatedNodes = $dedicated;
$TargetLowPriorityNodes = $spot;
$NodeDeallocationOption = taskcompletion;`, slots, o.DedicatedMin, o.DedicatedMax, o.SpotMin, o.SpotMax)
}

// ManagedTargets returns the node counts SubmitTasks asks for in managed
// mode when pending tasks are waiting: enough nodes for them, dedicated
// first, within the bounds.
func ManagedTargets(o PoolOptions, pending int) (dedicated, spot int) {
	slots := max(o.TaskSlotsPerNode, 1)
	need := (pending + slots - 1) / slots
	dedicated = min(o.DedicatedMax, max(o.DedicatedMin, need))
	spot = min(o.SpotMax, max(o.SpotMin, need-dedicated))
	return dedicated, spot
}

// Job builds the job add request: tasks run on the pool; the job stays
// open when it runs empty (SubmitTasks keeps adding to it) and is
// terminated by SweepPools after the idle timeout.
func Job(jobID, poolID string) batch.JobAddParameter {
	return batch.JobAddParameter{
		ID:                 jobID,
		DisplayName:        "ffbatch transcodes",
		PoolInfo:           batch.PoolInfo{PoolID: poolID},
		OnAllTasksComplete: batch.OnAllTasksCompleteNoAction,
		Metadata:           []batch.MetadataItem{{Name: "managed-by", Value: "ffbatch"}},
	}
}
