package handlers

import (
	"context"
	"sync"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
)

// maxBufferedAnswers bounds the answers kept for the activity summary
// while writing it fails.
const maxBufferedAnswers = 1000

// activityBuffer collects the fresh answers of the process's invocations
// (lifecycle.Change.Answered) until flushActivity adds them to the
// activity summary. mu guards items.
type activityBuffer struct {
	mu    sync.Mutex
	items []lifecycle.Entry
}

func (b *activityBuffer) add(es []lifecycle.Entry) {
	if len(es) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items = append(b.items, es...)
	if over := len(b.items) - maxBufferedAnswers; over > 0 {
		b.items = b.items[over:] // keep the newest
	}
}

func (b *activityBuffer) take() []lifecycle.Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	items := b.items
	b.items = nil
	return items
}

// updateStatus runs a transition on a record (statusStore.Update) and
// keeps the answers it decided for the activity summary.
func (a *App) updateStatus(ctx context.Context, container, blob string, fn func(*lifecycle.Record) lifecycle.Change) (lifecycle.Change, error) {
	ch, err := a.d.Status.Update(ctx, container, blob, fn)
	if err == nil {
		a.activity.add(ch.Answered)
	}
	return ch, err
}

// flushActivity adds the collected answers to the activity summary: one
// write for every answer the process decided since the last flush, at
// the end of each invocation. The summary is an observation for the
// dashboard, so a failure is logged and the answers wait for the next
// flush; the invocation does not fail.
func (a *App) flushActivity(ctx context.Context) {
	items := a.activity.take()
	if len(items) == 0 {
		return
	}
	if err := a.d.Status.RecordActivity(context.WithoutCancel(ctx), items); err != nil {
		a.log.Warn("activity summary not updated", "answers", len(items), "err", err)
		a.activity.add(items)
	}
}
