package handlers

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus/admin"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// Connect builds the real clients from the configuration: Batch (Entra ID
// or Shared Key), Blob storage and SAS signing (managed identity with
// user-delegation SAS, or a connection string with account-key SAS), the
// Service Bus senders and the receiver of the arrivals' dead-letter queue.
// Nothing here touches the network: credentials fetch tokens and AMQP
// links open on first use, so the handler starts fast. The returned func
// closes the Service Bus links.
func Connect(cfg *config.Config) (Deps, func(), error) {
	var d Deps
	var cred azcore.TokenCredential
	needCred := cfg.StorageURL != "" || cfg.ServiceBusNamespace != "" || cfg.BatchAuth == config.BatchAuthEntra
	if needCred {
		var err error
		if cfg.ManagedIdentityClientID != "" {
			cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(cfg.ManagedIdentityClientID)})
		} else {
			cred, err = azidentity.NewDefaultAzureCredential(nil)
		}
		if err != nil {
			return d, nil, fmt.Errorf("azure credential: %w", err)
		}
	}

	// Batch.
	bopts := &batch.ClientOptions{}
	bopts.InsecureAllowCredentialWithHTTP = loopbackHTTP(cfg.BatchEndpoint)
	var err error
	if cfg.BatchAuth == config.BatchAuthSharedKey {
		sk, kerr := batch.NewSharedKeyCredential(cfg.BatchAccount, cfg.BatchAccountKey)
		if kerr != nil {
			return d, nil, fmt.Errorf("batch shared key: %w", kerr)
		}
		d.Batch, err = batch.NewSharedKeyClient(cfg.BatchEndpoint, sk, bopts)
	} else {
		d.Batch, err = batch.NewClient(cfg.BatchEndpoint, cred, bopts)
	}
	if err != nil {
		return d, nil, fmt.Errorf("batch client: %w", err)
	}

	// Storage.
	var blobs *azblob.Client
	if cfg.StorageConn != "" {
		acct, perr := blobaccess.ParseConnectionString(cfg.StorageConn)
		if perr != nil {
			return d, nil, perr
		}
		blobs, err = azblob.NewClientFromConnectionString(cfg.StorageConn, nil)
		if err != nil {
			return d, nil, fmt.Errorf("blob client: %w", err)
		}
		sk, kerr := azblob.NewSharedKeyCredential(acct.Name, acct.Key)
		if kerr != nil {
			return d, nil, fmt.Errorf("storage shared key: %w", kerr)
		}
		d.Signer, err = blobaccess.NewAccountKeySigner(acct.BlobURL, sk, &blobaccess.Options{AllowHTTP: loopbackHTTP(acct.BlobURL)})
	} else {
		blobs, err = azblob.NewClient(cfg.StorageURL, cred, nil)
		if err != nil {
			return d, nil, fmt.Errorf("blob client: %w", err)
		}
		d.Signer, err = blobaccess.NewUserDelegationSigner(cfg.StorageURL, blobs.ServiceClient(), nil)
	}
	if err != nil {
		return d, nil, fmt.Errorf("sas signer: %w", err)
	}
	d.Blobs = storageClient{blobs}
	d.Status = lifecycle.NewStore(blobs.ServiceClient().NewContainerClient(cfg.StatusContainer), nil)

	// Service Bus.
	var sb *azservicebus.Client
	if cfg.ServiceBusConn != "" {
		sb, err = azservicebus.NewClientFromConnectionString(cfg.ServiceBusConn, nil)
	} else {
		sb, err = azservicebus.NewClient(cfg.ServiceBusNamespace, cred, nil)
	}
	if err != nil {
		return d, nil, fmt.Errorf("service bus client: %w", err)
	}
	arrivals, err := sb.NewSender(cfg.ArrivalsQueue, nil)
	if err != nil {
		return d, nil, fmt.Errorf("arrivals sender: %w", err)
	}
	res, err := sb.NewSender(cfg.ResultsTopic, nil)
	if err != nil {
		return d, nil, fmt.Errorf("results sender: %w", err)
	}
	dlq, err := sb.NewReceiverForQueue(cfg.ArrivalsQueue, &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
	if err != nil {
		return d, nil, fmt.Errorf("arrivals dead-letter receiver: %w", err)
	}
	d.Arrivals, d.Results, d.DeadLetters = arrivals, res, dlq
	if d.Queue, err = queueCounter(cfg, cred); err != nil {
		return d, nil, err
	}
	closeAll := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = arrivals.Close(ctx)
		_ = res.Close(ctx)
		_ = dlq.Close(ctx)
		_ = sb.Close(ctx)
	}
	return d, closeAll, nil
}

// queueCounter reads the arrivals queue's depth for the Status page with
// the Service Bus management client. The Service Bus emulator has no
// management API, so against it the depth is unknown.
func queueCounter(cfg *config.Config, cred azcore.TokenCredential) (statusapi.QueueCounter, error) {
	var (
		ac  *admin.Client
		err error
	)
	switch {
	case cfg.ServiceBusConn != "" && strings.Contains(strings.ToLower(cfg.ServiceBusConn), "usedevelopmentemulator=true"):
		return fixedQueue("the Service Bus emulator has no management API"), nil
	case cfg.ServiceBusConn != "":
		ac, err = admin.NewClientFromConnectionString(cfg.ServiceBusConn, nil)
	default:
		ac, err = admin.NewClient(cfg.ServiceBusNamespace, cred, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("service bus management client: %w", err)
	}
	return &queueDepth{admin: ac, name: cfg.ArrivalsQueue, now: time.Now}, nil
}

// loopbackHTTP reports whether endpoint is plain HTTP on this machine (an
// emulator), where credentials over HTTP are acceptable.
func loopbackHTTP(endpoint string) bool {
	u, err := url.Parse(endpoint)
	return err == nil && u.Scheme == "http" && config.IsLoopback(u.Hostname())
}
