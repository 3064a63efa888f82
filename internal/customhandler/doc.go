// Package customhandler is the wire layer between the Azure Functions host
// and an HTTP custom handler: the invocation envelope the host POSTs to
// /{FunctionName}, the response it expects back, tolerant decoders for the
// host's encoding quirks, and a small router that serves one function per
// path plus the readiness probe on GET /.
//
// The host's quirks (see docs/fidelity/handler.md and the shared reference
// functions-host.md §0 and §1.6) are absorbed here so that function code
// sees plain Go values:
//   - scalar values in Data and Metadata arrive JSON-encoded once or twice
//     ("abc", "\"abc\"", "4", 4);
//   - objects arrive either as JSON objects or as JSON strings holding them;
//   - batches (cardinality many) arrive as a JSON string holding an array,
//     with per-message metadata under keys ending in "Array";
//   - binary data arrives base64-encoded;
//   - on the way back, a string output that happens to be valid base64 is
//     decoded to bytes by the host, so [InvokeResponse.SetOutput] refuses
//     such strings.
//
// It deliberately does not read the environment (the port is read by
// cmd/handler), does not know any function's business logic, and does not
// implement HTTP request forwarding (enableForwardingHttpRequest is false in
// this project's host.json).
package customhandler
