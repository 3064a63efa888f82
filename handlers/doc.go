// Package handlers holds the function app's five functions and the small
// interfaces they consume. Each request (a blob dropped into the input
// container, or an arrival message from an upstream system, the ffbatch
// CLI or a resubmission) is recorded and answered through
// internal/lifecycle, one file per stage of its flow:
//
//   - arrive.go, BlobCreated (eventGridTrigger): a blob committed to the
//     input container is a drop request. An .mp4 is recorded queued and
//     its arrival sent (or answered at once when the same work is done, or
//     shares a task in flight); anything else is answered "ignored" with
//     the reason, an .mp4 that cannot be transcoded "rejected".
//   - submit.go, SubmitTasks (serviceBusTrigger, cardinality many): each
//     message is a request. Invalid ones, and those naming a container
//     that is neither the input container nor an upstream container, are
//     answered "rejected"; a request whose output another input or preset
//     owns is refused unless it says overwrite. The rest are recorded
//     submitted, answered with the output of identical work already done,
//     or share an identical request's task in flight; the tasks of the
//     requests that own one are added to Batch, with the request in the
//     task's FFBATCH_FILE variable.
//   - taskfinished.go, TaskFinished (eventGridTrigger on the output
//     container): Batch uploads a task's logs as it completes; the upload
//     of its stderr.txt settles that task at once (settle.go).
//   - sweep.go, SweepPools (timerTrigger), the safety net, in three stages:
//     settle.go settles completed tasks (every request waiting on a task
//     is answered, or its owner resubmitted as the next attempt after a
//     transient failure) and deletes them; recover.go finds tasks lost by
//     Batch and resubmits or fails their requests; idle.go sizes managed
//     pools and removes idle jobs and pools.
//   - status.go, Status (httpTrigger): a file's current request and its
//     history, or the Status page (internal/statusapi).
//   - dashboard.go, Dashboard (httpTrigger): the operator's page
//     (internal/dashboard) and, at dashboard/status, its data (the Status
//     page).
//
// answers.go publishes result events and sends arrivals, outputs.go names
// outputs and logs, pool.go creates the pool and job, requests.go resolves
// an arrival into a request, and wiring.go builds the real clients.
//
// Every function is idempotent and safe to run concurrently with itself
// and the others: the record of an input blob is written under an ETag
// condition before anything is sent, task, message and event ids derive
// from the request, and Batch "already exists"/"not found" answers are
// treated as the desired state. A failure after the record is written
// fails the invocation; its retry finds the decision recorded and repeats
// it under the same ids.
//
// The package never imports the emulators; cmd/handler wires the real
// clients.
package handlers
