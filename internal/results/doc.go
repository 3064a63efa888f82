// Package results is the vocabulary of what the pipeline reports: the
// states of a request, the result event published to the results topic
// (exactly one per request: succeeded, failed, rejected or ignored; see
// docs/messages.md and docs/schemas/result.schema.json), and the
// classification of a completed Batch task into success, permanent failure
// or transient failure.
//
// Everything here is pure. Which event a request gets, and when, is
// internal/lifecycle's business; publishing is the handlers'.
package results
