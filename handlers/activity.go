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
// activity summary. mu guards items and flushing; flushing is true while
// one invocation writes the summary for the whole process.
type activityBuffer struct {
	mu       sync.Mutex
	items    []lifecycle.Entry
	flushing bool
}

func (b *activityBuffer) add(es []lifecycle.Entry) {
	if len(es) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keep(es)
}

// keep appends es to the buffer, newest last, within maxBufferedAnswers;
// b.mu is held.
func (b *activityBuffer) keep(es []lifecycle.Entry) {
	b.items = append(b.items, es...)
	if over := len(b.items) - maxBufferedAnswers; over > 0 {
		b.items = b.items[over:] // keep the newest
	}
}

// startFlush takes the buffered answers for one summary write, unless
// another write is under way (its writer takes these too once it is
// done) or there is nothing to write.
func (b *activityBuffer) startFlush() ([]lifecycle.Entry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushing || len(b.items) == 0 {
		return nil, false
	}
	items := b.items
	b.items, b.flushing = nil, true
	return items, true
}

// endFlush ends a summary write; failed are its answers when it failed,
// kept for the next flush, ahead of those added meanwhile.
func (b *activityBuffer) endFlush(failed []lifecycle.Entry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushing = false
	if len(failed) > 0 {
		added := b.items
		b.items = nil
		b.keep(failed)
		b.keep(added)
	}
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

// flushActivity adds the collected answers to the activity summary, at
// the end of each invocation. One invocation at a time writes it for the
// whole process, and takes what the others collected meanwhile: one read
// and write per flush however many invocations finish together, instead
// of concurrent writes of the same document conflicting and retrying
// (under a burst of TaskFinished invocations they gave up after 8
// conflicting writes, hundreds of times, on the store every stage uses).
// The summary is an observation for the dashboard, so a failure is logged
// and the answers wait for the next flush; the invocation does not fail.
func (a *App) flushActivity(ctx context.Context) {
	for {
		items, ok := a.activity.startFlush()
		if !ok {
			return
		}
		if err := a.d.Status.RecordActivity(context.WithoutCancel(ctx), items); err != nil {
			a.log.Warn("activity summary not updated", "answers", len(items), "err", err)
			a.activity.endFlush(items)
			return
		}
		a.activity.endFlush(nil)
	}
}
