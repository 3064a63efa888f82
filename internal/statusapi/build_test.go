package statusapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
	"github.com/ffbatch/ffbatch/internal/statusapi/schematest"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func rowIn(s results.State) lifecycle.Row {
	return lifecycle.Row{Container: "input", Blob: "x.mp4", State: s}
}

type fakeStore struct {
	rows     []lifecycle.Row
	err      error
	activity lifecycle.Activity
	got      lifecycle.RowQuery
}

func (f *fakeStore) ListRows(_ context.Context, q lifecycle.RowQuery) (lifecycle.RowPage, error) {
	f.got = q
	return lifecycle.RowPage{Rows: f.rows, Listed: len(f.rows), Requests: 1}, f.err
}

func (f *fakeStore) Activity(context.Context) (lifecycle.Activity, error) { return f.activity, nil }

type fakeBatch struct {
	pool  *batch.Pool
	nodes []batch.Node
	tasks []batch.Task
	err   error
}

func onePage[T any](items []T, err error) *runtime.Pager[batch.ListPage[T]] {
	done := false
	return runtime.NewPager(runtime.PagingHandler[batch.ListPage[T]]{
		More: func(batch.ListPage[T]) bool { return !done },
		Fetcher: func(context.Context, *batch.ListPage[T]) (batch.ListPage[T], error) {
			done = true
			return batch.ListPage[T]{Value: items}, err
		},
	})
}

func (f *fakeBatch) GetPool(context.Context, string, *batch.GetOptions) (*batch.Pool, error) {
	if f.pool == nil {
		return nil, f.err
	}
	return f.pool, nil
}
func (f *fakeBatch) NewListNodesPager(string, *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Node]] {
	return onePage(f.nodes, nil)
}
func (f *fakeBatch) GetTaskCounts(context.Context, string) (*batch.TaskCountsResult, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &batch.TaskCountsResult{TaskCounts: batch.TaskCounts{Active: 1, Running: 1}}, nil
}
func (f *fakeBatch) NewListTasksPager(string, *batch.ListOptions) *runtime.Pager[batch.ListPage[batch.Task]] {
	return onePage(f.tasks, f.err)
}

type fakeSigner struct{}

func (fakeSigner) ReadBlobURL(_ context.Context, c, b string, life time.Duration) (string, error) {
	return "https://acct/" + c + "/" + url.PathEscape(b) + "?sp=r&se=" + now.Add(life).Format(time.RFC3339), nil
}

func builder(s *fakeStore, b *fakeBatch) *Builder {
	return New(Sources{Store: s, Batch: b, Signer: fakeSigner{}}, Config{Containers: []string{"input"}, OutputContainer: "output",
		LogsPrefix: "logs/", PoolID: "pool", JobID: "job", QueueName: "arrivals", Now: func() time.Time { return now }})
}

