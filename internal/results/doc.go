// Package results defines what the pipeline reports about each file: the
// result event published to the results topic (one per file: succeeded,
// failed or rejected; see docs/messages.md and
// docs/schemas/result.schema.json), the classification of a completed Batch
// task into success, permanent failure or transient failure, and the
// per-file status document read by the Status function.
//
// Classification is pure. The status store keeps one small JSON blob per
// input file and updates it with optimistic concurrency (ETag
// conditions), so SubmitTasks and concurrent SweepPools runs never lose
// each other's updates. The package does not publish to Service Bus.
package results
