// Package executor runs one attempt of an Azure Batch task (or start task) on a local "node" directory.
//
// A [Runner] does what the Batch node agent does for a single attempt on a Linux node:
// it creates the task directory (stdout.txt, stderr.txt and the wd/ working directory),
// downloads the resource files into wd/, launches the command line without a shell in
// its own process group, enforces maxWallClockTime, and after the process exits uploads
// the output files whose upload condition matches. The outcome is a [Result] whose
// exit code and failure information mirror the executionInfo of a Batch task.
//
// The package deliberately does not schedule, retry, persist state, compute the
// AZ_BATCH_* environment or validate REST requests: the caller does all of that and
// hands a complete [Spec] to [Runner.Run]. It does not support containers, user
// identities, application packages or managed identities for storage access.
//
// Secrets: SAS query strings and account keys never appear in logs, in failure
// details or in fileuploadout.txt/fileuploaderr.txt; URLs are reduced to scheme, host
// and path before they are shown anywhere.
package executor
