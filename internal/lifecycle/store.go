package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Blob names in the status container: one record per input blob (under
// RecordPrefix, named by RecordName), one claim per output blob, and the
// activity summary.
const (
	RecordPrefix = "files/"
	OutputPrefix = "outputs/"
	ActivityName = "activity.json"
)

// ErrNotFound is returned by Get for a blob without a record.
var ErrNotFound = errors.New("no status for this file")

// ErrCorrupt is returned (wrapped) for a stored document that is not the
// JSON it should be: reading it again cannot succeed.
var ErrCorrupt = errors.New("document is not valid JSON")

// maxUpdateAttempts bounds the optimistic-concurrency loop.
const maxUpdateAttempts = 8

// maxDocBytes bounds a document read.
const maxDocBytes = 4 << 20

// Store keeps Records (and output claims) as JSON blobs in one container.
// Safe for concurrent use; concurrent writers are serialised by ETag
// conditions.
type Store struct {
	c   *container.Client
	now func() time.Time
	// pageSize is the listing page size of ListInFlight and of ListRows'
	// state-filtered scans (tests make it small).
	pageSize int32
}

// NewStore returns a store over the container client c; now is the clock
// for UpdatedAt (nil means time.Now).
func NewStore(c *container.Client, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{c: c, now: now, pageSize: inFlightPage}
}

// Get returns the record of a blob.
func (s *Store) Get(ctx context.Context, containerName, blobName string) (*Record, error) {
	var rec Record
	_, err := s.read(ctx, RecordName(containerName, blobName), &rec)
	if err != nil {
		return nil, fmt.Errorf("get status of %s/%s: %w", containerName, blobName, err)
	}
	return &rec, nil
}

// read decodes the document name into v and returns its ETag; ErrNotFound
// when it does not exist.
func (s *Store) read(ctx context.Context, name string, v any) (*azcore.ETag, error) {
	resp, err := s.c.NewBlobClient(name).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", name, ErrCorrupt, err)
	}
	return resp.ETag, nil
}

// Update runs the transition fn on the current record of a blob (a new,
// empty one if there is none) and writes the result if fn changed it,
// under an ETag condition; on a conflict it reads again and re-runs fn, so
// fn must decide from the record alone. It returns fn's Change from the
// run that was written (or that changed nothing).
func (s *Store) Update(ctx context.Context, containerName, blobName string, fn func(*Record) Change) (Change, error) {
	name := RecordName(containerName, blobName)
	for range maxUpdateAttempts {
		var rec Record
		etag, err := s.read(ctx, name, &rec)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Change{}, fmt.Errorf("update status of %s/%s: %w", containerName, blobName, err)
		}
		rec.Container, rec.Blob = containerName, blobName
		ch := fn(&rec)
		if !ch.dirty {
			return ch, nil
		}
		rec.trim()
		rec.UpdatedAt = s.now().UTC()
		done, err := s.write(ctx, name, rec, metadata(&rec), etag)
		if err != nil {
			return Change{}, fmt.Errorf("update status of %s/%s: %w", containerName, blobName, err)
		}
		if done {
			return ch, nil
		}
	}
	return Change{}, fmt.Errorf("update status of %s/%s: gave up after %d conflicting writes", containerName, blobName, maxUpdateAttempts)
}

// UpdateNew is Update for a blob that probably has no record yet (a
// message's first request for it): it first writes fn's result on an empty
// record as a new record, one request instead of a read and a write, and
// falls back to Update when a record exists.
func (s *Store) UpdateNew(ctx context.Context, containerName, blobName string, fn func(*Record) Change) (Change, error) {
	rec := Record{Container: containerName, Blob: blobName}
	ch := fn(&rec)
	if !ch.dirty {
		return s.Update(ctx, containerName, blobName, fn)
	}
	rec.trim()
	rec.UpdatedAt = s.now().UTC()
	done, err := s.write(ctx, RecordName(containerName, blobName), rec, metadata(&rec), nil)
	if err != nil {
		return Change{}, fmt.Errorf("update status of %s/%s: %w", containerName, blobName, err)
	}
	if done {
		return ch, nil
	}
	return s.Update(ctx, containerName, blobName, fn)
}

// write uploads v as name if its ETag is still etag (nil: if it does not
// exist yet). It reports false when another writer got there first.
func (s *Store) write(ctx context.Context, name string, v any, md map[string]*string, etag *azcore.ETag) (bool, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	mod := &blob.ModifiedAccessConditions{}
	if etag != nil {
		mod.IfMatch = etag
	} else {
		mod.IfNoneMatch = to.Ptr(azcore.ETagAny)
	}
	opts := &blockblob.UploadOptions{
		Metadata:         md,
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: mod},
	}
	for created := false; ; created = true {
		_, err = s.c.NewBlockBlobClient(name).Upload(ctx, nopCloser{bytes.NewReader(body)}, opts)
		switch {
		case err == nil:
			return true, nil
		case bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists):
			return false, nil
		case bloberror.HasCode(err, bloberror.ContainerNotFound) && !created:
			if _, cerr := s.c.Create(ctx, nil); cerr != nil && !bloberror.HasCode(cerr, bloberror.ContainerAlreadyExists) {
				return false, fmt.Errorf("create container: %w", cerr)
			}
		default:
			return false, err
		}
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
