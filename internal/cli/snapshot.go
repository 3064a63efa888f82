package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
)

// stateUploaded is shown for an input blob that has no status yet (the
// host has not delivered its BlobCreated event, or BlobCreated has not
// queued it).
const stateUploaded results.State = "uploaded"

// fileView is one file's line in the progress view.
type fileView struct {
	Blob       string
	State      results.State
	InputSize  int64
	OutputBlob string
	OutputSize int64 // -1 when the MP3 is not in the output container
	Reason     string
	Record     *lifecycle.Record // nil for stateUploaded
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
	inputs, err := c.listSizes(ctx, c.ep.InputContainer)
	if err != nil {
		s.Problems = append(s.Problems, err.Error())
	}
	outputs, err := c.listSizes(ctx, c.ep.OutputContainer)
	if err != nil {
		s.Problems = append(s.Problems, err.Error())
	}
	records, err := c.records(ctx)
	if err != nil {
		s.Problems = append(s.Problems, err.Error())
	}
	started := c.startedTasks(ctx)
	seen := map[string]bool{}
	for _, rec := range records {
		st := rec.Current()
		if st == nil || rec.Container != c.ep.InputContainer {
			continue
		}
		v := fileView{Blob: rec.Blob, State: st.State, InputSize: inputs[rec.Blob], OutputSize: -1, Record: rec}
		if state, ok := started[st.TaskID]; ok && v.State == results.StateSubmitted {
			v.State = state
		}
		if st.MP3 != nil {
			v.OutputBlob = st.MP3.Blob
			if n, ok := outputs[st.MP3.Blob]; ok {
				v.OutputSize = n
			}
		}
		v.Reason = reason(st)
		seen[rec.Blob] = true
		s.Files = append(s.Files, v)
	}
	for name, size := range inputs {
		if !seen[name] && arrival.HasMP4Extension(name) {
			s.Files = append(s.Files, fileView{Blob: name, State: stateUploaded, InputSize: size, OutputSize: -1})
		}
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Blob < s.Files[j].Blob })

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

func reason(st *lifecycle.Entry) string {
	switch {
	case st.Failure != nil:
		r := string(st.Failure.Category)
		if st.Failure.Code != "" {
			r += " " + st.Failure.Code
		}
		if st.Failure.ExitCode != nil {
			r += fmt.Sprintf(" exit %d", *st.Failure.ExitCode)
		}
		if st.Failure.Message != "" {
			r += ": " + st.Failure.Message
		}
		return r
	case st.Rejection != nil:
		return st.Rejection.Reason + ": " + st.Rejection.Message
	}
	return ""
}

// listSizes lists a container's blobs and their sizes.
func (c *clients) listSizes(ctx context.Context, container string) (map[string]int64, error) {
	out := map[string]int64{}
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
			var n int64
			if b.Properties != nil && b.Properties.ContentLength != nil {
				n = *b.Properties.ContentLength
			}
			out[*b.Name] = n
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

// terminal reports whether a file is finished: failed or rejected, or
// succeeded with its MP3 in the output container.
func (v fileView) terminal() bool {
	switch v.State {
	case results.StateFailed, results.StateRejected, results.StateIgnored:
		return true
	case results.StateSucceeded:
		return v.OutputSize >= 0
	}
	return false
}
