package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/request"
)

// JournalPrefix holds the journals not yet folded into records.
const JournalPrefix = "journal/"

// Journal is what one SubmitTasks invocation accepted: its requests, in
// message order, written as one blob before their tasks are added, so
// that every accepted request is durable with one write per invocation
// instead of one record write per request. Folding it (Fold) records each
// request in its file's record (Record.Submit); the journal is deleted
// once every file is folded, so a journal that exists may still hold
// requests that no record shows.
type Journal struct {
	// Name is the blob name (JournalName); not stored in the body.
	Name string `json:"-"`
	// AcceptedAt is when SubmitTasks accepted the requests: their
	// QueuedAt and SubmittedAt in the records.
	AcceptedAt time.Time         `json:"acceptedAt"`
	Requests   []request.Request `json:"requests"`
}

// JournalName names the journal of reqs by its content: a redelivery of
// the same batch rewrites the same blob, and two batches that differ in
// anything (a request, its attempt, its order) never share one.
func JournalName(reqs []request.Request) string {
	parts := make([]string, len(reqs))
	for i, r := range reqs {
		b, _ := json.Marshal(r) // a Request always marshals
		parts[i] = string(b)
	}
	return JournalPrefix + request.Hash(parts...)[:64] + ".json"
}

// FileRequests is one file's requests in a journal, in journal order.
type FileRequests struct {
	Container, Blob string
	Requests        []request.Request
}

// Files groups the journal's requests by file, in order of first
// appearance.
func (j *Journal) Files() []FileRequests {
	at := map[string]int{}
	var files []FileRequests
	for _, r := range j.Requests {
		k := request.FileKey(r.Container, r.Blob)
		i, ok := at[k]
		if !ok {
			i = len(files)
			at[k] = i
			files = append(files, FileRequests{Container: r.Container, Blob: r.Blob})
		}
		files[i].Requests = append(files[i].Requests, r)
	}
	return files
}

// Fold records reqs, one file's journalled requests, in its record
// (Record.Submit each, in order, accepted at now) and returns what they
// decided together. Change.Orphans lists the tasks SubmitTasks added for
// them that no request waits on: the work was already done (a reuse, a
// replayed or stale message).
func (r *Record) Fold(reqs []request.Request, now time.Time) Change {
	var all Change
	for _, q := range reqs {
		ch := r.Submit(q, now)
		all.Events = append(all.Events, ch.Events...)
		all.Answered = append(all.Answered, ch.Answered...)
		all.dirty = all.dirty || ch.dirty
	}
	for _, q := range reqs {
		if task := request.TaskID(q, q.Attempt); !r.waitedOn(task) && !slices.Contains(all.Orphans, task) {
			all.Orphans = append(all.Orphans, task)
		}
	}
	return all
}

// waitedOn reports whether a request not yet answered waits on task.
func (r *Record) waitedOn(task string) bool {
	for _, e := range r.Requests {
		if e.TaskID == task && !e.State.Terminal() {
			return true
		}
	}
	return false
}

// WriteJournal stores j under j.Name, replacing a journal of the same
// name (a redelivered batch journals the same requests again).
func (s *Store) WriteJournal(ctx context.Context, j *Journal) error {
	body, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("write journal %s: %w", j.Name, err)
	}
	opts := &blockblob.UploadOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")}}
	for created := false; ; created = true {
		_, err = s.c.NewBlockBlobClient(j.Name).Upload(ctx, nopCloser{bytes.NewReader(body)}, opts)
		if err == nil || created || !bloberror.HasCode(err, bloberror.ContainerNotFound) {
			break
		}
		if _, cerr := s.c.Create(ctx, nil); cerr != nil && !bloberror.HasCode(cerr, bloberror.ContainerAlreadyExists) {
			return fmt.Errorf("write journal %s: create container: %w", j.Name, cerr)
		}
	}
	if err != nil {
		return fmt.Errorf("write journal %s: %w", j.Name, err)
	}
	return nil
}

// ReadJournal reads the journal name; ErrNotFound when it was folded and
// deleted meanwhile.
func (s *Store) ReadJournal(ctx context.Context, name string) (*Journal, error) {
	j := &Journal{Name: name}
	if _, err := s.read(ctx, name, j); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", name, err)
	}
	return j, nil
}

// DeleteJournal deletes a folded journal; deleting one already gone is
// not an error.
func (s *Store) DeleteJournal(ctx context.Context, name string) error {
	_, err := s.c.NewBlobClient(name).Delete(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return fmt.Errorf("delete journal %s: %w", name, err)
	}
	return nil
}

// ListJournals returns the names of at most limit journals last written
// before before, oldest listing order first.
func (s *Store) ListJournals(ctx context.Context, before time.Time, limit int) ([]string, error) {
	pager := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(JournalPrefix), MaxResults: to.Ptr(s.pageSize)})
	var names []string
	for pager.More() && len(names) < limit {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list journals: %w", err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil || b.Properties == nil || b.Properties.LastModified == nil || !b.Properties.LastModified.Before(before) {
				continue
			}
			names = append(names, *b.Name)
			if len(names) == limit {
				break
			}
		}
	}
	return names, nil
}
