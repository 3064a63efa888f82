// Command handler is the Azure Functions custom handler: the HTTP server
// the Functions host starts and invokes (POST /{FunctionName}). It reads
// its settings once, wires the real Batch, Service Bus and Blob clients
// (no network calls before serving) and serves until SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/handlers"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/results"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = os.Getenv("FUNCTIONS_HTTPWORKER_PORT")
	}
	if port == "" {
		return errors.New("FUNCTIONS_CUSTOMHANDLER_PORT is not set (the Functions host sets it)")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// stdout lines are logged by the host at Information, stderr at Error.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	deps, closeDeps, err := wire(cfg)
	if err != nil {
		return err
	}
	defer closeDeps()

	app := handlers.New(cfg, log, deps, nil)
	mux := customhandler.NewMux(log, nil)
	app.Register(mux)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("handler ready", "addr", ln.Addr().String(), "settings", cfg.Redacted())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// wire builds the clients. Nothing here touches the network: credentials
// fetch tokens and AMQP links open on first use.
func wire(cfg *config.Config) (handlers.Deps, func(), error) {
	var d handlers.Deps
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
	d.Blobs = blobs
	d.Status = results.NewStatusStore(blobs.ServiceClient().NewContainerClient(cfg.StatusContainer), nil)

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
	d.Arrivals, d.Results = arrivals, res
	closeAll := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = arrivals.Close(ctx)
		_ = res.Close(ctx)
		_ = sb.Close(ctx)
	}
	return d, closeAll, nil
}

// loopbackHTTP reports whether endpoint is plain HTTP on this machine (an
// emulator), where credentials over HTTP are acceptable.
func loopbackHTTP(endpoint string) bool {
	u, err := url.Parse(endpoint)
	return err == nil && u.Scheme == "http" && config.IsLoopback(u.Hostname())
}
