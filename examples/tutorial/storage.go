package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// storage is the blob side of the tutorial: containers, uploads, SAS URLs.
type storage struct {
	client   *azblob.Client
	cred     *azblob.SharedKeyCredential
	endpoint string // account blob endpoint without a trailing slash
}

func newStorage(connectionString string) (*storage, error) {
	fields := map[string]string{}
	for _, part := range strings.Split(connectionString, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok {
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	name, key := fields["accountname"], fields["accountkey"]
	if name == "" || key == "" {
		return nil, errors.New("storage connection string: AccountName and AccountKey are required (the tutorial signs SAS URLs with the account key)")
	}
	endpoint := fields["blobendpoint"]
	if endpoint == "" {
		proto := fields["defaultendpointsprotocol"]
		if proto == "" {
			proto = "https"
		}
		suffix := fields["endpointsuffix"]
		if suffix == "" {
			suffix = "core.windows.net"
		}
		endpoint = fmt.Sprintf("%s://%s.blob.%s", proto, name, suffix)
	}
	cred, err := azblob.NewSharedKeyCredential(name, key)
	if err != nil {
		return nil, fmt.Errorf("storage credential: %w", err)
	}
	client, err := azblob.NewClientFromConnectionString(connectionString, nil)
	if err != nil {
		return nil, fmt.Errorf("storage client: %w", err)
	}
	return &storage{client: client, cred: cred, endpoint: strings.TrimSuffix(endpoint, "/")}, nil
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
func (s *storage) blobReadURL(container, blobName string, expiry time.Duration) (string, error) {
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().UTC().Add(expiry),
		Permissions:   (&sas.BlobPermissions{Read: true}).String(),
		ContainerName: container,
		BlobName:      blobName,
	}.SignWithSharedKey(s.cred)
	if err != nil {
		return "", fmt.Errorf("sign read SAS for %s/%s: %w", container, blobName, err)
	}
	return s.endpoint + "/" + container + "/" + escapeBlobName(blobName) + "?" + qp.Encode(), nil
}

// containerWriteURL is a create/write-only SAS URL for the output container.
func (s *storage) containerWriteURL(container string, expiry time.Duration) (string, error) {
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().UTC().Add(expiry),
		Permissions:   (&sas.ContainerPermissions{Create: true, Write: true}).String(),
		ContainerName: container,
	}.SignWithSharedKey(s.cred)
	if err != nil {
		return "", fmt.Errorf("sign write SAS for %s: %w", container, err)
	}
	return s.endpoint + "/" + container + "?" + qp.Encode(), nil
}

func escapeBlobName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
