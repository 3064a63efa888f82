// Package e2e holds the whole-pipeline tests: the local stack of
// internal/localstack (Azurite, the Service Bus emulator, the Batch
// emulator and the Functions host running the built handler, each a child
// process) driven only from the outside, the way a user or an upstream
// system would: blobs uploaded, arrival messages sent, result events,
// status records, MP3s and the Batch API read back.
//
// The tests are bounded (short sweep schedules and idle timeouts through
// settings, 2-second clips) so the package runs in `make test`. It has no
// non-test code besides this comment.
package e2e
