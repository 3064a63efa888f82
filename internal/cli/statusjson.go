package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// statusPage builds the Status API's page (GET /api/status, docs/status-
// api.md) from the stack's clients with the code the Status function
// uses, so `status` and `status --json` show the same document: the first
// limit files of the input container in name order (1 to
// lifecycle.MaxRowLimit), and with all every file, the rows of every page
// in one (no next).
func (c *clients) statusPage(ctx context.Context, limit int, all bool) (statusapi.Page, error) {
	acct, err := blobaccess.ParseConnectionString(c.ep.StorageConnection)
	if err != nil {
		return statusapi.Page{}, err
	}
	cred, err := azblob.NewSharedKeyCredential(acct.Name, acct.Key)
	if err != nil {
		return statusapi.Page{}, fmt.Errorf("storage credential: %w", err)
	}
	signer, err := blobaccess.NewAccountKeySigner(acct.BlobURL, cred, &blobaccess.Options{AllowHTTP: true})
	if err != nil {
		return statusapi.Page{}, fmt.Errorf("sas signer: %w", err)
	}
	store := lifecycle.NewStore(c.blobs.ServiceClient().NewContainerClient(c.ep.StatusContainer), nil)
	b := statusapi.New(statusapi.Sources{Store: store, Batch: c.batch, Signer: signer, Queue: emulatorQueue{c}}, statusapi.Config{
		Containers: []string{c.ep.InputContainer}, OutputContainer: c.ep.OutputContainer, LogsPrefix: c.ep.LogsPrefix,
		PoolID: c.ep.PoolID, JobID: c.ep.JobID, QueueName: c.ep.ArrivalsQueue,
	})
	q := statusapi.Query{Container: c.ep.InputContainer, Limit: limit}
	page := b.Build(ctx, q)
	for all && page.Next != "" {
		q.Marker = page.Next
		more := b.Build(ctx, q)
		page.Rows, page.Next = append(page.Rows, more.Rows...), more.Next
		page.Scan.Listed, page.Scan.Requests = page.Scan.Listed+more.Scan.Listed, page.Scan.Requests+more.Scan.Requests
		for _, pr := range more.Problems {
			if !slices.Contains(page.Problems, pr) {
				page.Problems = append(page.Problems, pr)
			}
		}
	}
	return page, nil
}

// printStatusJSON prints the page of limit rows (every row with all),
// with only the rows of blobs when any are named (of the first
// lifecycle.MaxRowLimit files, as before --limit).
func printStatusJSON(ctx context.Context, w io.Writer, c *clients, blobs []string, limit int, all bool) error {
	if len(blobs) > 0 {
		limit = lifecycle.MaxRowLimit
	}
	page, err := c.statusPage(ctx, limit, all)
	if err != nil {
		return err
	}
	if len(blobs) > 0 {
		page.Rows = slices.DeleteFunc(page.Rows, func(r statusapi.Row) bool { return !slices.Contains(blobs, r.Blob) })
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(page)
}

// emulatorQueue reads the arrivals queue's depth from the Service Bus
// emulator's /entities (the emulator has no management API).
type emulatorQueue struct{ c *clients }

func (q emulatorQueue) QueueCounts(ctx context.Context) statusapi.Queue {
	active, scheduled, err := localstack.QueueDepth(ctx, q.c.http, q.c.ep, q.c.ep.ArrivalsQueue)
	if err != nil {
		return statusapi.Queue{Reason: "the Service Bus emulator's /entities could not be read"}
	}
	return statusapi.Queue{Known: true, Active: int64(active), Scheduled: int64(scheduled)}
}
