package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/blobaccess"
)

// storage is the blob side of the tutorial: containers, uploads, SAS URLs.
// SAS URLs come from internal/blobaccess, the same signer the function app
// uses: read-only for one blob, create/write-only for the output container.
type storage struct {
	client *azblob.Client
	signer *blobaccess.Signer
}

func newStorage(connectionString string, allowHTTP bool) (*storage, error) {
	acct, err := blobaccess.ParseConnectionString(connectionString)
	if err != nil {
		return nil, err
	}
	cred, err := azblob.NewSharedKeyCredential(acct.Name, acct.Key)
	if err != nil {
		return nil, fmt.Errorf("storage credential: %w", err)
	}
	signer, err := blobaccess.NewAccountKeySigner(acct.BlobURL, cred, &blobaccess.Options{AllowHTTP: allowHTTP})
	if err != nil {
		return nil, fmt.Errorf("storage signer: %w", err)
	}
	client, err := azblob.NewClientFromConnectionString(connectionString, nil)
	if err != nil {
		return nil, fmt.Errorf("storage client: %w", err)
	}
	return &storage{client: client, signer: signer}, nil
}

func (s *storage) ensureContainer(ctx context.Context, name string) error {
	_, err := s.client.CreateContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("create container %s: %w", name, err)
	}
	return nil
}

func (s *storage) deleteContainer(ctx context.Context, name string) error {
	_, err := s.client.DeleteContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerNotFound) {
		return fmt.Errorf("delete container %s: %w", name, err)
	}
	return nil
}

func (s *storage) upload(ctx context.Context, container, blobName, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	defer f.Close()
	if _, err := s.client.UploadFile(ctx, container, blobName, f, nil); err != nil {
		return fmt.Errorf("upload %s to %s/%s: %w", path, container, blobName, err)
	}
	return nil
}

func (s *storage) download(ctx context.Context, container, blobName, path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("download %s/%s: %w", container, blobName, err)
	}
	defer f.Close()
	n, err := s.client.DownloadFile(ctx, container, blobName, f, nil)
	if err != nil {
		return 0, fmt.Errorf("download %s/%s: %w", container, blobName, err)
	}
	return n, nil
}

// blobReadURL is a read-only SAS URL for one blob (the sample attaches a
// container read SAS to the blob URL; a blob-scoped SAS grants less).
func (s *storage) blobReadURL(ctx context.Context, container, blobName string, expiry time.Duration) (string, error) {
	return s.signer.ReadBlobURL(ctx, container, blobName, expiry)
}

// containerWriteURL is a create/write-only SAS URL for the output container.
func (s *storage) containerWriteURL(ctx context.Context, container string, expiry time.Duration) (string, error) {
	return s.signer.WriteContainerURL(ctx, container, expiry)
}
