package sim

import (
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/plan"
)

// Workload is the files that arrive: Files uploads spread evenly at random
// over Over, a PodcastShare of them 30–90 minutes of audio and the rest
// 1–5 minute clips, each an MP4 of VideoMbps.
type Workload struct {
	Name         string
	Files        int
	Over         time.Duration
	PodcastShare float64
	VideoMbps    float64
	Seed         int64
}

// Scaling is who sizes the pool (FFBATCH_SCALING_MODE).
type Scaling string

const (
	ScalingAutoscale Scaling = "autoscale"
	ScalingManaged   Scaling = "managed"
)

// Params describe the deployment and the Azure behaviour the model
// assumes. Fields marked "published" come from Microsoft's limits pages
// (docs/capacity.md lists them with links); "setting" are ffbatch's
// settings and template parameters; everything else is an estimate.
type Params struct {
	// Event Grid and BlobCreated.
	EventGridDelay  time.Duration // estimate: upload to delivery
	BlobCreatedTime time.Duration // estimate: one BlobCreated invocation

	// Service Bus Standard.
	SBCreditsPerSecond float64 // published: 1,000 credits/s per namespace
	SBCreditsPerFile   float64 // estimate: send, receive, complete, result send, filter, result receive
	SBScalerCredits    float64 // published cost (10 per management read) × 2 reads per scale check

	// SubmitTasks on Flex Consumption.
	BatchSize          int           // setting: host.json maxMessageBatchSize
	MaxInstances       int           // setting: maximumInstanceCount (template default 40)
	ScaleByQueueLength bool          // setting: Data Owner on the queue (target scaler) or peek fallback
	ScaleInterval      time.Duration // estimate: how often the scale controller acts
	InstanceColdStart  time.Duration // estimate: new instance to first invocation
	SubmitRate         float64       // estimate: arrivals/s one instance records (BENCHMARKS.md: 400–800 on Azure)
	AddTasksLatency    time.Duration // estimate: one AddTaskCollection call (100 tasks), 4 in flight

	// Batch pool.
	VMSize            string        // setting
	TaskSlots         int           // setting: taskSlotsPerNode
	NodeMbps          float64       // estimate: a node's network bandwidth
	DedicatedMax      int           // setting
	SpotMax           int           // setting
	DedicatedCores    int           // published default range 0–900: the Batch account's dedicated core quota for the family
	SpotCores         int           // published default range 0–100: the account's Spot (low-priority) core quota
	Scaling           Scaling       // setting
	AutoscaleInterval time.Duration // setting, published minimum 5 minutes
	NodeStart         time.Duration // estimate: resize to node idle (allocation, boot, start task installing ffmpeg)
	SpotPreemptPerHr  float64       // estimate: preemptions per Spot node-hour (not published)
	PoolIdleTimeout   time.Duration // setting: FFBATCH_POOL_IDLE_TIMEOUT

	// Tasks.
	TranscodeSpeed  float64       // estimate: seconds of audio per second of one slot
	TaskOverhead    time.Duration // estimate: scheduling, process start, log upload
	MaxTaskRetries  int           // setting
	MinWallClock    time.Duration // setting
	WallClockPerGiB time.Duration // setting
	SASQueueing     time.Duration // setting: FFBATCH_SAS_QUEUEING
	MaxResubmits    int           // setting
	ResubmitBackoff time.Duration // setting

	// SweepPools (handlers/settle.go).
	SweepEvery    time.Duration // setting: FFBATCH_SWEEP_SCHEDULE
	MaxSweepTasks int           // code: maxSweepTasks
	SweepWorkers  int           // code: sweepWorkers
	SettleTime    time.Duration // estimate: one task's status update, result send and delete

	// Prices, USD (see docs/capacity.md for dates and sources).
	SpotPricePerHr      float64
	DedicatedPricePerHr float64
	FlexPerGBs          float64
	FlexPerMillion      float64
	FlexMemoryGB        float64
	SBBasePerHr         float64
	SBPerMillionOps     float64
	EventGridPerMillion float64
	StoragePer10kWrites float64
	StoragePer10kReads  float64

	// Horizon stops the model this long after the last upload even if
	// work is left.
	Horizon time.Duration
}

