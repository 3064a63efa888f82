// Package blobaccess mints the short-lived SAS URLs that let Batch tasks
// read one input blob and write into the output container, and builds
// SAS-free blob URLs for reports.
//
// Two signers exist: user-delegation SAS (Microsoft Entra ID, the managed
// identity of the function app; no account key anywhere) and account-key
// SAS (Azurite, the local stack). Inputs get read-only blob SAS; outputs
// get a create/write-only container SAS (no read, list or delete). Start
// times are backdated a few minutes against clock skew.
//
// SAS URLs are secrets: never log them. The package itself logs nothing.
package blobaccess
