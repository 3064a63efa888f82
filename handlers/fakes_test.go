package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// The fakes in this file stand in for Batch, Service Bus and Blob storage
// in the handler unit tests; integration_test.go drives the same handlers
// against the in-process emulators. fakeBatch stays a fake because the
// handler tests need what the Batch emulator cannot produce:
//   - a failure of one exact call (fail: GetPool 503, AddTasks 500, the task
//     id listing or DeleteTask 500 in submit, recover and settle tests) and
//     one task's AddTasks failure (addFailures: a server error or a client
//     error for one task id), which the emulator only returns for real
//     causes;
//   - a hook at the moment another function would act (onTerminate: a task
//     added while the idle sweep terminates the job; onListTaskIDs: another
//     sweep acting during a listing);
//   - a task's outcome set at once on the fixture's fake clock (complete,
//     lose), where the emulator would run a process on the wall clock.

// batchErr builds the error the real client returns for a Batch error code.
func batchErr(status int, code string) error {
	return &azcore.ResponseError{StatusCode: status, ErrorCode: code}
}

// fakeBatch is an in-memory Batch account with one job's tasks. mu guards
// every field; hooks run with mu held.
type fakeBatch struct {
	mu      sync.Mutex
	pools   map[string]*batch.Pool
	jobs    map[string]*batch.Job
	tasks   map[string]*batch.Task  // by lower-case id (Batch ids are case-insensitive)
	nodes   map[string][]batch.Node // by pool id
	added   []batch.TaskAddParameter
	resizes []batch.PoolResizeParameter
	deleted []string
	calls   []string
	// fail injects errors by operation name ("GetPool", "AddTasks",
	// "ListTasks" for filtered listings, "ListTaskIDs" for the id listing).
	fail map[string]error
	// addFailures injects per-task AddTasks failures by task id.
	addFailures map[string]batch.TaskAddFailure
	// onTerminate runs inside TerminateJob before the job completes, to
	// simulate a SubmitTasks racing the idle sweep.
	onTerminate func()
	// onListTaskIDs runs inside the listing of all task ids, to simulate
	// another sweep acting meanwhile.
	onListTaskIDs func()
}

func newFakeBatch() *fakeBatch {
	return &fakeBatch{pools: map[string]*batch.Pool{}, jobs: map[string]*batch.Job{}, tasks: map[string]*batch.Task{}, nodes: map[string][]batch.Node{},
		fail: map[string]error{}, addFailures: map[string]batch.TaskAddFailure{}}
}

// enter records a call to op and returns its injected failure; mu must be
// held.
func (f *fakeBatch) enter(op string) error {
	f.calls = append(f.calls, op)
	return f.fail[op]
}

// pool, job and task look an entity up, answering Batch's 404 when it is
// missing; mu must be held.
func (f *fakeBatch) pool(id string) (*batch.Pool, error) {
	return lookup(f.pools, id, batch.CodePoolNotFound)
}
func (f *fakeBatch) job(id string) (*batch.Job, error) {
	return lookup(f.jobs, id, batch.CodeJobNotFound)
}
func (f *fakeBatch) task(id string) (*batch.Task, error) {
	return lookup(f.tasks, strings.ToLower(id), batch.CodeTaskNotFound)
}

func lookup[T any](m map[string]*T, id, code string) (*T, error) {
	v, ok := m[id]
	if !ok {
		return nil, batchErr(404, code)
	}
	return v, nil
}

func (f *fakeBatch) GetPool(_ context.Context, id string, _ *batch.GetOptions) (*batch.Pool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetPool"); err != nil {
		return nil, err
	}
	p, err := f.pool(id)
	if err != nil {
		return nil, err
	}
	cp := *p
	return &cp, nil
}

func (f *fakeBatch) CreatePool(_ context.Context, p batch.PoolAddParameter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreatePool"); err != nil {
		return err
	}
	if _, ok := f.pools[p.ID]; ok {
		return batchErr(409, batch.CodePoolExists)
	}
	pool := &batch.Pool{ID: p.ID, State: batch.PoolStateActive, AllocationState: batch.PoolAllocationStateSteady, AutoScaleFormula: p.AutoScaleFormula}
	if p.EnableAutoScale != nil {
		pool.EnableAutoScale = *p.EnableAutoScale
	}
	if p.TargetDedicatedNodes != nil {
		pool.TargetDedicatedNodes = *p.TargetDedicatedNodes
	}
	if p.TargetLowPriorityNodes != nil {
		pool.TargetLowPriorityNodes = *p.TargetLowPriorityNodes
	}
	f.pools[p.ID] = pool
	return nil
}

