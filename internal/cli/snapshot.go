package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
)

// States the CLI shows besides the pipeline's (results.State).
const (
	// stateUploaded is an input .mp4 without a status record yet (the host
	// has not delivered its BlobCreated event, or BlobCreated has not
	// queued it).
	stateUploaded results.State = "uploaded"
	// stateUnknown is a name asked for that is neither an input blob nor
	// a file with a status record.
	stateUnknown results.State = "unknown"
)

// fileView is one file's line in the progress view.
type fileView struct {
	Blob       string
	State      results.State
	InputSize  int64
	OutputBlob string
	OutputSize int64 // -1 when the MP3 is not in the output container
	Reason     string
	// Stderr is the end of ffmpeg's stderr of a failed task.
	Stderr string
	// Since is when the file's current request was queued (for an input
	// blob without a record: when the blob was written).
	Since time.Time
	// Record is the file's whole status document: nil for an input blob
	// without a record yet, and for a view made from the record's
	// metadata (a row) unless the view needed the document.
	Record *lifecycle.Record
	taskID string // the current request's task
}

// snapshot is everything the progress view shows, read at one time.
type snapshot struct {
	Files []fileView
	// Queue is the arrivals queue's active plus scheduled messages; -1 unknown.
	Queue int
	// Nodes is the pool's current nodes, -1 without a pool.
	Nodes     int
	PoolState string
	Tasks     *batch.TaskCounts
	Problems  []string // sources that could not be read
}

// take reads the status records, the input and output containers, the
// arrivals queue's counts and the pool and job.
func (c *clients) take(ctx context.Context) snapshot {
	s := snapshot{Queue: -1, Nodes: -1}
	s.Files, s.Problems = c.files(ctx)
	if q, err := c.queueDepth(ctx); err != nil {
		s.Problems = append(s.Problems, err.Error())
	} else {
		s.Queue = q
	}
	if p, err := c.batch.GetPool(ctx, c.ep.PoolID, &batch.GetOptions{Select: "id,state,currentDedicatedNodes,currentLowPriorityNodes"}); err == nil {
		s.Nodes = int(p.CurrentDedicatedNodes + p.CurrentLowPriorityNodes)
		s.PoolState = string(p.State)
	}
	if tc, err := c.batch.GetTaskCounts(ctx, c.ep.JobID); err == nil {
		s.Tasks = &tc.TaskCounts
	}
	return s
}

// files returns a view of every file of the input container, sorted by
// name: each status record, refined to running from the Batch task, and
// each input blob without a record (uploaded, or ignored when it is not
// an .mp4, as BlobCreated answers it). It also returns the sources it
// connectFiles connects to the stack and reads every file's view, failing
// when any source of it could not be read; the caller closes the clients.
func connectFiles(ctx context.Context, e *env) (*clients, []fileView, error) {
	c, err := connect(e)
	if err != nil {
		return nil, nil, err
	}
	files, problems := c.filesFull(ctx)
	if len(problems) > 0 {
		c.close()
		return nil, nil, fmt.Errorf("read the status of the files: %s", strings.Join(problems, "; "))
	}
	return c, files, nil
}

// could not read. A refresh reads no status document: each file's view
// comes from its record's metadata, one List Blobs request per 1,000
// records (lifecycle.ListRows, as the Status API does); c.docs reads the
// few documents a view needs in full (see rowFiles).
func (c *clients) files(ctx context.Context) ([]fileView, []string) {
	var problems []string
	inputs, err := c.listBlobs(ctx, c.ep.InputContainer)
	if err != nil {
		problems = append(problems, err.Error())
	}
	rows, err := c.rows(ctx)
	if err != nil {
		problems = append(problems, err.Error())
	}
	started := c.startedTasks(ctx)
	files, ok := c.rowFiles(ctx, rows, inputs)
	if !ok { // a name cut in the metadata: the whole documents tell it
		return c.recordFiles(ctx, inputs, started)
	}
	return mergeFiles(files, inputs, started), problems
}

// recordFiles is files from the whole status documents, each read: what
// get and retry need (every request of a file), and the way for names too
// long for the metadata.
func (c *clients) recordFiles(ctx context.Context, inputs map[string]blobItem, started map[string]results.State) ([]fileView, []string) {
	var problems []string
	outputs, err := c.listBlobs(ctx, c.ep.OutputContainer)
	if err != nil {
		problems = append(problems, err.Error())
	}
	records, err := c.records(ctx)
	if err != nil {
		problems = append(problems, err.Error())
	}
	var files []fileView
	for _, rec := range records {
		if rec.Current() == nil || rec.Container != c.ep.InputContainer {
			continue
		}
		files = append(files, recordView(rec, inputs[rec.Blob].size, outputs))
	}
	return mergeFiles(files, inputs, started), problems
}

