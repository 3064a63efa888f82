package batch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// MaxCollectionBodyBytes is the service's limit on an add-collection body:
// it must be smaller than 1 MiB.
const MaxCollectionBodyBytes = 1 << 20

// AddTasksOptions tune AddTasks. A nil *AddTasksOptions means defaults.
type AddTasksOptions struct {
	// Concurrency is how many add-collection calls may be in flight at
	// once. Default 4.
	Concurrency int
	// MaxServerErrorRetries is how many times a task whose per-task status
	// is servererror is sent again before it is reported as failed.
	// Default 3; negative means no retries.
	MaxServerErrorRetries int
	// RetryDelay is the delay before the first per-task retry; it doubles
	// for each further attempt, up to MaxRetryDelay. Default 1s.
	RetryDelay time.Duration
	// MaxRetryDelay caps RetryDelay's growth. Default 30s.
	MaxRetryDelay time.Duration
	// MaxBodyBytes is the largest body AddTasks sends. Default (and
	// maximum) MaxCollectionBodyBytes-1.
	MaxBodyBytes int
}

// AddTasksResult says what happened to each task, in input order.
type AddTasksResult struct {
	// Added are the ids of the tasks this call created.
	Added []string
	// Existing are the ids the service reported as TaskExists; AddTasks
	// treats them as success, so a repeated call with the same
	// deterministic ids is safe.
	Existing []string
	// Failed are the tasks the service refused, or that still had a server
	// error after the retries.
	Failed []TaskAddFailure
}

// TaskAddFailure is one task the service did not add.
type TaskAddFailure struct {
	TaskID  string
	Status  TaskAddStatus // clienterror or servererror
	Code    string
	Message string
	Values  []ErrorDetail
}

func (f TaskAddFailure) String() string {
	return fmt.Sprintf("task %s: %s %s: %s", f.TaskID, f.Status, f.Code, f.Message)
}

// AddTasks adds any number of tasks to a job. It sends them in
// add-collection calls of at most MaxTasksPerCollection tasks and under the
// body limit, several calls at once. When the service answers
// RequestBodyTooLarge (413) it halves that chunk and lowers the chunk size
// for the rest. Tasks with a per-task servererror are retried with backoff;
// a TaskExists client error counts as already added; other per-task client
// errors are reported in the result without failing the others.
//
// A whole-call failure (a transport error or non-success status after the
// pipeline's retries, such as JobNotFound or a persistent 5xx) stops the
// work and is returned as an error with a nil result; some tasks may have
// been added. Calling AddTasks again with the same ids is safe.
func (c *Client) AddTasks(ctx context.Context, jobID string, tasks []TaskAddParameter, opts *AddTasksOptions) (*AddTasksResult, error) {
	if err := checkID("job", jobID); err != nil {
		return nil, fmt.Errorf("add tasks: %w", err)
	}
	o, err := addTasksDefaults(opts)
	if err != nil {
		return nil, fmt.Errorf("add tasks to job %s: %w", jobID, err)
	}
	items, err := encodeTasks(tasks)
	if err != nil {
		return nil, fmt.Errorf("add tasks to job %s: %w", jobID, err)
	}
	r := &taskAdder{c: c, jobID: jobID, o: o, maxChunk: MaxTasksPerCollection, outcome: make([]taskOutcome, len(items))}
	if err := r.run(ctx, items); err != nil {
		return nil, fmt.Errorf("add tasks to job %s: %w", jobID, err)
	}
	return r.result(items), nil
}

func addTasksDefaults(opts *AddTasksOptions) (AddTasksOptions, error) {
	o := AddTasksOptions{}
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Concurrency < 0:
		return o, fmt.Errorf("concurrency %d is negative", o.Concurrency)
	case o.Concurrency == 0:
		o.Concurrency = 4
	}
	switch {
	case o.MaxServerErrorRetries < 0:
		o.MaxServerErrorRetries = 0
	case o.MaxServerErrorRetries == 0:
		o.MaxServerErrorRetries = 3
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 30 * time.Second
	}
	switch {
	case o.MaxBodyBytes < 0:
		return o, fmt.Errorf("max body bytes %d is negative", o.MaxBodyBytes)
	case o.MaxBodyBytes == 0 || o.MaxBodyBytes >= MaxCollectionBodyBytes:
		o.MaxBodyBytes = MaxCollectionBodyBytes - 1
	}
	return o, nil
}

// taskItem is one task, serialized once.
type taskItem struct {
	index    int
	id       string
	json     []byte
	attempts int // sends that ended in a per-task servererror
}

