package statusapi

import (
	"context"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Store is the part of the status store a page reads.
type Store interface {
	ListRows(ctx context.Context, q lifecycle.RowQuery) (lifecycle.RowPage, error)
	Activity(ctx context.Context) (lifecycle.Activity, error)
}

var _ Store = (*lifecycle.Store)(nil)

// Batch is the part of the Batch client a page reads.
type Batch interface {
	GetPool(ctx context.Context, poolID string, opts *batch.GetOptions) (*batch.Pool, error)
	NewListNodesPager(poolID string, opts *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Node]]
	GetTaskCounts(ctx context.Context, jobID string) (*batch.TaskCountsResult, error)
	NewListTasksPager(jobID string, opts *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Task]]
}

var _ Batch = (*batch.Client)(nil)

// Signer mints read-only SAS URLs of one blob.
type Signer interface {
	ReadBlobURL(ctx context.Context, container, blob string, lifetime time.Duration) (string, error)
}

// QueueCounter reads the arrivals queue's depth. It answers a Queue with
// Known false and a Reason when the depth cannot be read.
type QueueCounter interface {
	QueueCounts(ctx context.Context) Queue
}

// Sources are the clients a page reads. Queue may be nil (depth unknown).
type Sources struct {
	Store  Store
	Batch  Batch
	Signer Signer
	Queue  QueueCounter
}

// Config names what a page is about.
type Config struct {
	// Containers are the containers rows can be listed for, the input
	// container first.
	Containers      []string
	OutputContainer string
	LogsPrefix      string
	PoolID, JobID   string
	// QueueName is the arrivals queue (reported when its depth is unknown).
	QueueName string
	// LinkLifetime is how long links stay valid. Default DefaultLinkLifetime.
	LinkLifetime time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultLinkLifetime is how long a page's links stay valid: long enough
// to click, short enough that a copied link soon stops working.
const DefaultLinkLifetime = 15 * time.Minute

// Builder builds pages. Safe for concurrent use.
type Builder struct {
	src Sources
	cfg Config
}

// New returns a Builder. Store, Batch and Signer are required.
func New(src Sources, cfg Config) *Builder {
	if cfg.LinkLifetime <= 0 {
		cfg.LinkLifetime = DefaultLinkLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Builder{src: src, cfg: cfg}
}

// Containers returns the containers rows can be listed for.
func (b *Builder) Containers() []string { return b.cfg.Containers }

// Build reads every part of a page concurrently. Parts that fail are left
// out and named in Problems.
func (b *Builder) Build(ctx context.Context, q Query) Page {
	p := Page{Schema: Schema, GeneratedAt: b.cfg.Now().UTC(), Query: q, Containers: b.cfg.Containers, Rows: []Row{}}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // guards p.Problems
		rows     lifecycle.RowPage
		rowsErr  error
		live     map[string]liveTask
		activity lifecycle.Activity
	)
	problem := func(part string, err error) {
		mu.Lock()
		defer mu.Unlock()
		p.Problems = append(p.Problems, part+": "+results.Excerpt(err.Error(), 300))
	}
	run := func(fn func()) {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	run(func() { rows, rowsErr = b.src.Store.ListRows(ctx, q.rowQuery()) })
	run(func() { live = b.liveTasks(ctx) })
	run(func() {
		var err error
		if activity, err = b.src.Store.Activity(ctx); err != nil {
			problem("activity", err)
		}
	})
	run(func() {
		var err error
		if p.Pool, err = b.pool(ctx); err != nil {
			problem("pool", err)
		}
	})
	run(func() {
		if c, err := b.src.Batch.GetTaskCounts(ctx, b.cfg.JobID); err == nil {
			p.Tasks = &c.TaskCounts
		} else if !batch.HasCode(err, batch.CodeJobNotFound) {
			problem("tasks", err)
		}
	})
	run(func() { p.Queue = b.queue(ctx) })
	wg.Wait()
	if rowsErr != nil {
		problem("rows", rowsErr)
	}
	p.Next, p.Scan = rows.Next, Scan{Listed: rows.Listed, Requests: rows.Requests, Limited: rows.Limited}
	p.Rows = b.rows(ctx, q, rows.Rows, live)
	p.Activity = activityOf(activity)
	return p
}

// rows adds the live state and the links to the listed rows, keeping
// those the query asks for.
func (b *Builder) rows(ctx context.Context, q Query, listed []lifecycle.Row, live map[string]liveTask) []Row {
	out := make([]Row, 0, len(listed))
	for _, lr := range listed {
		r := Row{Row: lr}
		if t, ok := live[r.TaskID]; ok && r.State == results.StateSubmitted {
			r.State = results.StateRunning
			if !t.started.IsZero() {
				r.StartedAt = t.started
			}
		}
		if !q.keeps(r) {
			continue
		}
		r.Links = b.links(ctx, r)
		out = append(out, r)
	}
	return out
}

func (b *Builder) queue(ctx context.Context) Queue {
	if b.src.Queue == nil {
		return Queue{Name: b.cfg.QueueName, Reason: "the function app has no management access to Service Bus"}
	}
	q := b.src.Queue.QueueCounts(ctx)
	q.Name = b.cfg.QueueName
	return q
}

// activityOf adds up the minutes.
func activityOf(a lifecycle.Activity) Activity {
	out := Activity{WindowMinutes: int(lifecycle.ActivityWindow / time.Minute), Minutes: a.Minutes, Recent: a.Recent}
	if out.Minutes == nil {
		out.Minutes = []lifecycle.MinuteCount{}
	}
	if out.Recent == nil {
		out.Recent = []lifecycle.Answer{}
	}
	for _, m := range a.Minutes {
		t := &out.Totals
		t.Succeeded, t.Failed, t.Reused, t.Refused = t.Succeeded+m.Succeeded, t.Failed+m.Failed, t.Reused+m.Reused, t.Refused+m.Refused
		t.AudioMillis += m.AudioMillis
	}
	return out
}
