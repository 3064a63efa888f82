package results

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/arrival"
)

// State is a file's state in the status store.
type State string

const (
	StateQueued    State = "queued"    // arrival sent, not yet a task
	StateSubmitted State = "submitted" // task added to Batch
	StateRunning   State = "running"   // reported by Status from the live task
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateRejected  State = "rejected"
)

func (s State) rank() int {
	switch s {
	case StateQueued:
		return 0
	case StateSubmitted:
		return 1
	case StateRunning:
		return 2
	case StateSucceeded, StateFailed, StateRejected:
		return 3
	}
	return -1
}

// Terminal reports whether s is final for a file version.
func (s State) Terminal() bool { return s.rank() == 3 }

// FileStatus is the status document of one input file (its latest
// version).
type FileStatus struct {
	Container string     `json:"container"`
	Blob      string     `json:"blob"`
	ETag      string     `json:"etag"`
	State     State      `json:"state"`
	TaskID    string     `json:"taskId,omitempty"`
	Preset    string     `json:"preset,omitempty"`
	Resubmits int        `json:"resubmits"`
	Output    *Output    `json:"output,omitempty"`
	Failure   *Failure   `json:"failure,omitempty"`
	Rejection *Rejection `json:"rejection,omitempty"`
	// Content is what this version asks to produce when its arrival
	// carried a content MD5; nil otherwise.
	Content *Content `json:"content,omitempty"`
	// Arrival is the arrival the current attempt was submitted for, so
	// SweepPools can resubmit the file if its task is lost. Documents
	// written before it was recorded lack it.
	Arrival *arrival.Arrival `json:"arrival,omitempty"`

	QueuedAt    time.Time `json:"queuedAt,omitzero"`
	SubmittedAt time.Time `json:"submittedAt,omitzero"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Content identifies the work a version asks for, independent of its
// ETag: the same bytes (by Content-MD5 and size) to the same output with
// the same preset. Only versions whose arrival carried a content MD5 have
// one.
type Content struct {
	MD5    string `json:"md5"`
	Size   int64  `json:"size"`
	Preset string `json:"preset"`
	Output string `json:"output"`
}

// Repeats reports whether u asks for work the version in cur has done or
// is doing, so it must not start a second task: both carry the same
// Content and either cur is another version that succeeded or is
// submitted or running, or cur is the same version, already succeeded
// (a repeat of its arrival). A queued cur does not count (its arrival may
// yet be lost); failed and rejected versions do not count (an identical
// re-upload retries them). Without Content nothing repeats.
func (u *FileStatus) Repeats(cur *FileStatus) bool {
	if cur == nil || u.Content == nil || cur.Content == nil || *u.Content != *cur.Content {
		return false
	}
	if u.ETag == cur.ETag {
		return cur.State == StateSucceeded && u.Resubmits <= cur.Resubmits
	}
	switch cur.State {
	case StateSubmitted, StateRunning, StateSucceeded:
		return true
	}
	return false
}

// supersedes reports whether u should replace cur. An update that Repeats
// cur never does. A different ETag is a
// different version: only an update that starts a version (queued,
// submitted, rejected) replaces it, so a late sweep report about an older
// version cannot overwrite a newer one. For the same version, progress is
// ordered by (resubmits, state rank); equal keys let terminal updates
// refresh details idempotently.
func (u *FileStatus) supersedes(cur *FileStatus) bool {
	if cur == nil {
		return true
	}
	if u.Repeats(cur) {
		return false
	}
	if u.ETag != cur.ETag {
		return u.State == StateQueued || u.State == StateSubmitted || u.State == StateRejected
	}
	if u.Resubmits != cur.Resubmits {
		return u.Resubmits > cur.Resubmits
	}
	return u.State.rank() >= cur.State.rank()
}

// merge keeps earlier milestones the update does not carry.
func (u *FileStatus) merge(cur *FileStatus) {
	if cur == nil || cur.ETag != u.ETag {
		return
	}
	if u.QueuedAt.IsZero() {
		u.QueuedAt = cur.QueuedAt
	}
	if u.SubmittedAt.IsZero() && u.Resubmits == cur.Resubmits {
		u.SubmittedAt = cur.SubmittedAt
	}
	if u.TaskID == "" {
		u.TaskID = cur.TaskID
	}
	if u.Preset == "" {
		u.Preset = cur.Preset
	}
	if u.Content == nil {
		u.Content = cur.Content
	}
	if u.Arrival == nil {
		u.Arrival = cur.Arrival
	}
}

// InFlight reports whether s is a state in which a Batch task should
// exist for the file.
func (s State) InFlight() bool { return s == StateSubmitted || s == StateRunning }

// ErrNotFound is returned by Get for a file without a status document.
var ErrNotFound = errors.New("no status for this file")

// StatusStore keeps FileStatus documents as blobs named by
// arrival.FileKey in one container. Safe for concurrent use; concurrent
// writers are serialised by ETag conditions.
type StatusStore struct {
	c   *container.Client
	now func() time.Time
	// pageSize is ListInFlight's listing page size (tests make it small).
	pageSize int32
}

// NewStatusStore returns a store over the container client c; now is the
// clock for UpdatedAt (nil means time.Now).
func NewStatusStore(c *container.Client, now func() time.Time) *StatusStore {
	if now == nil {
		now = time.Now
	}
	return &StatusStore{c: c, now: now, pageSize: inFlightPage}
}

// Blob metadata of a status document, so a listing tells what a document
// holds without reading it: stateMetadata is the state (Summarize counts
// states by it); taskMetadata the task id of an in-flight document, and
// containerMetadata and blobMetadata the file (the blob name
// path-escaped, as metadata values must be ASCII), so ListInFlight needs no
// reads. Documents written before the task id was recorded lack the last
// three.
const (
	stateMetadata     = "state"
	taskMetadata      = "taskid"
	containerMetadata = "container"
	blobMetadata      = "blob"
)

// metadata is the blob metadata recorded with st.
func metadata(st *FileStatus) map[string]*string {
	md := map[string]*string{stateMetadata: to.Ptr(string(st.State))}
	if st.TaskID != "" {
		md[taskMetadata] = to.Ptr(st.TaskID)
		md[containerMetadata] = to.Ptr(st.Container)
		md[blobMetadata] = to.Ptr(url.PathEscape(st.Blob))
	}
	return md
}

// metaValue is the value of key in listed metadata ("" when absent). Some
// servers return metadata keys capitalised.
func metaValue(md map[string]*string, key string) string {
	for k, v := range md {
		if strings.EqualFold(k, key) && v != nil {
			return *v
		}
	}
	return ""
}

func blobName(containerName, blobName string) string {
	return arrival.FileKey(containerName, blobName) + ".json"
}

// Get returns the status of a file.
func (s *StatusStore) Get(ctx context.Context, containerName, name string) (*FileStatus, error) {
	st, _, err := s.read(ctx, blobName(containerName, name))
	if err != nil {
		return nil, fmt.Errorf("get status of %s/%s: %w", containerName, name, err)
	}
	if st == nil {
		return nil, fmt.Errorf("get status of %s/%s: %w", containerName, name, ErrNotFound)
	}
	return st, nil
}

func (s *StatusStore) read(ctx context.Context, name string) (*FileStatus, *azcore.ETag, error) {
	resp, err := s.c.NewBlobClient(name).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	var st FileStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil, fmt.Errorf("decode status document: %w", err)
	}
	return &st, resp.ETag, nil
}

// maxUpdateAttempts bounds the optimistic-concurrency loop.
const maxUpdateAttempts = 8

// Put records u unless the stored document is newer (see supersedes).
// It reports whether u was written.
func (s *StatusStore) Put(ctx context.Context, u FileStatus) (bool, error) {
	written, _, err := s.put(ctx, u)
	return written, err
}

// Claim records u, like Put, unless u repeats the work of the stored
// document (see FileStatus.Repeats); then it writes nothing and returns
// that document. The read and the conditional write make this atomic:
// of two racing claims for identical content under different versions,
// exactly one is recorded and the other gets the winner's document. A nil
// document and nil error mean u may go ahead (it was recorded, or the
// store holds a newer state of the same version).
func (s *StatusStore) Claim(ctx context.Context, u FileStatus) (*FileStatus, error) {
	_, holder, err := s.put(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return holder, nil
}

// put implements Put and Claim: it returns whether u was written and, when
// it was not because u repeats the stored document, that document.
func (s *StatusStore) put(ctx context.Context, u FileStatus) (bool, *FileStatus, error) {
	name := blobName(u.Container, u.Blob)
	createdContainer := false
	for range maxUpdateAttempts {
		cur, etag, err := s.read(ctx, name)
		if err != nil {
			return false, nil, fmt.Errorf("put status of %s/%s: %w", u.Container, u.Blob, err)
		}
		if u.Repeats(cur) {
			return false, cur, nil
		}
		if !u.supersedes(cur) {
			return false, nil, nil
		}
		next := u
		next.merge(cur)
		next.UpdatedAt = s.now().UTC()
		body, err := json.Marshal(next)
		if err != nil {
			return false, nil, fmt.Errorf("put status: %w", err)
		}
		mod := &blob.ModifiedAccessConditions{}
		if etag != nil {
			mod.IfMatch = etag
		} else {
			anyTag := azcore.ETagAny
			mod.IfNoneMatch = &anyTag
		}
		ct := "application/json"
		_, err = s.c.NewBlockBlobClient(name).Upload(ctx, nopCloser{bytes.NewReader(body)}, &blockblob.UploadOptions{
			Metadata:         metadata(&next),
			HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: &ct},
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: mod},
		})
		switch {
		case err == nil:
			return true, nil, nil
		case bloberror.HasCode(err, bloberror.ContainerNotFound) && !createdContainer:
			createdContainer = true
			if _, cerr := s.c.Create(ctx, nil); cerr != nil && !bloberror.HasCode(cerr, bloberror.ContainerAlreadyExists) {
				return false, nil, fmt.Errorf("put status: create container: %w", cerr)
			}
		case bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists):
			// Another writer got there first: read again and re-decide.
		default:
			return false, nil, fmt.Errorf("put status of %s/%s: %w", u.Container, u.Blob, err)
		}
	}
	return false, nil, fmt.Errorf("put status of %s/%s: gave up after %d conflicting writes", u.Container, u.Blob, maxUpdateAttempts)
}

// Summary counts files by state, reading at most limit documents' metadata.
// Truncated is true when more documents exist.
type Summary struct {
	Counts    map[State]int `json:"counts"`
	Total     int           `json:"total"`
	Truncated bool          `json:"truncated"`
}

// Summarize lists the store and counts states.
func (s *StatusStore) Summarize(ctx context.Context, limit int) (Summary, error) {
	sum := Summary{Counts: map[State]int{}}
	pager := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return sum, nil
		}
		if err != nil {
			return sum, fmt.Errorf("summarize status: %w", err)
		}
		for _, item := range page.Segment.BlobItems {
			if sum.Total >= limit {
				sum.Truncated = true
				return sum, nil
			}
			sum.Total++
			sum.Counts[itemState(item.Metadata)]++
		}
	}
	return sum, nil
}

// inFlightPage is the listing page size of ListInFlight.
const inFlightPage = 1000

// Candidate is an in-flight status document as a listing shows it.
type Candidate struct {
	Container string
	Blob      string
	State     State
	TaskID    string
	// LastModified is when the document was last written (server time).
	LastModified time.Time
	// Doc is the whole document, read because its metadata lacks the task
	// id (written before it was recorded); nil for a listed candidate.
	Doc *FileStatus
}

// ListInFlight returns the status documents whose state is submitted or
// running and that were last written before before, starting at marker
// ("" for the beginning). It stops at the end of the first listing page
// (of 1,000 documents) at which it holds at least limit candidates, and
// returns the marker to continue from ("" when the listing is complete),
// so a caller can cover a large store over several calls. The listing
// carries each document's state, task id and file in its metadata and its
// last write time, so the cost is one List Blobs request per 1,000
// documents. Only documents written before the task id was recorded in
// metadata are read (see Candidate.Doc); those no longer in flight when
// read are left out.
func (s *StatusStore) ListInFlight(ctx context.Context, before time.Time, limit int, marker string) ([]Candidate, string, error) {
	var out []Candidate
	opts := &container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}, MaxResults: to.Ptr(s.pageSize)}
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
			if item.Name == nil || item.Properties == nil || item.Properties.LastModified == nil ||
				!item.Properties.LastModified.Before(before) || !itemState(item.Metadata).InFlight() {
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

// candidate builds the Candidate of a listed in-flight document, from its
// metadata when that records the task id, else by reading it. ok is false
// when the document read is no longer in flight.
func (s *StatusStore) candidate(ctx context.Context, name string, md map[string]*string, modified time.Time) (Candidate, bool, error) {
	taskID, cont, escaped := metaValue(md, taskMetadata), metaValue(md, containerMetadata), metaValue(md, blobMetadata)
	if taskID != "" && cont != "" && escaped != "" {
		b, err := url.PathUnescape(escaped)
		if err != nil {
			return Candidate{}, false, fmt.Errorf("%s: blob metadata %q: %w", name, escaped, err)
		}
		return Candidate{Container: cont, Blob: b, State: itemState(md), TaskID: taskID, LastModified: modified}, true, nil
	}
	st, _, err := s.read(ctx, name)
	if err != nil {
		return Candidate{}, false, fmt.Errorf("read %s: %w", name, err)
	}
	if st == nil || !st.State.InFlight() {
		return Candidate{}, false, nil
	}
	return Candidate{Container: st.Container, Blob: st.Blob, State: st.State, TaskID: st.TaskID, LastModified: modified, Doc: st}, true, nil
}

// InFlight is ListInFlight with every candidate's whole document: it
// reads each one, leaving out those no longer in flight.
func (s *StatusStore) InFlight(ctx context.Context, before time.Time, limit int, marker string) ([]FileStatus, string, error) {
	cands, next, err := s.ListInFlight(ctx, before, limit, marker)
	if err != nil {
		return nil, "", err
	}
	out := make([]FileStatus, 0, len(cands))
	for _, c := range cands {
		st := c.Doc
		if st == nil {
			name := blobName(c.Container, c.Blob)
			if st, _, err = s.read(ctx, name); err != nil {
				return nil, "", fmt.Errorf("list in-flight status: read %s: %w", name, err)
			}
		}
		if st != nil && st.State.InFlight() {
			out = append(out, *st)
		}
	}
	return out, next, nil
}

// itemState is the state recorded in a listed document's metadata (queued
// when absent).
func itemState(md map[string]*string) State {
	if v := metaValue(md, stateMetadata); v != "" {
		return State(v)
	}
	return StateQueued
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
