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
//     answered "rejected". The rest are written as one journal per
//     invocation and their tasks added to Batch, with the request in the
//     task's FFBATCH_FILE variable; a first attempt's task id derives from
//     the work, so identical requests add one task. fold.go folds the
//     journal into the records in the background: each request is
//     recorded submitted, sharing an identical request's task, or
//     answered with the output of identical work already done (and the
//     task added for it removed, unless it already ran).
//   - taskfinished.go, TaskFinished (eventGridTrigger on the output
//     container): Batch uploads a task's logs as it completes; the upload
//     of its stderr.txt settles that task at once (settle.go).
//   - sweep.go, SweepPools (timerTrigger), the safety net, in four stages:
//     fold.go folds the journals SubmitTasks left behind; settle.go settles
//     completed tasks (a success once promote.go confirmed the staged MP3
//     and the input version, claimed the output and copied the MP3 to it;
//     every request waiting on a task is answered, or its owner resubmitted
//     as the next attempt after a transient failure) and deletes them;
//     recover.go finds tasks lost by Batch and resubmits or fails their
//     requests; idle.go sizes managed pools and removes idle jobs and
//     pools.
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
// and the others: records are written under ETag conditions before the
// answers and arrivals they decide are sent (SubmitTasks writes its
// journal first instead; lost-task recovery sends first, then records),
// message and event ids derive from the request and task ids from the
// work or the request, and Batch "already exists"/"not found" answers are
// treated as the desired state. A decision is acted on again, under the
// same ids, by whatever still holds it until it is out: a redelivered
// event, a journal not yet deleted, a completed task not yet deleted
// (internal/lifecycle, the write policy).
//
// The package never imports the emulators; cmd/handler wires the real
// clients.
package handlers
