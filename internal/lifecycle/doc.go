// Package lifecycle is the one model of what happens to a request: the
// status record of an input blob (every request made for it, the last
// MaxHistory), the transitions a request goes through, and the store that
// keeps records in Blob storage.
//
//	drop or message ─▶ queued ─▶ submitted ─▶ succeeded | failed
//	                     │          │  ▲
//	                     │          └──┘ transient failure or lost task:
//	                     │               queued again as the next attempt
//	                     ├─▶ queued (waited too long or dead-lettered: the arrival
//	                     │   sent again under a new message id, recovery.go)
//	                     ├─▶ failed (dead-lettered too often)
//	                     ├─▶ succeeded (reused: the same work already done)
//	                     ├─▶ submitted (sharing the task of an identical request in flight)
//	                     └─▶ rejected | ignored
//
// Each transition is a method on *Record that changes the record and
// returns a Change: the result events it decided (built from the entries
// by one constructor, answer) and the work the caller must do once the
// record is written (send or schedule an arrival, remove tasks nobody
// waits on). The write policy: the record is written first, then the
// caller acts; if writing or acting fails, the caller fails, and the
// decision is acted on again by whatever still holds it:
//   - BlobCreated (Queue, Refuse): Event Grid redelivers the event, and
//     the transition repeats a recorded answer or arrival;
//   - the fold (Fold, below): the journal is deleted only after the
//     fold's answers (reuses of done work) are published, and folding it
//     again repeats them;
//   - Settle: the task is deleted only after its answers or resubmission
//     went out, and settling the same run again repeats them (a task Batch
//     refused is refused again when its batch is redelivered);
//   - ResendStale and DeadLettered (recovery.go): a request still queued
//     is found stale again by the next scan, and a dead-lettered arrival
//     stays in the dead-letter queue until its decision is carried out;
//   - Lost acts first and records after (the record is what offers the
//     task to the next scan), so its messages are repeated until the
//     record is written.
//
// Every repeat has the same ids, so duplicate detection turns it into one
// answer. A late redelivery or replay of a message whose request was
// answered by its task gets nothing more from Submit: the answer went out
// under the rules above.
//
// SubmitTasks is the exception that keeps its path free of per-request
// writes: it writes one Journal per invocation (the batch's accepted
// requests, journal.go) before it adds their tasks, and the journal is
// folded into the records afterwards (Record.Fold, which is Submit per
// request) and then deleted. The fold may come after the task completed:
// Settle records the request the task was planned for when the record
// does not hold it, or holds it behind the task (queued at that attempt:
// a drop queued by BlobCreated, a resubmission queued by settling; or at
// an earlier attempt whose successor's writes were lost). The first attempt's
// task id derives from the work (request.TaskID), so identical requests
// journalled by different invocations share one Batch task whatever the
// order of their folds.
//
// Records are named for their file (files/<container>/<blob>, names.go),
// and their blob metadata carries the current request's Row (metadata.go),
// so a page of a listing is one List Blobs request without reads
// (Store.ListRows). The Activity blob summarises recent answers (per-minute
// counts over the last hour and the last answers) for the dashboard; each
// invocation adds its fresh answers (Change.Answered) with one write.
//
// The package does no Service Bus or Batch I/O; Store does Blob I/O only.
package lifecycle
