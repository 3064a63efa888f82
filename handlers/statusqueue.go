package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

// statusQueueSize bounds the status writes waiting in the background.
const statusQueueSize = 20000

// statusWriteTimeout bounds one background status write.
const statusWriteTimeout = 30 * time.Second

// statusQueue writes "submitted" status documents in the background, so a
// batch of hundreds of arrivals is not held up by one storage round trip
// per file. The status store is best effort and eventually consistent:
// when the queue is full a write is dropped (and counted), and the next
// transition (the sweep's result) writes the file's state anyway.
//
// The handler process is long-lived, so queued writes normally complete
// within seconds; Close drains the queue on shutdown. If the host kills
// the process, queued writes are lost, with the same consequence as a drop.
type statusQueue struct {
	ch      chan results.FileStatus
	pending sync.WaitGroup // one per queued write
	workers sync.WaitGroup // one per worker goroutine
	dropped atomic.Int64
	closed  sync.Once
}

func (a *App) startStatusQueue() {
	q := &statusQueue{ch: make(chan results.FileStatus, statusQueueSize)}
	for range statusWorkers {
		q.workers.Add(1)
		go func() {
			defer q.workers.Done()
			for st := range q.ch {
				ctx, cancel := context.WithTimeout(context.Background(), statusWriteTimeout)
				a.putStatus(ctx, st)
				cancel()
				q.pending.Done()
			}
		}()
	}
	a.sq = q
}

// enqueueStatuses queues writes; a full queue drops them with a warning.
func (a *App) enqueueStatuses(sts []results.FileStatus) {
	var dropped int
	for _, st := range sts {
		a.sq.pending.Add(1)
		select {
		case a.sq.ch <- st:
		default:
			a.sq.pending.Done()
			dropped++
		}
	}
	if dropped > 0 {
		total := a.sq.dropped.Add(int64(dropped))
		a.log.Warn("status queue full: status writes dropped", "dropped", dropped, "dropped_total", total)
	}
}

// Flush waits until every queued status write has been attempted, or ctx
// ends.
func (a *App) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		a.sq.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close drains the status queue (bounded by ctx) and stops its workers.
// Call it once, after the last invocation.
func (a *App) Close(ctx context.Context) error {
	err := a.Flush(ctx)
	a.sq.closed.Do(func() { close(a.sq.ch) })
	if err == nil {
		a.sq.workers.Wait()
	}
	return err
}
