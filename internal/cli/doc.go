// Package cli implements the ffbatch developer commands: up (run the local
// stack until Ctrl-C), down (stop it from another terminal, or clean up
// after a killed up), env (its connection strings and endpoints as export
// lines), logs (show or follow the services' logs), submit (upload MP4s or
// send arrival messages), watch and status (per-file progress with filters
// and full failure reasons, queue depth, pool nodes and running tasks;
// status --json prints the Status API's page, internal/statusapi), get
// (download MP3s and task logs to a folder), retry (a new request for
// finished files), presets, results (outputs and failures from the results
// topic, on the CLI's own subscription) and run (the whole job on sample
// files: what `make run` calls).
//
// Commands other than up, run and presets find the stack through the
// stack.json that up writes in the state directory, which they find from
// any subfolder of the project. The package reads the pipeline's
// documented stores (the status records, the results topic, the arrivals
// queue's counts, the Batch API, the log files); it does not change
// pipeline state except by uploading inputs and sending arrival messages,
// as any producer would. Flags may follow names in every command
// (parseFlags).
package cli