func (f *fakeBatch) ResizePool(_ context.Context, id string, r batch.PoolResizeParameter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ResizePool"); err != nil {
		return err
	}
	p, err := f.pool(id)
	if err != nil {
		return err
	}
	f.resizes = append(f.resizes, r)
	p.TargetDedicatedNodes, p.TargetLowPriorityNodes = *r.TargetDedicatedNodes, *r.TargetLowPriorityNodes
	return nil
}

func (f *fakeBatch) DeletePool(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeletePool"); err != nil {
		return err
	}
	if _, err := f.pool(id); err != nil {
		return err
	}
	delete(f.pools, id)
	return nil
}

func (f *fakeBatch) GetJob(_ context.Context, id string, _ *batch.GetOptions) (*batch.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetJob"); err != nil {
		return nil, err
	}
	j, err := f.job(id)
	if err != nil {
		return nil, err
	}
	cp := *j
	cp.Metadata = append([]batch.MetadataItem(nil), j.Metadata...)
	return &cp, nil
}

func (f *fakeBatch) CreateJob(_ context.Context, j batch.JobAddParameter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateJob"); err != nil {
		return err
	}
	if _, ok := f.jobs[j.ID]; ok {
		return batchErr(409, batch.CodeJobExists)
	}
	f.jobs[j.ID] = &batch.Job{ID: j.ID, State: batch.JobStateActive, PoolInfo: j.PoolInfo, Metadata: j.Metadata}
	return nil
}

func (f *fakeBatch) PatchJob(_ context.Context, id string, p batch.JobPatchParameter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("PatchJob"); err != nil {
		return err
	}
	j, err := f.job(id)
	if err != nil {
		return err
	}
	if p.Metadata != nil {
		j.Metadata = p.Metadata
	}
	return nil
}

func (f *fakeBatch) TerminateJob(_ context.Context, id, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("TerminateJob"); err != nil {
		return err
	}
	j, err := f.job(id)
	if err != nil {
		return err
	}
	if f.onTerminate != nil {
		f.onTerminate()
	}
	j.State = batch.JobStateCompleted
	return nil
}

func (f *fakeBatch) DeleteJob(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteJob"); err != nil {
		return err
	}
	if _, err := f.job(id); err != nil {
		return err
	}
	delete(f.jobs, id)
	f.tasks = map[string]*batch.Task{}
	return nil
}

func (f *fakeBatch) GetTaskCounts(_ context.Context, id string) (*batch.TaskCountsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetTaskCounts"); err != nil {
		return nil, err
	}
	if _, err := f.job(id); err != nil {
		return nil, err
	}
	var c batch.TaskCounts
	for _, t := range f.tasks {
		switch t.State {
		case batch.TaskStateActive:
			c.Active++
		case batch.TaskStateRunning:
			c.Running++
		case batch.TaskStateCompleted:
			c.Completed++
		}
	}
	return &batch.TaskCountsResult{TaskCounts: c}, nil
}

// AddTasks is idempotent per task id, as the real client's is: a task that
// exists is reported Existing, not added twice.
func (f *fakeBatch) AddTasks(_ context.Context, jobID string, tasks []batch.TaskAddParameter, _ *batch.AddTasksOptions) (*batch.AddTasksResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("AddTasks"); err != nil {
		return nil, err
	}
	j, err := f.job(jobID)
	if err != nil {
		return nil, err
	}
	if j.State != batch.JobStateActive {
		return nil, batchErr(409, batch.CodeJobCompleted)
	}
	res := &batch.AddTasksResult{}
	for _, t := range tasks {
		if fail, ok := f.addFailures[t.ID]; ok {
			res.Failed = append(res.Failed, fail)
			continue
		}
		if _, ok := f.tasks[strings.ToLower(t.ID)]; ok {
			res.Existing = append(res.Existing, t.ID)
			continue
		}
		f.added = append(f.added, t)
		f.tasks[strings.ToLower(t.ID)] = &batch.Task{ID: t.ID, State: batch.TaskStateActive, CommandLine: t.CommandLine,
			EnvironmentSettings: t.EnvironmentSettings, OutputFiles: t.OutputFiles, ResourceFiles: t.ResourceFiles}
		res.Added = append(res.Added, t.ID)
	}
	return res, nil
}

