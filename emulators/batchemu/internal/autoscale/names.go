package autoscale

import "strings"

// Canonical spellings of the service-defined variables. Samples in Inputs are
// keyed by these names.
const (
	VarTargetDedicatedNodes    = "$TargetDedicatedNodes"
	VarTargetLowPriorityNodes  = "$TargetLowPriorityNodes"
	VarNodeDeallocationOption  = "$NodeDeallocationOption"
	VarCurrentDedicatedNodes   = "$CurrentDedicatedNodes"
	VarCurrentLowPriorityNodes = "$CurrentLowPriorityNodes"
	VarTaskSlotsPerNode        = "$TaskSlotsPerNode"
	VarPreemptedNodeCount      = "$PreemptedNodeCount"
	VarActiveTasks             = "$ActiveTasks"
	VarRunningTasks            = "$RunningTasks"
	VarPendingTasks            = "$PendingTasks"
	VarSucceededTasks          = "$SucceededTasks"
	VarFailedTasks             = "$FailedTasks"
	VarCPUPercent              = "$CPUPercent"
)

type sysKind int

const (
	sysNone sysKind = iota
	sysTargetDedicated
	sysTargetLowPriority
	sysNodeDeallocation
	sysNodeCount // read-only double that also has sample methods
	sysTaskSlots // read-only double
	sysMetric    // read-only sample set; only its methods can be used
)

type sysVar struct {
	canonical string
	kind      sysKind
	alias     bool // the short spelling of a read-write variable
}

// systemVars maps the lower-cased spelling to the variable. Lookups are
// case-insensitive; the results string keeps the formula's spelling.
var systemVars = map[string]sysVar{}

func init() {
	add := func(name, canonical string, kind sysKind, alias bool) {
		systemVars[strings.ToLower(name)] = sysVar{canonical: canonical, kind: kind, alias: alias}
	}
	add(VarTargetDedicatedNodes, VarTargetDedicatedNodes, sysTargetDedicated, false)
	add("$TargetDedicated", VarTargetDedicatedNodes, sysTargetDedicated, true)
	add(VarTargetLowPriorityNodes, VarTargetLowPriorityNodes, sysTargetLowPriority, false)
	add("$TargetLowPriority", VarTargetLowPriorityNodes, sysTargetLowPriority, true)
	add(VarNodeDeallocationOption, VarNodeDeallocationOption, sysNodeDeallocation, false)
	add(VarCurrentDedicatedNodes, VarCurrentDedicatedNodes, sysNodeCount, false)
	add("$CurrentDedicated", VarCurrentDedicatedNodes, sysNodeCount, false)
	add(VarCurrentLowPriorityNodes, VarCurrentLowPriorityNodes, sysNodeCount, false)
	add(VarPreemptedNodeCount, VarPreemptedNodeCount, sysNodeCount, false)
	add(VarTaskSlotsPerNode, VarTaskSlotsPerNode, sysTaskSlots, false)
	for _, m := range []string{
		VarCPUPercent, "$WallClockSeconds", "$MemoryBytes", "$DiskBytes",
		"$DiskReadBytes", "$DiskWriteBytes", "$DiskReadOps", "$DiskWriteOps",
		"$NetworkInBytes", "$NetworkOutBytes", "$SampleNodeCount",
		VarActiveTasks, VarRunningTasks, VarPendingTasks, VarSucceededTasks, VarFailedTasks,
	} {
		add(m, m, sysMetric, false)
	}
}

// Node deallocation options, written as bare names in a formula.
var deallocationOptions = map[string]string{
	"requeue":        "requeue",
	"terminate":      "terminate",
	"taskcompletion": "taskcompletion",
	"retaineddata":   "retaineddata",
}

// intervalConstants are the timeinterval constants, in 100 ns ticks like a
// .NET TimeSpan. A year is 365 days.
var intervalConstants = map[string]float64{
	"timeinterval_zero":        0,
	"timeinterval_100ns":       1,
	"timeinterval_microsecond": 10,
	"timeinterval_millisecond": 10_000,
	"timeinterval_second":      10_000_000,
	"timeinterval_minute":      60 * 10_000_000,
	"timeinterval_hour":        3600 * 10_000_000,
	"timeinterval_day":         86400 * 10_000_000,
	"timeinterval_week":        7 * 86400 * 10_000_000,
	"timeinterval_year":        365 * 86400 * 10_000_000,
}

// arity is the accepted argument count range; max < 0 means unbounded.
type arity struct{ min, max int }

// functions lists the built-in functions by lower-cased name. ceil, floor and
// round are deliberately absent: no stored copy of the documentation lists
// them (see docs/fidelity/batch-autoscale.md).
var functions = map[string]arity{
	"avg":        {0, -1},
	"len":        {0, -1},
	"lg":         {1, -1},
	"ln":         {1, -1},
	"log":        {1, -1},
	"max":        {0, -1},
	"min":        {0, -1},
	"norm":       {0, -1},
	"percentile": {2, 2},
	"rand":       {0, 0},
	"range":      {0, -1},
	"std":        {0, -1},
	"stop":       {0, 0},
	"sum":        {0, -1},
	"time":       {0, 1},
	"val":        {2, 2},
}

// methods lists the sample-set methods by lower-cased name.
var methods = map[string]arity{
	"getsample":        {1, 3},
	"getsamplepercent": {1, 2},
	"getsampleperiod":  {0, 0},
	"count":            {0, 0},
	"historybegintime": {0, 0},
}

// timestampMembers are the fields of a timestamp value.
var timestampMembers = map[string]bool{
	"year": true, "month": true, "day": true, "weekday": true,
	"hour": true, "minute": true, "second": true,
}
