package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/results"
)

// batchErr builds the error the real client returns for a Batch error code.
func batchErr(status int, code string) error {
	return &azcore.ResponseError{StatusCode: status, ErrorCode: code}
}

// fakeBatch is an in-memory Batch account. mu guards every field.
type fakeBatch struct {
	mu      sync.Mutex
	pools   map[string]*batch.Pool
	jobs    map[string]*batch.Job
	tasks   map[string]*batch.Task // by id, one job
	added   []batch.TaskAddParameter
	resizes []batch.PoolResizeParameter
	deleted []string
	calls   []string
	// failures injected by operation name ("GetPool", "AddTasks", ...).
	fail map[string]error
	// addFailures injects per-task AddTasks failures by task id.
	addFailures map[string]batch.TaskAddFailure
	// onTerminate runs inside TerminateJob (with mu held) before the job
	// completes, to simulate a SubmitTasks racing the idle sweep.
	onTerminate func()
	// onGetTask runs inside GetTask (with mu held) before it answers, to
	// simulate another function acting meanwhile.
	onGetTask func(id string)
	// onListTaskIDs does the same inside a listing of all task ids.
	onListTaskIDs func()
}

func newFakeBatch() *fakeBatch {
	return &fakeBatch{pools: map[string]*batch.Pool{}, jobs: map[string]*batch.Job{}, tasks: map[string]*batch.Task{}, fail: map[string]error{}, addFailures: map[string]batch.TaskAddFailure{}}
}

func (f *fakeBatch) enter(op string) error {
	f.calls = append(f.calls, op)
	return f.fail[op]
}

