package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
)

// foldWorkers bounds the record updates that background folds run at
// once, across invocations. Few, because the folds share the store with
// the invocations' journal writes: against Azurite (CPU-bound) 4 fold
// as fast as 16 and keep the journal writes from queueing behind them
// (BENCHMARKS.md).
const foldWorkers = 4

// foldFileTimeout bounds the fold of one file's requests (its record
// update and the answers it decided), counted from when the fold gets its
// turn (foldWorkers), not from when it started waiting: a burst of
// journals waits in line behind the store, and a deadline on the whole
// fold timed hundreds of them out in the queue (the 10,000-file run). A
// fold cut short leaves its journal for SweepPools.
const foldFileTimeout = time.Minute

// orphanCheckTimeout bounds the removal of the tasks a fold found nobody
// waits on.
const orphanCheckTimeout = time.Minute

// journalGrace is how old a journal must be before SweepPools folds it:
// younger ones are normally being folded by the invocation that wrote
// them (folding one twice is harmless, only wasted work).
const journalGrace = time.Minute

// maxSweepJournals bounds the journals one sweep folds; the next sweep
// continues.
const maxSweepJournals = 100

// folds runs the journals' folds in the background, each started as
// soon as its journal is written: sem bounds the record updates in flight
// across all folds; wg counts the folds running (Drain waits for it);
// fileTimeout is foldFileTimeout (tests shorten it). mu guards running,
// the journals being folded in the background, by name.
type folds struct {
	sem         chan struct{}
	wg          sync.WaitGroup
	fileTimeout time.Duration

	mu      sync.Mutex
	running map[string]*lifecycle.Journal
}

func newFolds() *folds {
	return &folds{sem: make(chan struct{}, foldWorkers), fileTimeout: foldFileTimeout, running: map[string]*lifecycle.Journal{}}
}

// track records j as being folded in the background until the returned
// func is called.
func (f *folds) track(j *lifecycle.Journal) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running[j.Name] = j
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.running[j.Name] == j {
			delete(f.running, j.Name)
		}
	}
}

// inBackground returns the journal name if this process is folding it in
// the background, else nil.
func (f *folds) inBackground(name string) *lifecycle.Journal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running[name]
}

// foldLater folds j in the background and returns a channel closed once
// the fold is over (done or failed); once added is closed (the invocation
// has added the tasks, or given up), it removes the tasks the fold found
// nobody waits on. A failure is logged and leaves the journal for
// SweepPools, which folds it again.
func (a *App) foldLater(ctx context.Context, j *lifecycle.Journal, added <-chan struct{}) <-chan struct{} {
	folded := make(chan struct{})
	a.folds.wg.Add(1)
	untrack := a.folds.track(j)
	go func() {
		defer a.folds.wg.Done()
		ctx := context.WithoutCancel(ctx)
		defer a.flushActivity(ctx)
		orphans, err := a.fold(ctx, j)
		untrack()
		close(folded)
		if err != nil {
			a.log.Warn("submit tasks: journal not folded yet; SweepPools will", "journal", j.Name, "err", err)
			return
		}
		<-added
		ctx, cancel := context.WithTimeout(ctx, orphanCheckTimeout)
		defer cancel()
		a.removeOrphans(ctx, orphans)
	}()
	return folded
}

// Drain waits until the folds running in the background have finished,
// or ctx is done. The handler calls it when it shuts down; tests call it
// before they look at the records.
func (a *App) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { a.folds.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain background folds: %w", ctx.Err())
	}
}

// fold records every request of j in its file's status record
// (lifecycle.Record.Fold), publishes what that answered (the reuses of
// done work), and deletes j. It returns the tasks added for j that no
// request waits on. Each step is idempotent, so a fold cut short anywhere
// is repeated by SweepPools without a second answer.
func (a *App) fold(ctx context.Context, j *lifecycle.Journal) ([]string, error) {
	files := j.Files()
	var mu sync.Mutex // guards orphans
	var orphans []string
	err := forEach(len(files), statusWorkers, func(i int) error {
		f := files[i]
		select {
		case a.folds.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-a.folds.sem }()
		ctx, cancel := context.WithTimeout(ctx, a.folds.fileTimeout)
		defer cancel()
		ch, err := a.foldFile(ctx, f, j.AcceptedAt)
		if err != nil {
			return err
		}
		mu.Lock()
		orphans = append(orphans, ch.Orphans...)
		mu.Unlock()
		return a.carryOut(ctx, ch)
	})
	if err != nil {
		return nil, fmt.Errorf("fold journal %s: %w", j.Name, err)
	}
	return orphans, a.d.Status.DeleteJournal(ctx, j.Name)
}

