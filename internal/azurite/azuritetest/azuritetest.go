// Package azuritetest starts a throwaway Azurite for a test and stops it when
// the test ends. Tests fail (never skip) when Azurite is not installed: run
// them with `make test`, which installs it.
package azuritetest

import (
	"context"
	"testing"

	"github.com/ffbatch/ffbatch/internal/azurite"
)

// Start runs a fresh Azurite on a free loopback port with a temporary data
// directory, registered for cleanup.
func Start(t testing.TB) *azurite.Instance {
	t.Helper()
	inst, err := azurite.Start(context.Background(), nil)
	if err != nil {
		t.Fatalf("start azurite: %v", err)
	}
	t.Cleanup(inst.Stop)
	return inst
}