func (f *fakeBatch) GetPool(_ context.Context, id string, _ *batch.GetOptions) (*batch.Pool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetPool"); err != nil {
		return nil, err
	}
	p, ok := f.pools[id]
	if !ok {
		return nil, batchErr(404, batch.CodePoolNotFound)
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
	p, ok := f.pools[id]
	if !ok {
		return batchErr(404, batch.CodePoolNotFound)
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
	if _, ok := f.pools[id]; !ok {
		return batchErr(404, batch.CodePoolNotFound)
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
	j, ok := f.jobs[id]
	if !ok {
		return nil, batchErr(404, batch.CodeJobNotFound)
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
	j, ok := f.jobs[id]
	if !ok {
		return batchErr(404, batch.CodeJobNotFound)
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
	j, ok := f.jobs[id]
	if !ok {
		return batchErr(404, batch.CodeJobNotFound)
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
	if _, ok := f.jobs[id]; !ok {
		return batchErr(404, batch.CodeJobNotFound)
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
	if _, ok := f.jobs[id]; !ok {
		return nil, batchErr(404, batch.CodeJobNotFound)
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

func (f *fakeBatch) AddTasks(_ context.Context, jobID string, tasks []batch.TaskAddParameter, _ *batch.AddTasksOptions) (*batch.AddTasksResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("AddTasks"); err != nil {
		return nil, err
	}
	j, ok := f.jobs[jobID]
	if !ok {
		return nil, batchErr(404, batch.CodeJobNotFound)
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
	if f.onGetTask != nil {
		f.onGetTask(id)
	}
	if _, ok := f.jobs[jobID]; !ok {
		return nil, batchErr(404, batch.CodeJobNotFound)
	}
	t, ok := f.tasks[strings.ToLower(id)]
	if !ok {
		return nil, batchErr(404, batch.CodeTaskNotFound)
	}
	cp := *t
	return &cp, nil
}

// NewListTasksPager supports the two filters the handlers use, and none.
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
			// Listing every task's id (no filter) is the lost-task scan's.
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
			var page batch.ListPage[batch.Task]
			ids := make([]string, 0, len(f.tasks))
			for id := range f.tasks {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				t := f.tasks[id]
				completed := t.State == batch.TaskStateCompleted
				switch opts.Filter {
				case "state eq 'completed'":
					if !completed {
						continue
					}
				case "state ne 'completed'":
					if completed {
						continue
					}
				}
				page.Value = append(page.Value, *t)
			}
			return page, nil
		},
	})
}

func (f *fakeBatch) DeleteTask(_ context.Context, _, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteTask"); err != nil {
		return err
	}
	if _, ok := f.tasks[strings.ToLower(id)]; !ok {
		return batchErr(404, batch.CodeTaskNotFound)
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

// fakeSender records messages. mu guards all fields.
type fakeSender struct {
	mu        sync.Mutex
	sent      []*azservicebus.Message
	scheduled []scheduledMsg
	err       error
}

type scheduledMsg struct {
	msg *azservicebus.Message
	at  time.Time
}

func (s *fakeSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *fakeSender) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	seqs := make([]int64, len(ms))
	for i, m := range ms {
		s.scheduled = append(s.scheduled, scheduledMsg{m, at})
		seqs[i] = int64(len(s.scheduled))
	}
	return seqs, nil
}

type fakeSigner struct{}

func (fakeSigner) ReadBlobURL(_ context.Context, c, b string, _ time.Duration) (string, error) {
	return "https://acct.blob.core.windows.net/" + c + "/" + b + "?sp=r&sig=x", nil
}
func (fakeSigner) WriteContainerURL(_ context.Context, c string, _ time.Duration) (string, error) {
	return "https://acct.blob.core.windows.net/" + c + "?sp=cw&sig=x", nil
}
func (fakeSigner) AccountURL() string { return "https://acct.blob.core.windows.net" }

// fakeBlobs serves blobs from a map. mu guards all fields.
type fakeBlobs struct {
	mu         sync.Mutex
	blobs      map[string][]byte // container/name
	containers map[string]bool
	props      map[string]blob.GetPropertiesResponse // container/name
	propsErr   error
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

// fakeStatus keeps the latest document per file. mu guards docs.
type fakeStatus struct {
	mu            sync.Mutex
	docs          map[string]results.FileStatus
	modified      map[string]time.Time // last write per document, by now
	now           func() time.Time     // nil: writes are dated zero
	err           error
	listErr       error
	claimsRefused int
	// legacy makes ListInFlight carry whole documents, as for documents
	// written without the task id in metadata.
	legacy bool
	// gets counts Get calls; getErr fails them.
	gets   int
	getErr error
}

// touch records a write of key; mu must be held.
func (s *fakeStatus) touch(key string) {
	if s.modified == nil {
		s.modified = map[string]time.Time{}
	}
	var t time.Time
	if s.now != nil {
		t = s.now()
	}
	s.modified[key] = t
}

// ListInFlight lists submitted and running documents written before
// before, in key order, limit at a time; the marker is the last key
// returned. Documents are listed from "metadata" (no Doc), unless legacy
// is set: then each is carried whole, as the real store does for
// documents without the task id in metadata. It fails with listErr (err
// fails only writes).
func (s *fakeStatus) ListInFlight(_ context.Context, before time.Time, limit int, marker string) ([]results.Candidate, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, "", s.listErr
	}
	keys := make([]string, 0, len(s.docs))
	for k := range s.docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []results.Candidate
	for _, k := range keys {
		if k <= marker {
			continue
		}
		if d := s.docs[k]; d.State.InFlight() && s.modified[k].Before(before) {
			if len(out) == limit {
				return out, marker, nil
			}
			c := results.Candidate{Container: d.Container, Blob: d.Blob, State: d.State, TaskID: d.TaskID, LastModified: s.modified[k]}
			if s.legacy || d.TaskID == "" {
				c.Doc = &d
			}
			out = append(out, c)
			marker = k
		}
	}
	return out, "", nil
}

func (s *fakeStatus) Put(_ context.Context, st results.FileStatus) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	if s.docs == nil {
		s.docs = map[string]results.FileStatus{}
	}
	s.docs[st.Container+"/"+st.Blob] = st
	s.touch(st.Container + "/" + st.Blob)
	return true, nil
}

// Claim refuses u when it repeats the stored document, with the real
// store's rule; otherwise it stores u like Put. The mutex makes it atomic,
// as the real store's conditional write does.
func (s *fakeStatus) Claim(_ context.Context, u results.FileStatus) (*results.FileStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if s.docs == nil {
		s.docs = map[string]results.FileStatus{}
	}
	key := u.Container + "/" + u.Blob
	if cur, ok := s.docs[key]; ok && u.Repeats(&cur) {
		s.claimsRefused++
		return &cur, nil
	}
	s.docs[key] = u
	s.touch(key)
	return nil, nil
}

func (s *fakeStatus) Get(_ context.Context, c, b string) (*results.FileStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.getErr != nil {
		return nil, s.getErr
	}
	st, ok := s.docs[c+"/"+b]
	if !ok {
		return nil, results.ErrNotFound
	}
	return &st, nil
}

func (s *fakeStatus) Summarize(context.Context, int) (results.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := results.Summary{Counts: map[results.State]int{}}
	for _, d := range s.docs {
		sum.Counts[d.State]++
		sum.Total++
	}
	return sum, nil
}

type fixture struct {
	app      *App
	cfg      *config.Config
	batch    *fakeBatch
	arrivals *fakeSender
	results  *fakeSender
	blobs    *fakeBlobs
	status   *fakeStatus
	now      time.Time
}

func testConfig() *config.Config {
	return &config.Config{
		InputContainer: "input", OutputContainer: "output", StatusContainer: "ffbatch-status", LogsPrefix: "logs/",
		SASLifetime: 2 * time.Hour, ArrivalsQueue: "arrivals", ResultsTopic: "results",
		PoolID: "ffbatch-pool", JobID: "ffbatch-job", VMSize: "Standard_D2s_v3", TaskSlotsPerNode: 2,
		DedicatedMin: 0, DedicatedMax: 1, SpotMin: 0, SpotMax: 2, Scaling: config.ScalingAutoscale, AutoscaleInterval: 5 * time.Minute,
		ImagePublisher: "Canonical", ImageOffer: "ubuntu-24_04-lts", ImageSKU: "server", ImageVersion: "latest", NodeAgentSKU: "batch.node.ubuntu 24.04",
		PoolIdleTimeout: 15 * time.Minute, DefaultPreset: "mp3-192k-cbr", MaxTaskRetries: 2, MaxResubmits: 2,
		ResubmitBackoff: time.Minute, MinWallClock: 10 * time.Minute, WallClockPerGiB: 20 * time.Minute,
		OrphanGrace: 15 * time.Minute,
	}
}

func newFixture(t *testing.T, mutate func(*config.Config)) *fixture {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(cfg)
	}
	f := &fixture{cfg: cfg, batch: newFakeBatch(), arrivals: &fakeSender{}, results: &fakeSender{}, blobs: &fakeBlobs{blobs: map[string][]byte{}}, status: &fakeStatus{},
		now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.app = New(cfg, log, Deps{Batch: f.batch, Arrivals: f.arrivals, Results: f.results, Signer: fakeSigner{}, Blobs: f.blobs, Status: f.status},
		&Options{Now: func() time.Time { return f.now }})
	t.Cleanup(func() { _ = f.app.Close(context.Background()) })
	return f
}
