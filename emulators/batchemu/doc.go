// Package batchemu is a local emulator of the Azure Batch data plane.
//
// It speaks the Batch REST protocol (Shared Key auth; Bearer tokens only
// those of the local token issuer, internal/localtoken, when configured;
// the real JSON shapes, error bodies and status codes, OData paging with
// odata.nextLink) and really executes tasks: every pool node is a directory
// on the local disk, task command lines run as local processes (without a
// shell) with the AZ_BATCH_* environment, resource files are downloaded and
// output files uploaded through a Storage endpoint such as Azurite.
//
// The emulator is a library: [NewServer] builds it, [Server.Handler] or
// [Server.Serve] expose it, and [Server.Close] stops it. cmd/batchemu is a
// thin main around it.
//
// # Layout
//
// This package is the server: the public API, the routes and REST
// handlers, request validation and the scheduler (node lifecycles,
// autoscale, task assignment, job ends). Below it, each with one job:
// internal/wire (JSON wire types, timestamps, durations, states),
// internal/wireerr (every wire error), internal/auth (credentials),
// internal/store (the state and its persistence), internal/taskrun (a task
// of any kind to a process spec, an attempt's end to its execution info),
// internal/placement (task order and node choice),
// internal/executor (running one attempt), internal/autoscale and
// internal/odata. internal/archtest checks which may import which
// (docs/decisions/0102-emusplit-batchemu-packages.md).
//
// It deliberately does not emulate the management plane (accounts, quotas),
// containers, user isolation, certificates, application packages, job
// schedules or multi-instance tasks; requests using them get a 400
// UnsupportedProperty.
// docs/fidelity/batchemu.md lists every deviation.
//
// # Concurrency
//
// All emulator state (pools, nodes, jobs, tasks, counters) is guarded by one
// mutex, Server.mu. HTTP handlers, the scheduler loop and the goroutines that
// run task processes take it for short critical sections only. No I/O that can
// block for long (process execution, downloads, snapshot writes, directory
// removal) happens while it is held: creating a node's directories and wiping
// a reimaged node are the only file system calls made under it, and the
// state is encoded under mu but written after it is released.
//
// # Persistence
//
// With a DataDir, a request that may change state (any method but GET and
// HEAD) is answered only after a save containing its effect is durable
// (fsynced); concurrent requests share one save. Saves append a record to a
// journal and are serialised by Server.flushMu, which is taken before mu and
// never while mu is held. A failed save is answered 500 InternalError. See
// docs/decisions/0027-batchemu-json-snapshots.md.
package batchemu
