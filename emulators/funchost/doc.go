// Package funchost is a local stand-in for the Azure Functions host that runs
// a deployable custom-handler layout (host.json, <Function>/function.json and
// the handler executable) the way the real host does.
//
// It starts the handler named by host.json's customHandler section with the
// app settings and FUNCTIONS_CUSTOMHANDLER_PORT in its environment, waits for
// it to answer GET /, restarts it when it exits with a non-zero code or when an
// invocation exceeds functionTimeout, and invokes functions by POSTing the
// real host's request envelope to /<FunctionName>. Triggers: httpTrigger (on
// HTTPAddr under /api), timerTrigger (six-field NCRONTAB), serviceBusTrigger
// (azservicebus, single or cardinality many) and eventGridTrigger fed by a
// blob-container watcher that emits Microsoft.Storage.BlobCreated events,
// because Azurite has no Event Grid.
//
// HTTP functions are served with function keys the way the real host
// keeps them with file secret storage (keys.go: <StateDir>/secrets, the
// x-functions-key header or the code parameter, authLevel anonymous,
// function or admin; 401 otherwise).
//
// It deliberately does not download extension bundles, run output bindings
// other than http, scale out, or check keys on the admin API and webhooks;
// it talks to the handler
// only over HTTP and keeps its own wire types instead of importing the
// production packages. docs/fidelity/funchost.md lists every difference from
// the real host.
package funchost