// Defaults are the template's defaults (infra/main.bicepparam, host.json,
// internal/config) and the model's estimates.
func Defaults() Params {
	return Params{
		EventGridDelay:     time.Second,
		BlobCreatedTime:    200 * time.Millisecond,
		SBCreditsPerSecond: 1000,
		SBCreditsPerFile:   6,
		SBScalerCredits:    20,

		BatchSize:          500,
		MaxInstances:       40,
		ScaleByQueueLength: true,
		ScaleInterval:      10 * time.Second,
		InstanceColdStart:  5 * time.Second,
		SubmitRate:         500,
		AddTasksLatency:    150 * time.Millisecond,

		VMSize:            "Standard_D2s_v3",
		TaskSlots:         2,
		NodeMbps:          1000,
		DedicatedMax:      0,
		SpotMax:           4,
		DedicatedCores:    0,
		SpotCores:         100,
		Scaling:           ScalingAutoscale,
		AutoscaleInterval: 5 * time.Minute,
		NodeStart:         6 * time.Minute,
		SpotPreemptPerHr:  0,
		PoolIdleTimeout:   15 * time.Minute,

		TranscodeSpeed:  60,
		TaskOverhead:    5 * time.Second,
		MaxTaskRetries:  2,
		MinWallClock:    10 * time.Minute,
		WallClockPerGiB: 20 * time.Minute,
		SASQueueing:     2 * time.Hour,
		MaxResubmits:    3,
		ResubmitBackoff: time.Minute,

		SweepEvery:    time.Minute,
		MaxSweepTasks: 5000,
		SweepWorkers:  8,
		SettleTime:    60 * time.Millisecond,

		SpotPricePerHr:      0.0192,
		DedicatedPricePerHr: 0.096,
		FlexPerGBs:          0.000026,
		FlexPerMillion:      0.40,
		FlexMemoryGB:        2,
		SBBasePerHr:         0.0135,
		SBPerMillionOps:     0.80,
		EventGridPerMillion: 0.60,
		StoragePer10kWrites: 0.065,
		StoragePer10kReads:  0.005,

		Horizon: 48 * time.Hour,
	}
}

// check refuses parameters the model cannot run, and a pool Batch would
// refuse (the same slot limit the handler checks at start-up).
func (p Params) check() error {
	cores, ok := plan.VMCores(p.VMSize)
	switch {
	case !ok:
		return fmt.Errorf("sim: VM size %q unknown to internal/plan", p.VMSize)
	case p.TaskSlots < 1:
		return fmt.Errorf("sim: task slots %d", p.TaskSlots)
	case p.BatchSize < 1 || p.MaxInstances < 1 || p.SubmitRate <= 0 || p.TranscodeSpeed <= 0 || p.NodeMbps <= 0:
		return fmt.Errorf("sim: batch size, instances, submit rate, transcode speed and bandwidth must be positive")
	case p.SBCreditsPerSecond <= 0 || p.SBCreditsPerFile <= 0:
		return fmt.Errorf("sim: Service Bus credits must be positive")
	case p.SweepEvery <= 0 || p.MaxSweepTasks < 1 || p.SweepWorkers < 1 || p.ScaleInterval <= 0 || p.AutoscaleInterval <= 0:
		return fmt.Errorf("sim: intervals and sweep sizes must be positive")
	}
	if most, _ := plan.MaxTaskSlots(p.VMSize); p.TaskSlots > most {
		return fmt.Errorf("sim: %d task slots on %s (%d vCPUs): Batch allows at most %d", p.TaskSlots, p.VMSize, cores, most)
	}
	return nil
}

// poolOptions are the node bounds in the form plan.ManagedTargets takes,
// with the maxima also limited by the core quotas.
func (p Params) poolOptions() plan.PoolOptions {
	cores, _ := plan.VMCores(p.VMSize)
	return plan.PoolOptions{TaskSlotsPerNode: p.TaskSlots,
		DedicatedMax: min(p.DedicatedMax, p.DedicatedCores/cores),
		SpotMax:      min(p.SpotMax, p.SpotCores/cores)}
}

// taskOptions carry the retry and wall-clock settings plan's sizing uses.
func (p Params) taskOptions() plan.TaskOptions {
	return plan.TaskOptions{MaxTaskRetries: p.MaxTaskRetries, MinWallClock: p.MinWallClock, WallClockPerGiB: p.WallClockPerGiB}
}
