package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
	"github.com/ffbatch/ffbatch/internal/azurite"
	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
	"github.com/ffbatch/ffbatch/internal/batch"
)

// stack is an in-process Batch emulator, optionally with Azurite.
type stack struct {
	client  *batch.Client
	azurite *azurite.Instance
}

func startStack(b *testing.B, withStorage bool, concurrency int) *stack {
	b.Helper()
	s := &stack{}
	opts := &batchemu.Options{DataDir: b.TempDir(), Concurrency: concurrency}
	if withStorage {
		s.azurite = azuritetest.Start(b)
		opts.Storage = &batchemu.StorageAccount{BlobEndpoint: s.azurite.BlobEndpoint, AccountName: s.azurite.AccountName, AccountKey: s.azurite.AccountKey}
	}
	srv, err := batchemu.NewServer(opts)
	if err != nil {
		b.Fatalf("new batch emulator: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	cred, err := batch.NewSharedKeyCredential(batchemu.DefaultAccountName, batchemu.DefaultAccountKey)
	if err != nil {
		b.Fatal(err)
	}
	co := &batch.ClientOptions{}
	co.InsecureAllowCredentialWithHTTP = true
	s.client, err = batch.NewSharedKeyClient("http://"+ln.Addr().String(), cred, co)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// waitState polls until the task reaches want or the deadline passes.
func waitTask(ctx context.Context, b *testing.B, c *batch.Client, jobID, taskID string, want batch.TaskState, poll time.Duration) *batch.Task {
	b.Helper()
	for {
		t, err := c.GetTask(ctx, jobID, taskID, nil)
		if err != nil {
			b.Fatalf("get task %s: %v", taskID, err)
		}
		if t.State == want {
			return t
		}
		select {
		case <-ctx.Done():
			b.Fatalf("task %s did not reach %s: %v", taskID, want, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// ubuntuPool is a minimal valid pool specification with n dedicated nodes.
func ubuntuPool(id string, n int32) batch.PoolAddParameter {
	return batch.PoolAddParameter{
		ID: id, VMSize: "standard_d2s_v3",
		VirtualMachineConfiguration: &batch.VirtualMachineConfiguration{
			ImageReference: batch.ImageReference{Publisher: "Canonical", Offer: "ubuntu-24_04-lts", SKU: "server", Version: "latest"},
			NodeAgentSKUID: "batch.node.ubuntu 24.04",
		},
		TargetDedicatedNodes: to.Ptr(n),
	}
}