func (f *fakeBatch) GetTask(_ context.Context, jobID, id string, _ *batch.GetOptions) (*batch.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetTask"); err != nil {
		return nil, err
	}
	if _, err := f.job(jobID); err != nil {
		return nil, err
	}
	t, err := f.task(id)
	if err != nil {
		return nil, err
	}
	cp := *t
	return &cp, nil
}

// NewListTasksPager answers in one page and supports the two filters the
// handlers use, and none (the lost-task scan's id listing).
func (f *fakeBatch) NewListTasksPager(jobID string, opts *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Task]] {
	done := false
	return runtime.NewPager(runtime.PagingHandler[batch.ListPage[batch.Task]]{
		More: func(batch.ListPage[batch.Task]) bool { return false },
		Fetcher: func(context.Context, *batch.ListPage[batch.Task]) (batch.ListPage[batch.Task], error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if done {
				return batch.ListPage[batch.Task]{}, errors.New("fetched twice")
			}
			done = true
			op := "ListTasks"
			if opts.Filter == "" {
				op = "ListTaskIDs"
			}
			if err := f.enter(op); err != nil {
				return batch.ListPage[batch.Task]{}, err
			}
			if opts.Filter == "" && f.onListTaskIDs != nil {
				f.onListTaskIDs()
			}
			if _, ok := f.jobs[jobID]; !ok {
				return batch.ListPage[batch.Task]{}, batchErr(404, batch.CodeJobNotFound)
			}
			ids := make([]string, 0, len(f.tasks))
			for id := range f.tasks {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			var page batch.ListPage[batch.Task]
			for _, id := range ids {
				t := f.tasks[id]
				completed := t.State == batch.TaskStateCompleted
				active := t.State == batch.TaskStateActive || t.State == ""
				if opts.Filter == "state eq 'completed'" && !completed || opts.Filter == "state ne 'completed'" && completed ||
					opts.Filter == "state ne 'active'" && active {
					continue
				}
				page.Value = append(page.Value, *t)
			}
			return page, nil
		},
	})
}

// NewListNodesPager answers the pool's nodes in one page.
func (f *fakeBatch) NewListNodesPager(poolID string, _ *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Node]] {
	done := false
	return runtime.NewPager(runtime.PagingHandler[batch.ListPage[batch.Node]]{
		More: func(p batch.ListPage[batch.Node]) bool { return !done },
		Fetcher: func(context.Context, *batch.ListPage[batch.Node]) (batch.ListPage[batch.Node], error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			done = true
			if err := f.enter("ListNodes"); err != nil {
				return batch.ListPage[batch.Node]{}, err
			}
			if _, ok := f.pools[poolID]; !ok {
				return batch.ListPage[batch.Node]{}, batchErr(404, batch.CodePoolNotFound)
			}
			return batch.ListPage[batch.Node]{Value: append([]batch.Node(nil), f.nodes[poolID]...)}, nil
		},
	})
}

func (f *fakeBatch) DeleteTask(_ context.Context, _, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteTask"); err != nil {
		return err
	}
	if _, err := f.task(id); err != nil {
		return err
	}
	delete(f.tasks, strings.ToLower(id))
	f.deleted = append(f.deleted, id)
	return nil
}

// complete marks a task completed with the given execution info.
func (f *fakeBatch) complete(id string, ei batch.TaskExecutionInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tasks[strings.ToLower(id)]
	t.State = batch.TaskStateCompleted
	t.ExecutionInfo = &ei
}

// lose removes a task behind the pipeline's back (deleted by hand, or
// lost by the service).
func (f *fakeBatch) lose(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tasks, strings.ToLower(id))
}

// liveIDs returns the ids of the tasks in Batch now, sorted.
func (f *fakeBatch) liveIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, t := range f.tasks {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids
}

// addedIDs returns the ids of every task added, in order.
func (f *fakeBatch) addedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, len(f.added))
	for i, t := range f.added {
		ids[i] = t.ID
	}
	return ids
}

// fakeSender records messages. Sending fails with err, or while failNext
// is positive (counting down). mu guards all fields. A fake rather than a
// sender on the Service Bus emulator because the tests fail one exact send
// and read what was scheduled for when, on the fixture's fake clock.
type fakeSender struct {
	mu        sync.Mutex
	sent      []*azservicebus.Message
	scheduled []scheduledMsg
	err       error
	failNext  int
}

type scheduledMsg struct {
	msg *azservicebus.Message
	at  time.Time
}

