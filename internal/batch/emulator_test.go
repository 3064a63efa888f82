package batch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
)

// Tests that need only the service's ordinary answers (errors, Shared Key
// verification, existence checks) run against the in-process Batch
// emulator; fake_test.go is for what the emulator cannot be made to do.

// emulatorRequest is what the emulator received: enough to check how the
// client framed a request.
type emulatorRequest struct {
	Method, Path, ContentLength string
}

// emulated is a Batch emulator behind a recording HTTP server.
type emulated struct {
	url  string
	mu   sync.Mutex // guards seen
	seen []emulatorRequest
}

func newEmulated(t testing.TB) *emulated {
	t.Helper()
	srv, err := batchemu.NewServer(nil)
	if err != nil {
		t.Fatalf("new emulator: %v", err)
	}
	e := &emulated{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, emulatorRequest{Method: r.Method, Path: r.URL.EscapedPath(), ContentLength: r.Header.Get("Content-Length")})
		e.mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	e.url = hs.URL
	return e
}

// client is a Shared Key client of the emulator's account signing with key.
func (e *emulated) client(t testing.TB, key string) *Client {
	t.Helper()
	return testClient(t, e.url, batchemu.DefaultAccountName, key)
}

func (e *emulated) requests() []emulatorRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]emulatorRequest(nil), e.seen...)
}

// emulatedPool is the smallest pool the emulator (like the service) accepts.
func emulatedPool(id string) PoolAddParameter {
	return PoolAddParameter{ID: id, VMSize: "standard_a1_v2", VirtualMachineConfiguration: &VirtualMachineConfiguration{
		ImageReference: ImageReference{Publisher: "Canonical", Offer: "ubuntu-24_04-lts", SKU: "server", Version: "latest"},
		NodeAgentSKUID: "batch.node.ubuntu 24.04",
	}, TargetDedicatedNodes: ptr[int32](0)}
}
