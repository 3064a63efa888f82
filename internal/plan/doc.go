// Package plan turns a validated arrival into Batch requests: the task for
// one file (deterministic id, fixed local file names, ffmpeg run directly
// with a named preset, output and log uploads, retry and wall-clock limits
// sized to the file), the job, and the pool with its autoscale formula.
//
// It is pure: it builds request values and never calls Batch or Storage.
// Blob access URLs are passed in already signed (see internal/blobaccess),
// and no blob name ever appears in a command line: inputs and outputs reach
// the node as input.mp4 and output.mp3 in the task's working directory.
package plan
