package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/results"
)

// Bounds of ListRows.
const (
	// MaxRowLimit is the most rows one page asks for.
	MaxRowLimit = 1000
	// ScanPageSize is the listing page size of a state-filtered scan (the
	// store's page size), and MaxScanPages how many such pages one call
	// lists at most.
	ScanPageSize = inFlightPage
	MaxScanPages = 5
)

// RowQuery selects a page of rows of one container, in name order.
type RowQuery struct {
	Container string
	// Prefix keeps the files whose names start with it.
	Prefix string
	// States keeps the rows in one of these states (empty: every state).
	States []results.State
	// Marker continues the listing where an earlier page ended.
	Marker string
	// Limit is the number of rows wanted, 1 to MaxRowLimit.
	Limit int
}

// RowPage is one page of rows and what it cost.
type RowPage struct {
	Rows []Row
	// Next is the marker of the following page, "" at the end.
	Next string
	// Listed is how many records were listed, Requests the List Blobs
	// requests made.
	Listed, Requests int
	// Limited is set when a state filter stopped after MaxScanPages
	// listing pages with fewer than Limit rows (Next continues the scan).
	Limited bool
}

// ListRows returns a page of rows: without States, one List Blobs request
// of Limit records under the prefix; with States, listing pages of
// ScanPageSize records until Limit rows match (every match of the last
// page is kept, so a page may hold more than Limit rows), the listing
// ends, or MaxScanPages pages were listed. No record is read.
func (s *Store) ListRows(ctx context.Context, q RowQuery) (RowPage, error) {
	if q.Container == "" || q.Limit < 1 || q.Limit > MaxRowLimit {
		return RowPage{}, fmt.Errorf("list rows: container %q and limit %d (1 to %d) are required", q.Container, q.Limit, MaxRowLimit)
	}
	prefix, refilter := listingPrefix(q.Container, q.Prefix)
	size := int32(q.Limit)
	if len(q.States) > 0 {
		size = s.pageSize
	}
	opts := &container.ListBlobsFlatOptions{Prefix: to.Ptr(prefix), Include: container.ListBlobsInclude{Metadata: true}, MaxResults: to.Ptr(size)}
	if q.Marker != "" {
		opts.Marker = to.Ptr(q.Marker)
	}
	var page RowPage
	pager := s.c.NewListBlobsFlatPager(opts)
	for pager.More() {
		resp, err := pager.NextPage(ctx)
		page.Requests++
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return page, nil
		}
		if err != nil {
			return page, fmt.Errorf("list rows of %s: %w", q.Container, err)
		}
		page.Next = ""
		if resp.NextMarker != nil {
			page.Next = *resp.NextMarker
		}
		for _, item := range resp.Segment.BlobItems {
			page.Listed++
			if item.Name == nil {
				continue
			}
			var modified time.Time
			if item.Properties != nil && item.Properties.LastModified != nil {
				modified = *item.Properties.LastModified
			}
			row := rowFromListing(*item.Name, item.Metadata, modified)
			if q.keeps(row, refilter) {
				page.Rows = append(page.Rows, row)
			}
		}
		if len(q.States) == 0 || len(page.Rows) >= q.Limit || page.Next == "" {
			return page, nil
		}
		if page.Requests >= MaxScanPages {
			page.Limited = true
			return page, nil
		}
	}
	return page, nil
}

// keeps reports whether row belongs on the page; refilter checks the
// whole prefix against the name (the listing prefix was cut).
func (q RowQuery) keeps(row Row, refilter bool) bool {
	if row.Container != q.Container {
		return false // a record of another layout under the prefix
	}
	if len(q.States) > 0 && !slices.Contains(q.States, row.State) {
		return false
	}
	if refilter && !strings.HasPrefix(row.Blob, q.Prefix) {
		return row.BlobCut && strings.HasPrefix(q.Prefix, row.Blob)
	}
	return true
}