func encodeTasks(tasks []TaskAddParameter) ([]*taskItem, error) {
	seen := make(map[string]int, len(tasks))
	items := make([]*taskItem, len(tasks))
	for i, t := range tasks {
		if t.ID == "" {
			return nil, fmt.Errorf("task %d has an empty id", i)
		}
		key := strings.ToLower(t.ID) // task ids are case-insensitive
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("tasks %d and %d have the same id %q", j, i, t.ID)
		}
		seen[key] = i
		b, err := marshalJSON(t)
		if err != nil {
			return nil, fmt.Errorf("marshal task %s: %w", t.ID, err)
		}
		items[i] = &taskItem{index: i, id: t.ID, json: b}
	}
	return items, nil
}

type outcomeKind int

const (
	outcomePending outcomeKind = iota
	outcomeAdded
	outcomeExisting
	outcomeFailed
)

type taskOutcome struct {
	kind    outcomeKind
	failure TaskAddFailure
}

// taskAdder holds the state of one AddTasks call. All fields are owned by
// the goroutine running run; senders only read c, jobID and their chunk.
type taskAdder struct {
	c        *Client
	jobID    string
	o        AddTasksOptions
	maxChunk int // lowered on RequestBodyTooLarge
	outcome  []taskOutcome
}

// delayedItem is a task waiting for its retry time.
type delayedItem struct {
	at   time.Time
	item *taskItem
}

// sendResult is what a sender goroutine reports.
type sendResult struct {
	chunk   []*taskItem
	results []TaskAddResult
	tooBig  bool
	err     error
}

// Envelope bytes around the task objects: {"value":[ ... ]} plus commas.
const envelopeBytes = len(`{"value":[]}`)

func (r *taskAdder) run(ctx context.Context, items []*taskItem) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := append([]*taskItem(nil), items...)
	var delayed []delayedItem
	results := make(chan sendResult)
	inflight := 0
	var firstErr error

	for {
		// Tasks whose retry time has come go to the front of the queue.
		now := time.Now()
		var ready []*taskItem
		rest := delayed[:0]
		for _, d := range delayed {
			if !d.at.After(now) {
				ready = append(ready, d.item)
			} else {
				rest = append(rest, d)
			}
		}
		delayed = rest
		queue = append(ready, queue...)

		for firstErr == nil && inflight < r.o.Concurrency && len(queue) > 0 {
			var chunk []*taskItem
			chunk, queue = r.nextChunk(queue)
			inflight++
			go func() { results <- r.send(ctx, chunk) }()
		}
		if inflight == 0 && (firstErr != nil || (len(queue) == 0 && len(delayed) == 0)) {
			return firstErr
		}

		// After a failure only the in-flight sends are awaited.
		var wake <-chan time.Time
		var timer *time.Timer
		if firstErr == nil && len(delayed) > 0 && inflight < r.o.Concurrency {
			earliest := delayed[0].at
			for _, d := range delayed[1:] {
				if d.at.Before(earliest) {
					earliest = d.at
				}
			}
			timer = time.NewTimer(time.Until(earliest))
			wake = timer.C
		}
		var done <-chan struct{}
		if firstErr == nil {
			done = ctx.Done()
		}
		select {
		case res := <-results:
			inflight--
			if firstErr != nil {
				break // draining after a failure
			}
			var requeue, retry []*taskItem
			requeue, retry, firstErr = r.apply(res)
			if firstErr != nil {
				cancel()
				break
			}
			queue = append(requeue, queue...)
			for _, it := range retry {
				delayed = append(delayed, delayedItem{at: time.Now().Add(r.backoff(it.attempts)), item: it})
			}
		case <-wake:
		case <-done:
			firstErr = ctx.Err()
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// nextChunk takes the longest prefix of queue that fits maxChunk tasks and
// the body limit. A task that alone exceeds the limit is sent by itself so
// that the service's 413 reports it.
func (r *taskAdder) nextChunk(queue []*taskItem) (chunk, rest []*taskItem) {
	size := envelopeBytes
	n := 0
	for n < len(queue) && n < r.maxChunk {
		add := len(queue[n].json)
		if n > 0 {
			add++ // comma
		}
		if n > 0 && size+add > r.o.MaxBodyBytes {
			break
		}
		size += add
		n++
	}
	return queue[:n:n], queue[n:]
}

func (r *taskAdder) backoff(attempt int) time.Duration {
	d := r.o.RetryDelay
	for i := 1; i < attempt && d < r.o.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, r.o.MaxRetryDelay)
}

// send makes one add-collection call for chunk.
func (r *taskAdder) send(ctx context.Context, chunk []*taskItem) sendResult {
	res := sendResult{chunk: chunk}
	body := r.body(chunk)
	if len(chunk) == 1 && len(body) > r.o.MaxBodyBytes {
		res.tooBig = true // no need to ask the service
		return res
	}
	req, err := r.c.newRequest(ctx, http.MethodPost, "/jobs/"+escape(r.jobID)+"/addtaskcollection", nil)
	if err != nil {
		res.err = err
		return res
	}
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), contentTypeJSON); err != nil {
		res.err = err
		return res
	}
	resp, err := r.c.pl.Do(req)
	if err != nil {
		res.err = err
		return res
	}
	if resp.StatusCode != http.StatusOK {
		rerr := runtime.NewResponseError(resp)
		if resp.StatusCode == http.StatusRequestEntityTooLarge || HasCode(rerr, CodeRequestBodyTooLarge) {
			res.tooBig = true
			return res
		}
		res.err = rerr
		return res
	}
	var out TaskAddCollectionResult
	if err := runtime.UnmarshalAsJSON(resp, &out); err != nil {
		res.err = fmt.Errorf("decode add collection result: %w", err)
		return res
	}
	res.results = out.Value
	return res
}

