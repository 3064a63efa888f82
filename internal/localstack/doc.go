// Package localstack brings the whole local pipeline up and down as child
// processes: Azurite (through internal/azurite), the Service Bus emulator
// (sbemu), the Batch emulator (batchemu) and the Functions host stand-in
// (funchost) running the function app's deployable layout with a generated
// local.settings.json that points every setting at the local services.
//
// Each child runs in its own process group with its output in
// <StateDir>/logs/<name>.log; Stop terminates the groups in reverse start
// order (SIGTERM, then SIGKILL after a grace period), so no process is left
// behind. Health is checked over HTTP before Start returns.
//
// Beyond health checks and creating the input and output containers, it
// talks to the pipeline only to read it, for the CLI and the end-to-end
// tests: QueueDepth (a queue's counts from the Service Bus emulator's
// /entities) and PeekResults (result events, peeked without settling). It
// never imports the emulators (they are separate binaries, found in a bin
// directory or built with the go tool). It is Linux/Unix only (process groups, /proc for the handler).
package localstack
