// Package clientcompat holds the cross-client conformance test for the Batch
// emulator with the official Python client (azure-batch 13.0.1), so the
// emulator is checked against more than our own Go client
// (internal/batch/batchtest). The official JavaScript client's suite is
// TestOfficialJSClient in the emulator package (testdata/jsclient).
// It has no production code.
package clientcompat