// mergeFiles refines the views of files with records to running from the
// Batch task, adds a view for each input blob without a record and sorts
// them by name.
func mergeFiles(files []fileView, inputs map[string]blobItem, started map[string]results.State) []fileView {
	seen := map[string]bool{}
	for i := range files {
		v := &files[i]
		if state, ok := started[v.taskID]; ok && v.State == results.StateSubmitted {
			v.State = state
		}
		seen[v.Blob] = true
	}
	for name, b := range inputs {
		if !seen[name] {
			files = append(files, blobView(name, b))
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Blob < files[j].Blob })
	return files
}

// filesFull is files with every file's whole status document (get, retry).
func (c *clients) filesFull(ctx context.Context) ([]fileView, []string) {
	inputs, err := c.listBlobs(ctx, c.ep.InputContainer)
	files, problems := c.recordFiles(ctx, inputs, c.startedTasks(ctx))
	if err != nil {
		problems = append(problems, err.Error())
	}
	return files, problems
}

// recordView is the view of a file with a status record: its current
// request.
func recordView(rec *lifecycle.Record, inputSize int64, outputs map[string]blobItem) fileView {
	st := rec.Current()
	v := fileView{Blob: rec.Blob, State: st.State, InputSize: inputSize, OutputSize: -1, Record: rec,
		Reason: reason(st), Since: st.QueuedAt, taskID: st.TaskID}
	if v.Since.IsZero() {
		v.Since = rec.UpdatedAt
	}
	if st.Failure != nil {
		v.Stderr = st.Failure.Stderr
	}
	if st.MP3 != nil {
		v.OutputBlob = st.MP3.Blob
		if o, ok := outputs[st.MP3.Blob]; ok {
			v.OutputSize = o.size
		}
	}
	return v
}

// blobView is the view of an input blob without a status record.
func blobView(name string, b blobItem) fileView {
	v := fileView{Blob: name, State: stateUploaded, InputSize: b.size, OutputSize: -1, Since: b.modified}
	if !arrival.HasMP4Extension(name) {
		v.State, v.Reason = results.StateIgnored, string(arrival.ReasonBadExtension)+": "+arrival.NotMP4Message
	}
	return v
}

// blobItem is what a listing tells about a blob.
type blobItem struct {
	size     int64
	modified time.Time
}

// listBlobs lists a container's blobs (none when it does not exist).
func (c *clients) listBlobs(ctx context.Context, container string) (map[string]blobItem, error) {
	out := map[string]blobItem{}
	pager := c.blobs.NewListBlobsFlatPager(container, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("list %s: %w", container, err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil {
				continue
			}
			var it blobItem
			if p := b.Properties; p != nil {
				if p.ContentLength != nil {
					it.size = *p.ContentLength
				}
				if p.LastModified != nil {
					it.modified = *p.LastModified
				}
			}
			out[*b.Name] = it
		}
	}
	return out, nil
}

// records reads every status record (lifecycle.Record JSON blobs in the
// status container, written by the function app).
func (c *clients) records(ctx context.Context) ([]*lifecycle.Record, error) {
	var out []*lifecycle.Record
	pager := c.blobs.NewListBlobsFlatPager(c.ep.StatusContainer, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(lifecycle.RecordPrefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, nil
		}
		if err != nil {
			return out, fmt.Errorf("list status records: %w", err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil {
				continue
			}
			resp, err := c.blobs.DownloadStream(ctx, c.ep.StatusContainer, *b.Name, nil)
			if bloberror.HasCode(err, bloberror.BlobNotFound) {
				continue
			}
			if err != nil {
				return out, fmt.Errorf("read status %s: %w", *b.Name, err)
			}
			data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if err != nil {
				return out, fmt.Errorf("read status %s: %w", *b.Name, err)
			}
			var st lifecycle.Record
			if err := json.Unmarshal(data, &st); err != nil {
				return out, fmt.Errorf("decode status %s: %w", *b.Name, err)
			}
			out = append(out, &st)
		}
	}
	return out, nil
}

// startedTasks maps the ids of the job's tasks that have started to the
// state their files report (results.StateForTask, the rule the Status
// function uses); empty when the job does not exist or Batch cannot be
// reached.
func (c *clients) startedTasks(ctx context.Context) map[string]results.State {
	out := map[string]results.State{}
	pager := c.batch.NewListTasksPager(c.ep.JobID, &batch.ListOptions{Filter: "state ne 'active'", Select: "id,state"})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return out
		}
		for _, t := range page.Value {
			if state, ok := results.StateForTask(t.State); ok {
				out[t.ID] = state
			}
		}
	}
	return out
}

// queueDepth returns the arrivals queue's messages, active and
// scheduled, from the Service Bus emulator's /entities.
func (c *clients) queueDepth(ctx context.Context) (int, error) {
	active, scheduled, err := localstack.QueueDepth(ctx, c.http, c.ep, c.ep.ArrivalsQueue)
	return active + scheduled, err
}

// terminal reports whether a file is finished: failed, rejected, ignored
// or unknown, or succeeded with its MP3 in the output container.
func (v fileView) terminal() bool {
	switch v.State {
	case results.StateFailed, results.StateRejected, results.StateIgnored, stateUnknown:
		return true
	case results.StateSucceeded:
		return v.OutputSize >= 0
	}
	return false
}
