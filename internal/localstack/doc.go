// Package localstack brings the whole local pipeline up and down as child
// processes: Azurite (through internal/azurite), the Service Bus emulator
// (sbemu), the Batch emulator (batchemu) and the Functions host stand-in
// (funchost) running the function app's deployable layout with a generated
// local.settings.json that points every setting at the local services.
//
// Each child runs in its own process group with its output in
// <StateDir>/logs/<name>.log; Stop terminates the groups in reverse start
// order (SIGTERM, then SIGKILL after a grace period), so no process is left
// behind. Every child also gets SIGTERM from the kernel when the process
// that started it dies (Linux parent-death signal), and funchost and
// batchemu do the same for the handler and the tasks they start, so even
// a SIGKILLed ffbatch leaves nothing running. Health is checked over HTTP
// before Start returns; a child that exits during start-up is reported
// with the last line it wrote (its own error message).
//
// A stack owns its state directory through a lock file that names the
// owning process, and records its endpoints and processes in stack.json
// (WriteRecord). Down, from another process, stops the owner (SIGTERM) and
// whatever the record names that still runs; Start removes a record whose
// processes are all gone and refuses while some still run. FindStateDir
// locates the project's state directory from any subfolder.
//
// Beyond health checks and creating the input and output containers, it
// talks to the pipeline only to read it, for the CLI and the end-to-end
// tests: QueueDepth (a queue's counts from the Service Bus emulator's
// /entities) and PeekResults (result events, peeked without settling). It
// never imports the emulators (they are separate binaries, found in a bin
// directory or built with the go tool). It is Linux only (process groups,
// the parent-death signal and /proc).
package localstack
