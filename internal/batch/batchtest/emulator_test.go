package batchtest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

// TestEmulator runs the conformance suite against an in-process Batch
// emulator on a loopback port.
func TestEmulator(t *testing.T) {
	Run(t, func(t *testing.T) Endpoint {
		t.Helper()
		key := localtoken.NewKey()
		issuer, err := localtoken.New(key, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := batchemu.NewServer(&batchemu.Options{DataDir: t.TempDir(), Concurrency: 4, TokenKey: key})
		if err != nil {
			t.Fatalf("new emulator: %v", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Close(ctx); err != nil {
				t.Errorf("close emulator: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
		return Endpoint{
			URL:         "http://" + ln.Addr().String(),
			AccountName: batchemu.DefaultAccountName,
			AccountKey:  batchemu.DefaultAccountKey,
			Timeout:     30 * time.Second,
			// The emulator verifies Bearer tokens of the local issuer
			// whose key it was given.
			TokenCredential: issuer,
		}
	})
}