var errServiceBus = errors.New("service bus unavailable")

// failure returns the injected failure of the next send; mu must be held.
func (s *fakeSender) failure() error {
	if s.failNext > 0 {
		s.failNext--
		return errServiceBus
	}
	return s.err
}

func (s *fakeSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure(); err != nil {
		return err
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *fakeSender) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure(); err != nil {
		return nil, err
	}
	seqs := make([]int64, len(ms))
	for i, m := range ms {
		s.scheduled = append(s.scheduled, scheduledMsg{m, at})
		seqs[i] = int64(len(s.scheduled))
	}
	return seqs, nil
}

// takeSent removes and returns the messages sent so far.
func (s *fakeSender) takeSent() []*azservicebus.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

// takeDue removes and returns the scheduled messages due at now.
func (s *fakeSender) takeDue(now time.Time) []*azservicebus.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*azservicebus.Message
	kept := s.scheduled[:0]
	for _, m := range s.scheduled {
		if m.at.After(now) {
			kept = append(kept, m)
			continue
		}
		due = append(due, m.msg)
	}
	s.scheduled = kept
	return due
}

// fakeSigner hands out fixed SAS URLs: the handler tests check where a URL
// points, not that it signs (internal/blobaccess's tests do, on Azurite).
type fakeSigner struct{}

func (fakeSigner) ReadBlobURL(_ context.Context, c, b string, _ time.Duration) (string, error) {
	return "https://acct.blob.core.windows.net/" + c + "/" + b + "?sp=r&sig=x", nil
}
func (fakeSigner) WriteContainerURL(_ context.Context, c string, _ time.Duration) (string, error) {
	return "https://acct.blob.core.windows.net/" + c + "?sp=cw&sig=x", nil
}
func (fakeSigner) AccountURL() string { return "https://acct.blob.core.windows.net" }

// fakeBlobs serves blobs and their properties from maps. mu guards all
// fields. A fake rather than Azurite because the tests fail a properties
// read (propsErr) and set a blob's properties (a block-list upload without
// Content-MD5) directly.
type fakeBlobs struct {
	mu         sync.Mutex
	blobs      map[string][]byte // container/name
	containers map[string]bool
	props      map[string]blob.GetPropertiesResponse // container/name
	propsErr   error
	// copyErr fails StartCopy; copies counts the copies made; etags
	// numbers the ETags put gives out.
	copyErr error
	copies  int
	etags   int
}

// setProps records a blob's properties as Put Blob leaves them: its ETag
// (quoted, as the service returns it), length and Content-MD5 (nil for a
// block-list upload without one).
func (b *fakeBlobs) setProps(c, name, etag string, size int64, md5sum []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.props == nil {
		b.props = map[string]blob.GetPropertiesResponse{}
	}
	tag := azcore.ETag(`"` + etag + `"`)
	b.props[c+"/"+name] = blob.GetPropertiesResponse{ETag: &tag, ContentLength: &size, ContentMD5: md5sum}
}

func (b *fakeBlobs) GetProperties(_ context.Context, c, name string) (blob.GetPropertiesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.propsErr != nil {
		return blob.GetPropertiesResponse{}, b.propsErr
	}
	p, ok := b.props[c+"/"+name]
	if !ok {
		return blob.GetPropertiesResponse{}, &azcore.ResponseError{StatusCode: http.StatusNotFound, ErrorCode: "BlobNotFound"}
	}
	return p, nil
}

func (b *fakeBlobs) CreateContainer(_ context.Context, name string, _ *azblob.CreateContainerOptions) (azblob.CreateContainerResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.containers == nil {
		b.containers = map[string]bool{}
	}
	b.containers[name] = true
	return azblob.CreateContainerResponse{}, nil
}

func (b *fakeBlobs) DownloadStream(_ context.Context, c, name string, _ *azblob.DownloadStreamOptions) (azblob.DownloadStreamResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.blobs[c+"/"+name]
	if !ok {
		return azblob.DownloadStreamResponse{}, &azcore.ResponseError{StatusCode: http.StatusNotFound, ErrorCode: "BlobNotFound"}
	}
	var r azblob.DownloadStreamResponse
	r.Body = io.NopCloser(bytes.NewReader(data))
	return r, nil
}

