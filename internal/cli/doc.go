// Package cli implements the ffbatch developer commands: up (run the local
// stack until Ctrl-C), submit (upload MP4s or send arrival messages),
// watch and status (per-file progress, queue depth, pool nodes and running
// tasks; status --json prints the Status API's page, internal/statusapi),
// results (outputs and failures from the results topic) and run (the
// whole job on sample files: what `make run` calls).
//
// Commands other than up and run find the stack through the stack.json
// that up writes in the state directory. The package reads the pipeline's
// documented stores (the status documents, the results topic, the arrivals
// queue's counts, the Batch API); it does not change pipeline state except
// by uploading inputs and sending arrival messages, as any producer would.
package cli
