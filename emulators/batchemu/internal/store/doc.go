// Package store holds the Batch emulator's state and keeps it on disk.
//
// State is everything the emulator knows (pools with their nodes, jobs
// with their tasks and per-node preparation state), as one JSON document
// keyed by lower-cased ids. Dir persists it in a data directory as an
// atomically replaced snapshot plus a journal of fsynced records, and
// loads it back, replaying the journal. Attempt is the handle of a running
// process that the records point to; it is never persisted.
//
// The package does not lock: the emulator guards a State with its own
// mutex. It does not change state by the service's rules either; that is
// the scheduler's and the handlers' job. See
// docs/decisions/0027-batchemu-json-snapshots.md.
package store
