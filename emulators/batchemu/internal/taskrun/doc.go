// Package taskrun is the Batch emulator's one path from a task to a
// process: it turns any kind of task (an ordinary or job manager task, a
// job preparation or release task, a pool's start task) into the
// executor's Spec (directories, the AZ_BATCH_* environment, the job's and
// the task's settings, inputs, outputs and wall clock limit), and records
// how each attempt ended in the execution info the service reports.
//
// It does not decide when a task runs or what its end does to the job;
// the emulator's scheduler does.
package taskrun
