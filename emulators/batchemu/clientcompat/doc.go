// Package clientcompat holds cross-client conformance tests for the Batch
// emulator: the official JavaScript (@azure/batch 10.2.0) and Python
// (azure-batch 13.0.1) clients drive an in-process emulator, so the emulator
// is checked against more than our own Go client (internal/batch/batchtest).
// It has no production code.
package clientcompat
