// Package statusapi builds the Status function's JSON answer without
// ?blob=: one page of file rows with their short-lived links, the activity
// of the last hour, the pool's nodes, the job's task counts and the
// arrivals queue's depth. The dashboard polls it, and `ffbatch status
// --json` prints it, both through Build, so they read the same document
// (docs/status-api.md, docs/schemas/status.schema.json).
//
// Every part has a bounded cost that does not grow with the number of
// files: the rows are one List Blobs page (a state filter scans at most
// lifecycle.MaxScanPages pages), the activity is one small blob, the pool,
// its first page of nodes, the task counts and the live tasks are one
// Batch request each, the queue depth is one management request (or
// unknown). A part that cannot be read is reported in Problems and left
// out; the page itself does not fail.
//
// It does not serve HTTP, decide anything, or read status records: the
// function app (handlers) and the CLI wire it to their clients.
package statusapi