// foldFile folds one file's journalled requests into its record. A file
// whose requests are all first attempts from messages probably has no
// record yet (a drop's is written by BlobCreated), so the record is
// created without reading it first.
func (a *App) foldFile(ctx context.Context, f lifecycle.FileRequests, accepted time.Time) (lifecycle.Change, error) {
	update := a.d.Status.UpdateNew
	for _, r := range f.Requests {
		if r.Source != request.SourceMessage || r.Attempt > 0 {
			update = a.d.Status.Update
		}
	}
	ch, err := update(ctx, f.Container, f.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		return rec.Fold(f.Requests, accepted)
	})
	if err == nil {
		a.activity.add(ch.Answered)
	}
	return ch, err
}

// removeOrphans deletes the tasks that no request waits on and that have
// not completed (a completed one is left to settling, which may still be
// publishing the answers of the requests it did wait on), so work already
// done is not done again. Best effort: an orphan left alone only costs its
// run, and settling it answers nobody.
func (a *App) removeOrphans(ctx context.Context, tasks []string) {
	for _, id := range tasks {
		t, err := a.d.Batch.GetTask(ctx, a.cfg.JobID, id, &batch.GetOptions{Select: "id,state"})
		if err != nil || t.State == batch.TaskStateCompleted {
			continue
		}
		if err := a.d.Batch.DeleteTask(ctx, a.cfg.JobID, id); err != nil && !batch.HasCode(err, batch.CodeTaskNotFound) {
			a.log.Warn("submit tasks: task nobody waits on not removed", "task_id", id, "err", err)
			continue
		}
		a.log.Info("submit tasks: task nobody waits on removed (the work was done already)", "task_id", id)
	}
}

// journalBacklog is what one sweep's fold of the journals left behind:
// requests a journal holds that no record shows yet. The queued scan must
// not take them for lost arrivals (resendStale): they were accepted, and
// their records only lag behind.
type journalBacklog struct {
	// unknown: a journal left unfolded could not be read (or more were
	// due than one sweep folds), so any queued request may be in it.
	unknown bool
	// held names the requests (by id) of journals read but not folded.
	held map[string]bool
}

// hold adds the requests of j, a journal left unfolded.
func (b *journalBacklog) hold(j *lifecycle.Journal) {
	for _, r := range j.Requests {
		b.held[r.ID] = true
	}
}

// holds reports whether the backlog may hold request id.
func (b *journalBacklog) holds(id string) bool { return b.unknown || b.held[id] }

// sweepJournals folds the journals that their invocation did not (it was
// killed, or the fold failed): those older than journalGrace, at most
// maxSweepJournals per run. A journal that cannot be read or folded is
// logged and left for the next run, and the others are still folded: one
// bad journal must not hold up the rest. It leaves the journals this
// process is folding in the background (they wait in line for the same
// workers; folding them twice would only double the load), starts no
// journal once the run's budget is spent and stops waiting for a worker
// when it ends (what is left counts as unknown). It returns how many it
// folded,
// what is left (a journal that cannot be read at all counts as holding
// every request, except a corrupt one, which can never record any), and
// the first failure.
func (a *App) sweepJournals(ctx context.Context, b budget) (int, *journalBacklog, error) {
	left := &journalBacklog{held: map[string]bool{}}
	ctx, cancel := context.WithTimeout(ctx, b.left())
	defer cancel()
	names, err := a.d.Status.ListJournals(ctx, a.now().Add(-journalGrace), maxSweepJournals+1)
	if err != nil {
		left.unknown = true
		return 0, left, fmt.Errorf("sweep journals: %w", err)
	}
	if len(names) > maxSweepJournals {
		names, left.unknown = names[:maxSweepJournals], true
	}
	folded := 0
	var first error
	for _, name := range names {
		if b.spent() {
			left.unknown = true
			break
		}
		if j := a.folds.inBackground(name); j != nil {
			left.hold(j)
			continue
		}
		if err := a.sweepJournal(ctx, name, left); err != nil {
			a.log.Error("sweep: journal not folded", "journal", name, "err", err)
			if first == nil {
				first = fmt.Errorf("sweep journals: %w", err)
			}
			continue
		}
		folded++
	}
	return folded, left, first
}

// sweepJournal folds one journal and removes the tasks nobody waits on.
// A journal it cannot fold is added to left.
func (a *App) sweepJournal(ctx context.Context, name string, left *journalBacklog) error {
	j, err := a.d.Status.ReadJournal(ctx, name)
	if errors.Is(err, lifecycle.ErrNotFound) {
		return nil // folded and deleted meanwhile
	}
	if err != nil {
		left.unknown = left.unknown || !errors.Is(err, lifecycle.ErrCorrupt)
		return err
	}
	orphans, err := a.fold(ctx, j)
	if err != nil {
		left.hold(j)
		return err
	}
	a.removeOrphans(ctx, orphans)
	a.log.Info("sweep: journal folded", "journal", name, "requests", len(j.Requests))
	return nil
}
