package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/results"
)

// inFlightPage is the listing page size of ListInFlight.
const inFlightPage = 1000

// Candidate is a record with tasks in flight or requests waiting in
// queued, as a listing shows it.
type Candidate struct {
	Container string
	Blob      string
	TaskIDs   []string
	// Waiting is set when a request waits in queued (metadata "waiting",
	// or the current request's state for records written before the key).
	Waiting bool
	// LastModified is when the record was last written (server time).
	LastModified time.Time
}

// ListInFlight returns the records that own tasks in flight or hold
// requests waiting in queued, and were last written before before, starting at marker ("" for the beginning). It
// stops at the end of the first listing page (of 1,000 records) at which
// it holds at least limit candidates, and returns the marker to continue
// from ("" when the listing is complete). Records carry their in-flight
// task ids and file in metadata, so the cost is one List Blobs request per
// 1,000 records and no reads (but for a file whose name was too long for
// the metadata and the record name: its record is read for the name).
func (s *Store) ListInFlight(ctx context.Context, before time.Time, limit int, marker string) ([]Candidate, string, error) {
	var out []Candidate
	opts := &container.ListBlobsFlatOptions{Prefix: to.Ptr(RecordPrefix), Include: container.ListBlobsInclude{Metadata: true}, MaxResults: to.Ptr(s.pageSize)}
	if marker != "" {
		opts.Marker = &marker
	}
	pager := s.c.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return out, "", nil
		}
		if err != nil {
			return out, "", fmt.Errorf("list in-flight status: %w", err)
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name == nil || item.Properties == nil || item.Properties.LastModified == nil || !item.Properties.LastModified.Before(before) {
				continue
			}
			c, ok, err := s.candidate(ctx, *item.Name, item.Metadata, *item.Properties.LastModified)
			if err != nil {
				return out, "", fmt.Errorf("list in-flight status: %w", err)
			}
			if ok {
				out = append(out, c)
			}
		}
		if len(out) >= limit && page.NextMarker != nil && *page.NextMarker != "" {
			return out, *page.NextMarker, nil
		}
	}
	return out, "", nil
}

// candidate builds the Candidate of a listed record from its metadata; ok
// is false when it owns no task in flight and no request waits.
func (s *Store) candidate(ctx context.Context, name string, md map[string]*string, modified time.Time) (Candidate, bool, error) {
	tasks := strings.Fields(metaValue(md, mdTasks))
	row := rowFromListing(name, md, modified)
	waiting := metaValue(md, mdWaiting) == "1" || row.State == results.StateQueued
	if len(tasks) == 0 && !waiting {
		return Candidate{}, false, nil
	}
	if row.BlobCut {
		var rec Record
		if _, err := s.read(ctx, name, &rec); err != nil {
			return Candidate{}, false, fmt.Errorf("%s: read the file name: %w", name, err)
		}
		row.Container, row.Blob = rec.Container, rec.Blob
	}
	return Candidate{Container: row.Container, Blob: row.Blob, TaskIDs: tasks, Waiting: waiting, LastModified: modified}, true, nil
}
