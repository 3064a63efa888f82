// Package auth checks the credentials of Batch requests the way the
// service does: Shared Key signatures rebuilt from the request as received
// (with the service's clock-skew limit) and the Bearer scheme.
//
// It answers with the service's AuthenticationFailed errors (from wireerr)
// and knows nothing of the emulator's state or routes.
package auth
