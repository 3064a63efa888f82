package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
)

// clients talk to one running stack.
type clients struct {
	ep    localstack.Endpoints
	blobs *azblob.Client
	batch *batch.Client
	// batchTransport is the Batch client's own connection pool, closed
	// with the clients: azcore's shared pool would keep connections the
	// Batch emulator waits for when it shuts down.
	batchTransport *http.Transport
	http           *http.Client
	sb             *azservicebus.Client // lazily created; nil until serviceBus
	status         *lifecycle.Store     // lazily created; nil until store
	docs           rowDocs
}

func newClients(ep localstack.Endpoints) (*clients, error) {
	blobs, err := azblob.NewClientFromConnectionString(ep.StorageConnection, nil)
	if err != nil {
		return nil, fmt.Errorf("storage client: %w", err)
	}
	cred, err := batch.NewSharedKeyCredential(ep.BatchAccount, ep.BatchKey)
	if err != nil {
		return nil, fmt.Errorf("batch credential: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	bo := &batch.ClientOptions{}
	bo.InsecureAllowCredentialWithHTTP = true // loopback emulator
	bo.Retry.MaxRetries = -1                  // a progress view retries on its own
	bo.Transport = &http.Client{Transport: tr}
	bc, err := batch.NewSharedKeyClient(ep.BatchEndpoint, cred, bo)
	if err != nil {
		return nil, fmt.Errorf("batch client: %w", err)
	}
	return &clients{ep: ep, blobs: blobs, batch: bc, batchTransport: tr, http: &http.Client{Timeout: 5 * time.Second}}, nil
}

func (c *clients) serviceBus() (*azservicebus.Client, error) {
	if c.sb != nil {
		return c.sb, nil
	}
	sb, err := azservicebus.NewClientFromConnectionString(c.ep.ServiceBus, nil)
	if err != nil {
		return nil, fmt.Errorf("service bus client: %w", err)
	}
	c.sb = sb
	return sb, nil
}

func (c *clients) close() {
	c.batchTransport.CloseIdleConnections()
	if c.sb != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.sb.Close(ctx)
	}
}

// connect loads the endpoints of the running stack.
func connect(e *env) (*clients, error) {
	ep, err := localstack.LoadEndpoints(e.stateDir)
	if err != nil {
		return nil, err
	}
	return newClients(ep)
}
