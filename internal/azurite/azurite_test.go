package azurite_test

import (
	"net/http"
	"testing"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
)

func TestStartServesAndStops(t *testing.T) {
	inst := azuritetest.Start(t)
	resp, err := http.Get(inst.BlobEndpoint + "?comp=list")
	if err != nil {
		t.Fatalf("GET list containers: %v", err)
	}
	resp.Body.Close()
	// Without a signature Azurite refuses the listing: it is serving and checking auth.
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous list: got status %d, want 403", resp.StatusCode)
	}
	inst.Stop()
	if _, err := http.Get(inst.BlobEndpoint + "?comp=list"); err == nil {
		t.Fatalf("azurite still answers after Stop")
	}
}
