package executor

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/ffbatch/ffbatch/internal/azurite"
)

// One Azurite serves the whole package; it starts on first use so that tests
// which need no storage do not pay for it, and TestMain stops it.
var (
	azuriteOnce sync.Once
	azuriteInst *azurite.Instance
	azuriteErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if azuriteInst != nil {
		azuriteInst.Stop()
	}
	os.Exit(code)
}

// azuriteAccountKey is Azurite's public, documented development key for
// devstoreaccount1 (the same value is compiled into Azurite itself). The copy in
// internal/azurite (azurite.AccountKey) does not decode as base64 at the time of
// writing, so this package uses its own copy; see the report to the lead.
const azuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// blobStore is a test view of the shared Azurite with shared-key access.
type blobStore struct {
	inst *azurite.Instance
	svc  *service.Client
}

var containerSeq atomic.Int64

func newBlobStore(t *testing.T) *blobStore {
	t.Helper()
	azuriteOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		azuriteInst, azuriteErr = azurite.Start(ctx, nil)
	})
	if azuriteErr != nil {
		t.Fatalf("start azurite: %v", azuriteErr)
	}
	cred, err := azblob.NewSharedKeyCredential(azuriteInst.AccountName, azuriteAccountKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.NewClientWithSharedKeyCredential(azuriteInst.BlobEndpoint+"/", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &blobStore{inst: azuriteInst, svc: svc}
}

func (s *blobStore) storageConfig() *StorageConfig {
	return &StorageConfig{BlobEndpoint: s.inst.BlobEndpoint, AccountName: s.inst.AccountName, AccountKey: azuriteAccountKey}
}

// newContainer creates a uniquely named container.
func (s *blobStore) newContainer(t *testing.T, prefix string) *container.Client {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, containerSeq.Add(1))
	c := s.svc.NewContainerClient(name)
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	return c
}

// missingContainer returns a client for a container that does not exist.
func (s *blobStore) missingContainer(t *testing.T) *container.Client {
	t.Helper()
	return s.svc.NewContainerClient(fmt.Sprintf("missing-%d", containerSeq.Add(1)))
}

func putBlob(t *testing.T, c *container.Client, name string, data []byte) {
	t.Helper()
	if _, err := c.NewBlockBlobClient(name).UploadBuffer(context.Background(), data, nil); err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
}

func getBlob(t *testing.T, c *container.Client, name string) ([]byte, bool) {
	t.Helper()
	resp, err := c.NewBlobClient(name).DownloadStream(context.Background(), nil)
	if err != nil {
		if isNotFound(err) {
			return nil, false
		}
		t.Fatalf("download %s: %v", name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b, true
}

func listBlobs(t *testing.T, c *container.Client) []string {
	t.Helper()
	var names []string
	pager := c.NewListBlobsFlatPager(nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, it := range page.Segment.BlobItems {
			names = append(names, *it.Name)
		}
	}
	return names
}

func containerSAS(t *testing.T, c *container.Client, p sas.ContainerPermissions) string {
	t.Helper()
	u, err := c.GetSASURL(p, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatalf("container SAS: %v", err)
	}
	return u
}

func blobSAS(t *testing.T, c *container.Client, name string) string {
	t.Helper()
	u, err := c.NewBlobClient(name).GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatalf("blob SAS: %v", err)
	}
	return u
}

var (
	readList  = sas.ContainerPermissions{Read: true, List: true}
	writeOnly = sas.ContainerPermissions{Create: true, Write: true}
)

// assertNoSecrets checks that no SAS signature or account key leaked into the
// logs, the failure, or the upload logs of taskDir.
func assertNoSecrets(t *testing.T, logs string, res Result, taskDir string) {
	t.Helper()
	texts := map[string]string{"logs": logs}
	if res.Failure != nil {
		texts["failure"] = fmt.Sprintf("%+v", *res.Failure)
	}
	for _, f := range []string{"fileuploadout.txt", "fileuploaderr.txt"} {
		if b, err := os.ReadFile(taskDir + "/" + f); err == nil {
			texts[f] = string(b)
		}
	}
	for where, text := range texts {
		for _, secret := range []string{"sig=", azuriteAccountKey, azurite.AccountKey} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a secret (%q): %s", where, secret, text)
			}
		}
	}
}
