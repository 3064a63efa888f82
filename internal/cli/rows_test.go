package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// azuriteClients starts Azurite with the input, output and status
// containers and returns clients of it; Batch and Service Bus cannot be
// reached (their parts of a view are missing).
func azuriteClients(t *testing.T) *clients {
	t.Helper()
	az := azuritetest.Start(t)
	ep := localstack.Endpoints{
		StorageConnection: az.ConnectionString, InputContainer: "input", OutputContainer: "output",
		StatusContainer: "ffbatch-status", BatchEndpoint: "http://127.0.0.1:1", BatchAccount: "acct",
		BatchKey: "a2V5", JobID: "job", ServiceBusHTTP: "http://127.0.0.1:1",
	}
	c, err := newClients(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	for _, n := range []string{"input", "output", "ffbatch-status"} {
		if _, err := c.blobs.CreateContainer(context.Background(), n, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// A refresh of status and watch makes each file's view from its record's
// metadata (a List Blobs page per 1,000 records): it reads no status
// document of a file in flight, so its cost does not grow with the
// documents. Here every document is unreadable; the views still come.
// Only a file that ended without an MP3 has its document read (its full
// reason).
func TestFilesReadNoDocumentInFlight(t *testing.T) {
	ctx := context.Background()
	c := azuriteClients(t)
	t0 := time.Now()
	store := c.store()
	names := []string{"a.mp4", "b.mp4", "c.mp4"}
	for _, name := range names {
		if _, err := c.blobs.UploadBuffer(ctx, "input", name, []byte("mp4"), nil); err != nil {
			t.Fatal(err)
		}
		r := request.Request{ID: "r-" + name, Version: request.Version{Container: "input", Blob: name, ETag: "0x1", Size: 3},
			Preset: "mp3-192k-cbr", Output: strings.TrimSuffix(name, ".mp4") + ".mp3", Source: request.SourceMessage}
		if _, err := store.Update(ctx, "input", name, func(rec *lifecycle.Record) lifecycle.Change {
			if name == "c.mp4" {
				return rec.Refuse(r, results.StateRejected, &results.Rejection{Reason: "too-big", Message: "a long reason"}, t0)
			}
			return rec.Submit(r, t0)
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Spoil the documents of a and b, keeping their metadata (the rows).
	status := c.blobs.ServiceClient().NewContainerClient("ffbatch-status")
	for _, name := range names[:2] {
		bc := status.NewBlockBlobClient(lifecycle.RecordName("input", name))
		p, err := bc.GetProperties(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bc.UploadBuffer(ctx, []byte("not json"), &azblob.UploadBufferOptions{Metadata: p.Metadata}); err != nil {
			t.Fatal(err)
		}
	}
	files, problems := c.files(ctx)
	if len(problems) > 0 {
		t.Fatalf("problems %v: a document was read", problems)
	}
	if len(files) != 3 || files[0].State != results.StateSubmitted || files[1].State != results.StateSubmitted {
		t.Fatalf("files = %+v, want a and b submitted and c", files)
	}
	if c := files[2]; c.State != results.StateRejected || c.Reason != "too-big: a long reason" || c.Record == nil {
		t.Fatalf("c = %+v, want rejected with its full reason from its document", c)
	}
}
