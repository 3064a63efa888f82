package cli

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/arrival/arrivalmsg"
	"github.com/ffbatch/ffbatch/internal/request"
)

// arrivalFor is the arrival for the current version of blobName in the
// input container: its ETag and size read from the blob.
func (c *clients) arrivalFor(ctx context.Context, blobName string) (arrival.Arrival, error) {
	props, err := c.blobs.ServiceClient().NewContainerClient(c.ep.InputContainer).NewBlobClient(blobName).GetProperties(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return arrival.Arrival{}, fmt.Errorf("blob %s/%s does not exist: upload it first (ffbatch submit FILE without --message)", c.ep.InputContainer, blobName)
	}
	if err != nil {
		return arrival.Arrival{}, fmt.Errorf("read blob %s/%s: %w", c.ep.InputContainer, blobName, err)
	}
	a := arrival.Arrival{Version: request.Version{Container: c.ep.InputContainer, Blob: blobName}}
	if props.ETag != nil {
		a.ETag = arrival.NormalizeETag(string(*props.ETag))
	}
	if props.ContentLength != nil {
		a.Size = *props.ContentLength
	}
	return a, nil
}

// sendArrivals sends each arrival to the arrivals queue (the message
// arrivalmsg builds for it, as every producer does) and calls sent after
// each; it stops at the first failure.
func (c *clients) sendArrivals(ctx context.Context, as []arrival.Arrival, sent func(arrival.Arrival)) error {
	sb, err := c.serviceBus()
	if err != nil {
		return err
	}
	sender, err := sb.NewSender(c.ep.ArrivalsQueue, nil)
	if err != nil {
		return fmt.Errorf("sender for %s: %w", c.ep.ArrivalsQueue, err)
	}
	defer sender.Close(context.Background())
	for _, a := range as {
		m, err := arrivalmsg.New(a)
		if err != nil {
			return err
		}
		if err := sender.SendMessage(ctx, m, nil); err != nil {
			return fmt.Errorf("send arrival for %s: %w", a.Blob, err)
		}
		sent(a)
	}
	return nil
}