// fakeDeadLetters is the arrivals' dead-letter subqueue: msgs wait until
// completed; completeErr fails CompleteMessage. mu guards all fields.
type fakeDeadLetters struct {
	mu          sync.Mutex
	msgs        []*azservicebus.ReceivedMessage
	completed   int
	completeErr error
}

// deadLetter adds a dead-lettered message with body, id and reason.
func (q *fakeDeadLetters) deadLetter(id, body, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	desc := "delivered 10 times"
	q.msgs = append(q.msgs, &azservicebus.ReceivedMessage{MessageID: id, Body: []byte(body), DeadLetterReason: &reason, DeadLetterErrorDescription: &desc})
}

func (q *fakeDeadLetters) PeekMessages(_ context.Context, n int, _ *azservicebus.PeekMessagesOptions) ([]*azservicebus.ReceivedMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.msgs[:min(n, len(q.msgs))]), nil
}

func (q *fakeDeadLetters) ReceiveMessages(_ context.Context, n int, _ *azservicebus.ReceiveMessagesOptions) ([]*azservicebus.ReceivedMessage, error) {
	return q.PeekMessages(context.Background(), n, nil)
}

func (q *fakeDeadLetters) CompleteMessage(_ context.Context, m *azservicebus.ReceivedMessage, _ *azservicebus.CompleteMessageOptions) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.completeErr != nil {
		return q.completeErr
	}
	q.msgs = slices.DeleteFunc(q.msgs, func(o *azservicebus.ReceivedMessage) bool { return o == m })
	q.completed++
	return nil
}

// pending is the number of messages not completed.
func (q *fakeDeadLetters) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// put stores a blob with data and metadata as an upload or a completed
// copy leaves it: a new ETag, its length, the metadata given.
func (b *fakeBlobs) put(c, name string, data []byte, md map[string]*string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.putLocked(c, name, data, md)
}

func (b *fakeBlobs) putLocked(c, name string, data []byte, md map[string]*string) {
	if b.props == nil {
		b.props = map[string]blob.GetPropertiesResponse{}
	}
	b.etags++
	tag := azcore.ETag(fmt.Sprintf(`"0xFA%04d"`, b.etags))
	size := int64(len(data))
	b.blobs[c+"/"+name] = data
	b.props[c+"/"+name] = blob.GetPropertiesResponse{ETag: &tag, ContentLength: &size, Metadata: md}
}

// remove deletes a blob behind the pipeline's back (storage lost it).
func (b *fakeBlobs) remove(c, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.blobs, c+"/"+name)
	delete(b.props, c+"/"+name)
}

func (b *fakeBlobs) DeleteBlob(_ context.Context, c, name string, _ *azblob.DeleteBlobOptions) (azblob.DeleteBlobResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.props[c+"/"+name]; !ok {
		return azblob.DeleteBlobResponse{}, &azcore.ResponseError{StatusCode: http.StatusNotFound, ErrorCode: "BlobNotFound"}
	}
	delete(b.blobs, c+"/"+name)
	delete(b.props, c+"/"+name)
	return azblob.DeleteBlobResponse{}, nil
}

// StartCopy copies a blob named by a fakeSigner URL at once, honouring the
// destination's If-Match and If-None-Match conditions as Copy Blob does.
func (b *fakeBlobs) StartCopy(_ context.Context, c, name, src string, o *blob.StartCopyFromURLOptions) (blob.StartCopyFromURLResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.copyErr != nil {
		return blob.StartCopyFromURLResponse{}, b.copyErr
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(src, fakeSigner{}.AccountURL()+"/"), "?")
	data, ok := b.blobs[path]
	if !ok {
		return blob.StartCopyFromURLResponse{}, &azcore.ResponseError{StatusCode: http.StatusNotFound, ErrorCode: "CannotVerifyCopySource"}
	}
	cur, exists := b.props[c+"/"+name]
	if o != nil && o.AccessConditions != nil && o.AccessConditions.ModifiedAccessConditions != nil {
		mc := o.AccessConditions.ModifiedAccessConditions
		if (mc.IfNoneMatch != nil && exists) || (mc.IfMatch != nil && (!exists || *mc.IfMatch != *cur.ETag)) {
			return blob.StartCopyFromURLResponse{}, &azcore.ResponseError{StatusCode: http.StatusPreconditionFailed, ErrorCode: "ConditionNotMet"}
		}
	}
	var md map[string]*string
	if o != nil {
		md = o.Metadata
	}
	b.copies++
	b.putLocked(c, name, data, md)
	return blob.StartCopyFromURLResponse{}, nil
}
