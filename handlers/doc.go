// Package handlers holds the function app's four functions, one file each,
// and the small interfaces they consume:
//
//   - BlobCreated (eventGridTrigger): turns a BlobCreated event for a
//     committed .mp4 in the input container into an arrival message,
//     carrying the blob's Content-MD5 when it has one.
//   - SubmitTasks (serviceBusTrigger, cardinality many): rejects invalid
//     arrivals as result events, skips arrivals whose content is already
//     transcoded or in flight (content.go), ensures the pool and job and
//     adds one Batch task per remaining arrival.
//   - SweepPools (timerTrigger): reports completed tasks as result events,
//     resubmits transient failures, deletes completed tasks, sizes managed
//     pools and removes idle jobs and pools.
//   - Status (httpTrigger): a file's state, or a summary.
//
// Every function is idempotent and safe to run concurrently with itself
// and the others: ids are derived from the file (task ids, message ids,
// event ids), status updates use ETag conditions, and Batch "already
// exists"/"not found" answers are treated as the desired state.
//
// The package never imports the emulators; cmd/handler wires the real
// clients and tests use hand-written fakes.
package handlers