func (r *taskAdder) body(chunk []*taskItem) []byte {
	var b bytes.Buffer
	b.WriteString(`{"value":[`)
	for i, it := range chunk {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.json)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// apply records a send's outcome and returns the tasks to send again now
// (split halves) and after a backoff (server errors).
func (r *taskAdder) apply(res sendResult) (requeue, retry []*taskItem, err error) {
	if res.err != nil {
		return nil, nil, res.err
	}
	if res.tooBig {
		if len(res.chunk) == 1 {
			it := res.chunk[0]
			r.outcome[it.index] = taskOutcome{kind: outcomeFailed, failure: TaskAddFailure{
				TaskID: it.id, Status: TaskAddStatusClientError, Code: CodeRequestBodyTooLarge,
				Message: fmt.Sprintf("the task alone (%d bytes serialized) is too large for an add-collection request", len(it.json)),
			}}
			return nil, nil, nil
		}
		half := (len(res.chunk) + 1) / 2
		r.maxChunk = min(r.maxChunk, half)
		return res.chunk, nil, nil
	}
	byID := make(map[string]*TaskAddResult, len(res.results))
	for i := range res.results {
		byID[strings.ToLower(res.results[i].TaskID)] = &res.results[i]
	}
	for _, it := range res.chunk {
		tr, ok := byID[strings.ToLower(it.id)]
		if !ok {
			// The service answered for the chunk but not for this task:
			// treat it like a server error so it is sent again.
			tr = &TaskAddResult{Status: TaskAddStatusServerError, TaskID: it.id,
				Error: &Error{Code: "MissingTaskResult", Message: &ErrorMessage{Value: "the add-collection response had no result for this task"}}}
		}
		switch {
		case tr.Status == TaskAddStatusSuccess:
			r.outcome[it.index] = taskOutcome{kind: outcomeAdded}
		case tr.Status == TaskAddStatusClientError && tr.Error != nil && tr.Error.Code == CodeTaskExists:
			r.outcome[it.index] = taskOutcome{kind: outcomeExisting}
		case tr.Status == TaskAddStatusServerError && it.attempts < r.o.MaxServerErrorRetries:
			it.attempts++
			retry = append(retry, it)
		default:
			r.outcome[it.index] = taskOutcome{kind: outcomeFailed, failure: failureOf(it.id, tr)}
		}
	}
	return nil, retry, nil
}

func failureOf(id string, tr *TaskAddResult) TaskAddFailure {
	f := TaskAddFailure{TaskID: id, Status: tr.Status}
	if f.Status == "" {
		f.Status = TaskAddStatusServerError
	}
	if tr.Error != nil {
		f.Code = tr.Error.Code
		f.Message = tr.Error.MessageText()
		f.Values = tr.Error.Values
	}
	return f
}

func (r *taskAdder) result(items []*taskItem) *AddTasksResult {
	res := &AddTasksResult{}
	sort.Slice(items, func(i, j int) bool { return items[i].index < items[j].index })
	for _, it := range items {
		switch o := r.outcome[it.index]; o.kind {
		case outcomeAdded:
			res.Added = append(res.Added, it.id)
		case outcomeExisting:
			res.Existing = append(res.Existing, it.id)
		case outcomeFailed:
			res.Failed = append(res.Failed, o.failure)
		}
	}
	return res
}
