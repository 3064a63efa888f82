// Package wireerr builds every error the Batch emulator puts on the wire:
// the service's error codes, one constructor per error the emulator
// raises (status, code, message and details as the service words them),
// the errors reported inside entities (resize and autoscale errors), and
// Write, which renders an error response.
//
// Its constructor of raw errors is unexported, so an error the service
// does not have cannot be invented elsewhere. The autoscale formula errors
// are the one family whose code and wording another package decides: the
// formula engine (internal/autoscale) reports them as the service does,
// and Formula and AutoScaleRunError put its *autoscale.Error on the wire.
// It does not decide when an error applies: that is the handlers' job.
package wireerr
