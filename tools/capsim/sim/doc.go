// Package sim is a discrete-event model of ffbatch running in Azure at
// scale, for docs/capacity.md. It follows each file from upload to its
// result event: Event Grid delivery and BlobCreated, the Service Bus
// credit budget, SubmitTasks instances scaled by the Service Bus target
// scaler, the Batch pool sized by the autoscale formula (or by
// SubmitTasks in managed mode) with nodes that take minutes to start and
// Spot nodes that can be preempted, task slots, Batch's retries, the SAS
// lifetime of every attempt, and SweepPools settling completed tasks once
// a minute.
//
// Where the product has a rule, the model calls it: task wall clock,
// retries and SAS lifetime (plan.WallClock, plan.Retries,
// plan.URLLifetime), slot limits (plan.MaxTaskSlots), node targets
// (plan.ManagedTargets, the same arithmetic as plan.AutoscaleFormula).
// Everything Azure does not publish (node start time, transcode speed,
// per-request latencies, preemption rate) is a parameter whose default is
// an estimate, named as such in Params.
//
// It is a model, not a measurement: it calls no Azure service and does not
// run ffmpeg. It is deterministic for a given Workload.Seed.
package sim
