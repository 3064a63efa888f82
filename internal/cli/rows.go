package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// docWorkers bounds the status documents read at once.
const docWorkers = 8

// rowDocs caches the status documents a row-made view needed, by file,
// and MP3 sizes a row did not record, each valid while its record is not
// written again (the row's UpdatedAt).
type rowDocs struct {
	mu   sync.Mutex
	docs map[string]cachedDoc
}

type cachedDoc struct {
	updated time.Time
	rec     *lifecycle.Record
	size    int64 // for an MP3's size (outputSize)
}

// rows lists the rows of every status record of the input container, a
// page of lifecycle.MaxRowLimit per List Blobs request, reading none.
func (c *clients) rows(ctx context.Context) ([]lifecycle.Row, error) {
	var out []lifecycle.Row
	q := lifecycle.RowQuery{Container: c.ep.InputContainer, Limit: lifecycle.MaxRowLimit}
	for {
		page, err := c.store().ListRows(ctx, q)
		out = append(out, page.Rows...)
		if err != nil {
			return out, fmt.Errorf("list status rows: %w", err)
		}
		if page.Next == "" {
			return out, nil
		}
		q.Marker = page.Next
	}
}

func (c *clients) store() *lifecycle.Store {
	if c.status == nil {
		c.status = lifecycle.NewStore(c.blobs.ServiceClient().NewContainerClient(c.ep.StatusContainer), nil)
	}
	return c.status
}

// rowFiles makes the views of rows. The metadata carries what a view
// shows, but for a file that ended without an MP3 (its reason and stderr
// in full; the metadata's are cut) and a success whose MP3 size was not
// recorded: for those it reads the document (once per write of the record,
// cached) or the MP3's properties. ok is false when a row's name was cut
// (the metadata cannot tell the file).
func (c *clients) rowFiles(ctx context.Context, rows []lifecycle.Row, inputs map[string]blobItem) ([]fileView, bool) {
	files := make([]fileView, 0, len(rows))
	var need []int
	for _, r := range rows {
		if r.BlobCut || r.OutputCut {
			return nil, false
		}
		size := inputs[r.Blob].size
		if size == 0 {
			size = r.Size
		}
		v := rowView(r, size)
		if r.State.Terminal() && r.State != results.StateSucceeded || r.State == results.StateSucceeded && r.OutputSize <= 0 {
			need = append(need, len(files))
		}
		files = append(files, v)
	}
	c.completeViews(ctx, files, rows, need)
	return files, true
}

// completeViews reads, docWorkers at a time, what the views at need lack
// (see rowFiles); a view whose document cannot be read keeps its row's
// text.
func (c *clients) completeViews(ctx context.Context, files []fileView, rows []lifecycle.Row, need []int) {
	sem := make(chan struct{}, docWorkers)
	var wg sync.WaitGroup
	for _, i := range need {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f := &files[i]
			if f.State == results.StateSucceeded {
				f.OutputSize = c.outputSize(ctx, rows[i])
				return
			}
			if rec := c.doc(ctx, rows[i]); rec != nil && rec.Current() != nil {
				st := rec.Current()
				f.Record, f.Reason = rec, reason(st)
				if st.Failure != nil {
					f.Stderr = st.Failure.Stderr
				}
			}
		}()
	}
	wg.Wait()
}

// doc returns the status document of row's file, from the cache while the
// record was not written since; nil when it cannot be read.
func (c *clients) doc(ctx context.Context, r lifecycle.Row) *lifecycle.Record {
	c.docs.mu.Lock()
	d, ok := c.docs.docs[r.Blob]
	c.docs.mu.Unlock()
	if ok && d.updated.Equal(r.UpdatedAt) {
		return d.rec
	}
	rec, err := c.store().Get(ctx, r.Container, r.Blob)
	if err != nil {
		return nil
	}
	c.docs.put(r.Blob, cachedDoc{updated: r.UpdatedAt, rec: rec})
	return rec
}

// outputSize returns the size of the MP3 of a succeeded row that does not
// record it, -1 when it is not in the output container; cached as doc.
func (c *clients) outputSize(ctx context.Context, r lifecycle.Row) int64 {
	key := "\x00mp3:" + r.Blob // not a blob name: blob names hold no NUL
	c.docs.mu.Lock()
	d, ok := c.docs.docs[key]
	c.docs.mu.Unlock()
	if ok && d.updated.Equal(r.UpdatedAt) {
		return d.size
	}
	size := int64(-1)
	p, err := c.blobs.ServiceClient().NewContainerClient(c.ep.OutputContainer).NewBlobClient(r.Output).GetProperties(ctx, nil)
	if err == nil && p.ContentLength != nil {
		size = *p.ContentLength
	}
	if err == nil || bloberror.HasCode(err, bloberror.BlobNotFound) {
		c.docs.put(key, cachedDoc{updated: r.UpdatedAt, size: size})
	}
	return size
}

func (d *rowDocs) put(key string, doc cachedDoc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.docs == nil {
		d.docs = map[string]cachedDoc{}
	}
	d.docs[key] = doc
}

// rowView is the view of a file from its row; the MP3's size is the one
// recorded when the task was settled.
func rowView(r lifecycle.Row, inputSize int64) fileView {
	v := fileView{Blob: r.Blob, State: r.State, InputSize: inputSize, OutputSize: -1, Reason: r.Reason,
		Stderr: r.Stderr, Since: r.QueuedAt, taskID: r.TaskID}
	if v.Since.IsZero() {
		v.Since = r.UpdatedAt
	}
	if r.State == results.StateSucceeded {
		v.OutputBlob = r.Output
		if r.OutputSize > 0 {
			v.OutputSize = r.OutputSize
		}
	}
	return v
}

// scope is sel.scope over files made from rows. A name no view matches
// may be the MP3 of an earlier request of a file, which only the status
// documents tell: for an unknown .mp3 name it scopes the files read from
// the whole documents instead.
func (c *clients) scope(ctx context.Context, sel selection, files []fileView, now time.Time) []fileView {
	scoped := sel.scope(files, c.ep.InputContainer, now)
	if !slices.ContainsFunc(unknownNames(scoped), func(n string) bool { return strings.HasSuffix(strings.ToLower(n), ".mp3") }) {
		return scoped
	}
	full, problems := c.filesFull(ctx)
	if len(problems) > 0 {
		return scoped
	}
	return sel.scope(full, c.ep.InputContainer, now)
}

// withRecords reads the status document of each view with a record that
// has none yet (the request history of the named files).
func (c *clients) withRecords(ctx context.Context, files []fileView) {
	for i := range files {
		f := &files[i]
		if f.Record != nil || f.State == stateUploaded || f.State == stateUnknown {
			continue
		}
		if rec, err := c.store().Get(ctx, c.ep.InputContainer, f.Blob); err == nil {
			f.Record = rec
		}
	}
}