func TestBuild(t *testing.T) {
	store := &fakeStore{rows: []lifecycle.Row{
		{Container: "input", Blob: "a.mp4", State: results.StateSucceeded, TaskID: "t-a", Output: "a.mp3"},
		{Container: "input", Blob: "b.mp4", State: results.StateSubmitted, TaskID: "t-b"},
		{Container: "input", Blob: "c.mp4", State: results.StateSubmitted, TaskID: "t-c"},
		{Container: "input", Blob: "d.mp4", State: results.StateSucceeded, Output: "d.mp3", Reused: true, TaskID: "t-a"},
		{Container: "input", Blob: "e.mp4", State: results.StateFailed, TaskID: "t-e", Reason: "ffmpeg"},
	}, activity: lifecycle.Activity{Minutes: []lifecycle.MinuteCount{{Minute: now, Succeeded: 2, AudioMillis: 1000}, {Minute: now.Add(-time.Minute), Failed: 1}}}}
	fb := &fakeBatch{
		pool: &batch.Pool{ID: "pool", State: batch.PoolStateActive, TargetDedicatedNodes: 3, TaskSlotsPerNode: 2},
		nodes: []batch.Node{{ID: "n1", State: batch.NodeStateRunning, RunningTaskSlotsCount: 2}, {ID: "n2", State: batch.NodeStateIdle},
			{ID: "n3", State: batch.NodeStateStartTaskFailed}},
		tasks: []batch.Task{{ID: "t-b", State: batch.TaskStateRunning, ExecutionInfo: &batch.TaskExecutionInfo{StartTime: now.Add(-time.Second)}}},
	}
	p := builder(store, fb).Build(context.Background(), Query{Container: "input", Limit: 10})
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, body)
	var states []string
	for _, r := range p.Rows {
		states = append(states, r.Blob+":"+string(r.State))
	}
	if got := strings.Join(states, " "); got != "a.mp4:succeeded b.mp4:running c.mp4:submitted d.mp4:succeeded e.mp4:failed" {
		t.Errorf("rows = %s", got)
	}
	links := func(i int) *Links { return p.Rows[i].Links }
	switch {
	case links(0) == nil || !strings.Contains(links(0).Output, "/output/a.mp3?sp=r") || !strings.Contains(links(0).Stderr, "/output/logs%2Ft-a%2Fstderr.txt") && !strings.Contains(links(0).Stderr, "logs/t-a/stderr.txt"):
		t.Errorf("succeeded row links = %+v, want the MP3 and the logs", links(0))
	case links(1) != nil || links(2) != nil:
		t.Errorf("in-flight rows have links: %+v %+v", links(1), links(2))
	case links(3) == nil || links(3).Stdout != "" || links(3).Output == "":
		t.Errorf("reused row links = %+v, want the MP3 only (its task is another request's)", links(3))
	case links(4) == nil || links(4).Output != "" || links(4).Stderr == "":
		t.Errorf("failed row links = %+v, want the logs only", links(4))
	case !links(0).ExpiresAt.Equal(now.Add(DefaultLinkLifetime)):
		t.Errorf("links expire at %v, want in %v", links(0).ExpiresAt, DefaultLinkLifetime)
	}
	if !p.Rows[1].StartedAt.Equal(now.Add(-time.Second)) {
		t.Errorf("running row started at %v", p.Rows[1].StartedAt)
	}
	if p.Pool == nil || p.Pool.Heat[HeatRunning] != 1 || p.Pool.Heat[HeatIdle] != 1 || p.Pool.Heat[HeatUnusable] != 1 ||
		p.Pool.Slots != (Slots{Total: 6, Running: 2}) || p.Pool.TargetDedicated != 3 {
		t.Errorf("pool = %+v", p.Pool)
	}
	if tot := p.Activity.Totals; tot.Succeeded != 2 || tot.Failed != 1 || tot.AudioMillis != 1000 || p.Activity.WindowMinutes != 60 {
		t.Errorf("activity = %+v", p.Activity)
	}
	if p.Queue.Known || p.Queue.Name != "arrivals" || len(p.Problems) != 0 || p.Schema != Schema {
		t.Errorf("queue %+v, problems %v", p.Queue, p.Problems)
	}
}

// TestBuildDegrades: parts that fail are named in Problems; the page is
// still answered.
func TestBuildDegrades(t *testing.T) {
	store := &fakeStore{err: errors.New("storage down")}
	fb := &fakeBatch{err: errors.New("batch down")}
	p := builder(store, fb).Build(context.Background(), Query{Container: "input", Limit: 10})
	body, _ := json.Marshal(p)
	schematest.Validate(t, body)
	joined := strings.Join(p.Problems, "; ")
	for _, part := range []string{"rows: storage down", "pool: batch down", "tasks: batch down"} {
		if !strings.Contains(joined, part) {
			t.Errorf("problems %q lack %q", joined, part)
		}
	}
	if p.Rows == nil || p.Pool != nil || p.Tasks != nil {
		t.Errorf("degraded page = %+v", p)
	}
}
