package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// Function names: the folder names under function-definitions/ and the
// paths the host POSTs to.
const (
	FuncBlobCreated  = "BlobCreated"
	FuncSubmitTasks  = "SubmitTasks"
	FuncTaskFinished = "TaskFinished"
	FuncSweepPools   = "SweepPools"
	FuncStatus       = "Status"
	FuncDashboard    = "Dashboard"
)

// Binding names used in function.json.
const (
	bindingEvent    = "event"
	bindingArrivals = "arrivals"
	bindingTimer    = "timer"
	bindingRequest  = "req"
	bindingResponse = "res"
)

// messageSender sends to one queue or topic.
type messageSender interface {
	SendMessage(ctx context.Context, msg *azservicebus.Message, opts *azservicebus.SendMessageOptions) error
	ScheduleMessages(ctx context.Context, msgs []*azservicebus.Message, at time.Time, opts *azservicebus.ScheduleMessagesOptions) ([]int64, error)
}

var _ messageSender = (*azservicebus.Sender)(nil)

// batchAPI is the part of the Batch client the functions use.
type batchAPI interface {
	GetPool(ctx context.Context, poolID string, opts *batch.GetOptions) (*batch.Pool, error)
	CreatePool(ctx context.Context, pool batch.PoolAddParameter) error
	ResizePool(ctx context.Context, poolID string, params batch.PoolResizeParameter) error
	DeletePool(ctx context.Context, poolID string) error
	GetJob(ctx context.Context, jobID string, opts *batch.GetOptions) (*batch.Job, error)
	CreateJob(ctx context.Context, job batch.JobAddParameter) error
	PatchJob(ctx context.Context, jobID string, patch batch.JobPatchParameter) error
	TerminateJob(ctx context.Context, jobID, reason string) error
	DeleteJob(ctx context.Context, jobID string) error
	GetTaskCounts(ctx context.Context, jobID string) (*batch.TaskCountsResult, error)
	AddTasks(ctx context.Context, jobID string, tasks []batch.TaskAddParameter, opts *batch.AddTasksOptions) (*batch.AddTasksResult, error)
	GetTask(ctx context.Context, jobID, taskID string, opts *batch.GetOptions) (*batch.Task, error)
	NewListTasksPager(jobID string, opts *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Task]]
	NewListNodesPager(poolID string, opts *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Node]]
	DeleteTask(ctx context.Context, jobID, taskID string) error
}

var _ batchAPI = (*batch.Client)(nil)

// signer mints SAS URLs for tasks.
type signer interface {
	ReadBlobURL(ctx context.Context, container, blob string, lifetime time.Duration) (string, error)
	WriteContainerURL(ctx context.Context, container string, lifetime time.Duration) (string, error)
	AccountURL() string
}

var _ signer = (*blobaccess.Signer)(nil)

// blobAPI is the part of the blob client the functions use: creating the
// output container once, reading a task's logs, reading a blob's
// properties (an input's Content-MD5 and ETag, a staged or promoted
// MP3's length and metadata), and promoting a staged MP3 (a server-side
// copy within the output container, then deleting the staged blob).
type blobAPI interface {
	CreateContainer(ctx context.Context, containerName string, o *azblob.CreateContainerOptions) (azblob.CreateContainerResponse, error)
	DownloadStream(ctx context.Context, containerName, blobName string, o *azblob.DownloadStreamOptions) (azblob.DownloadStreamResponse, error)
	GetProperties(ctx context.Context, containerName, blobName string) (blob.GetPropertiesResponse, error)
	StartCopy(ctx context.Context, containerName, blobName, sourceURL string, o *blob.StartCopyFromURLOptions) (blob.StartCopyFromURLResponse, error)
	DeleteBlob(ctx context.Context, containerName, blobName string, o *azblob.DeleteBlobOptions) (azblob.DeleteBlobResponse, error)
}

var _ blobAPI = storageClient{}

// storageClient is the azblob client plus the calls it lacks at the top
// level: a blob's properties and a server-side copy.
type storageClient struct{ *azblob.Client }

func (c storageClient) GetProperties(ctx context.Context, containerName, blobName string) (blob.GetPropertiesResponse, error) {
	return c.ServiceClient().NewContainerClient(containerName).NewBlobClient(blobName).GetProperties(ctx, nil)
}

