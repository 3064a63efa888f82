// Package placement holds the Batch emulator's scheduling decisions: in
// which order waiting tasks are considered (job priority, job age, task
// order), which nodes can take a task (state, free slots, job preparation
// done, job manager constraints) and which of them gets it (affinity, the
// pool's pack or spread fill type).
//
// It only decides. Launching processes, counting them against the
// emulator's concurrency and every state change are the scheduler's, in
// the emulator package, under the state mutex the caller holds.
package placement