// StartCopy starts a server-side copy of sourceURL to the blob (Copy Blob).
func (c storageClient) StartCopy(ctx context.Context, containerName, blobName, sourceURL string, o *blob.StartCopyFromURLOptions) (blob.StartCopyFromURLResponse, error) {
	return c.ServiceClient().NewContainerClient(containerName).NewBlobClient(blobName).StartCopyFromURL(ctx, sourceURL, o)
}

// statusStore keeps the status records of input blobs, the owners of
// output blobs, the activity summary and SubmitTasks' journals (see
// internal/lifecycle).
type statusStore interface {
	Update(ctx context.Context, container, blob string, fn func(*lifecycle.Record) lifecycle.Change) (lifecycle.Change, error)
	UpdateNew(ctx context.Context, container, blob string, fn func(*lifecycle.Record) lifecycle.Change) (lifecycle.Change, error)
	Get(ctx context.Context, container, blob string) (*lifecycle.Record, error)
	ClaimOutput(ctx context.Context, o lifecycle.OutputOwner, overwrite bool) (*lifecycle.OutputOwner, error)
	ListInFlight(ctx context.Context, before time.Time, limit int, marker string) ([]lifecycle.Candidate, string, error)
	ListRows(ctx context.Context, q lifecycle.RowQuery) (lifecycle.RowPage, error)
	Activity(ctx context.Context) (lifecycle.Activity, error)
	RecordActivity(ctx context.Context, answered []lifecycle.Entry) error
	WriteJournal(ctx context.Context, j *lifecycle.Journal) error
	ReadJournal(ctx context.Context, name string) (*lifecycle.Journal, error)
	DeleteJournal(ctx context.Context, name string) error
	ListJournals(ctx context.Context, before time.Time, limit int) ([]string, error)
}

var _ statusStore = (*lifecycle.Store)(nil)

// Deps are the clients the functions use.
type Deps struct {
	Batch    batchAPI
	Arrivals messageSender // the arrivals queue
	Results  messageSender // the results topic
	// DeadLetters is the arrivals queue's dead-letter subqueue, which
	// SweepPools drains (deadletters.go); nil skips that stage.
	DeadLetters deadLetterQueue
	Signer      signer
	Blobs       blobAPI
	Status      statusStore
	// Queue reads the arrivals queue's depth for the Status page; nil
	// reports it unknown.
	Queue statusapi.QueueCounter
}

// Options tune an App. nil means defaults.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// AddTasks tunes the Batch client's AddTasks.
	AddTasks *batch.AddTasksOptions
}

// App is the function app: configuration, clients and the functions.
// Safe for concurrent use.
type App struct {
	cfg  *config.Config
	log  *slog.Logger
	d    Deps
	now  func() time.Time
	opts Options
	out  containerOnce
	// orphans paces SweepPools' scans for lost tasks.
	orphans orphanScan
	// status builds the Status page; activity collects fresh answers for
	// the activity summary.
	status   *statusapi.Builder
	activity activityBuffer
	// folds runs SubmitTasks' journal folds in the background.
	folds *folds
}

// New returns the app. All Deps must be set.
func New(cfg *config.Config, log *slog.Logger, d Deps, opts *Options) *App {
	a := &App{cfg: cfg, log: log, d: d, now: time.Now, folds: newFolds()}
	if opts != nil {
		a.opts = *opts
		if opts.Now != nil {
			a.now = opts.Now
		}
	}
	a.status = statusapi.New(statusapi.Sources{Store: d.Status, Batch: d.Batch, Signer: d.Signer, Queue: d.Queue}, statusapi.Config{
		Containers:      append([]string{cfg.InputContainer}, cfg.UpstreamContainers...),
		OutputContainer: cfg.OutputContainer, LogsPrefix: cfg.LogsPrefix, PoolID: cfg.PoolID, JobID: cfg.JobID,
		QueueName: cfg.ArrivalsQueue, Now: a.now,
	})
	return a
}

// Register adds the functions to mux.
func (a *App) Register(mux *customhandler.Mux) {
	mux.Handle(FuncBlobCreated, customhandler.HandlerFunc(a.BlobCreated))
	mux.Handle(FuncSubmitTasks, customhandler.HandlerFunc(a.SubmitTasks))
	mux.Handle(FuncTaskFinished, customhandler.HandlerFunc(a.TaskFinished))
	mux.Handle(FuncSweepPools, customhandler.HandlerFunc(a.SweepPools))
	mux.Handle(FuncStatus, customhandler.HandlerFunc(a.Status))
	mux.Handle(FuncDashboard, customhandler.HandlerFunc(a.Dashboard))
}
