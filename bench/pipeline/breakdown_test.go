package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// burstBreakdown is where a burst's wall time goes, from the status
// records' timestamps (queued: BlobCreated recorded the arrival;
// submitted: SubmitTasks recorded the task it adds; started and finished:
// the Batch task's execution, on the node: download, ffmpeg, uploads;
// answered: TaskFinished settled it) and what the CLI printed (upload
// done, watch saw it finished). The wall time is exactly
// FirstStart + Busy + Tail.
type burstBreakdown struct {
	// FirstStart is from the start of submit to the first task starting.
	FirstStart time.Duration
	// Busy is from the first task start to the last task end; Utilisation
	// is the share of par × Busy the tasks ran.
	Busy        time.Duration
	Utilisation float64
	// Tail is from the last task end to watch returning.
	Tail time.Duration
	// TaskMean is the mean task run time; FFmpegMean the baseline's mean
	// time per file (its wall time × par / files).
	TaskMean, FFmpegMean time.Duration
	// Means per file of each hop: upload done -> queued (BlobCreated),
	// queued -> submitted (SubmitTasks), submitted -> started (waiting for
	// a slot, mostly), finished -> answered (TaskFinished), answered ->
	// watch saw it.
	UploadToQueued, QueuedToSubmitted, SubmittedToStarted, FinishedToAnswered, AnsweredToSeen time.Duration
	// LastUpload is from the start to the last upload done.
	LastUpload time.Duration
	// StackCPU is the CPU seconds of each stack process (not ffmpeg)
	// during the burst: on par cores, their sum over par is wall time the
	// tasks did not have.
	StackCPU map[string]float64
}

// breakdown reads the rows of the burst's files (under prefix) and builds
// the breakdown.
func breakdown(b *testing.B, store *lifecycle.Store, container, prefix string, names []string, start time.Time,
	uploaded, seen map[string]time.Time, par int, base time.Duration) burstBreakdown {
	b.Helper()
	page, err := store.ListRows(context.Background(), lifecycle.RowQuery{Container: container, Prefix: prefix, Limit: lifecycle.MaxRowLimit})
	if err != nil {
		b.Fatal(err)
	}
	rows := map[string]lifecycle.Row{}
	for _, r := range page.Rows {
		rows[r.Blob] = r
	}
	var bd burstBreakdown
	var firstStart, lastEnd, lastSeen, lastUp time.Time
	var run time.Duration
	var hops [5]time.Duration
	for _, n := range names {
		r, ok := rows[n]
		if !ok || r.State != results.StateSucceeded || r.StartedAt.IsZero() {
			b.Fatalf("%s: row %+v, want succeeded with its task times", n, r)
		}
		if firstStart.IsZero() || r.StartedAt.Before(firstStart) {
			firstStart = r.StartedAt
		}
		lastEnd = latest(lastEnd, r.FinishedAt)
		lastSeen = latest(lastSeen, seen[n])
		lastUp = latest(lastUp, uploaded[n])
		run += r.FinishedAt.Sub(r.StartedAt)
		for i, d := range []time.Duration{r.QueuedAt.Sub(uploaded[n]), r.SubmittedAt.Sub(r.QueuedAt), r.StartedAt.Sub(r.SubmittedAt),
			r.AnsweredAt.Sub(r.FinishedAt), seen[n].Sub(r.AnsweredAt)} {
			hops[i] += d
		}
	}
	k := time.Duration(len(names))
	bd.FirstStart, bd.Busy, bd.Tail = firstStart.Sub(start), lastEnd.Sub(firstStart), lastSeen.Sub(lastEnd)
	bd.Utilisation = float64(run) / float64(time.Duration(par)*bd.Busy)
	bd.TaskMean, bd.FFmpegMean = run/k, base*time.Duration(par)/k
	bd.UploadToQueued, bd.QueuedToSubmitted, bd.SubmittedToStarted, bd.FinishedToAnswered, bd.AnsweredToSeen =
		hops[0]/k, hops[1]/k, hops[2]/k, hops[3]/k, hops[4]/k
	bd.LastUpload = lastUp.Sub(start)
	return bd
}

func latest(a, b time.Time) time.Time {
	return slices.MaxFunc([]time.Time{a, b}, func(x, y time.Time) int { return x.Compare(y) })
}

func (bd burstBreakdown) log(b *testing.B, n int) {
	var cpu []string
	total := 0.0
	for _, name := range slices.Sorted(maps.Keys(bd.StackCPU)) {
		cpu = append(cpu, fmt.Sprintf("%s %.2fs", name, bd.StackCPU[name]))
		total += bd.StackCPU[name]
	}
	b.Logf("iteration %d: stack CPU %.2fs (%s)", n, total, strings.Join(cpu, ", "))
	b.Logf("iteration %d: first start %.2fs, busy %.2fs (utilisation %.3f), tail %.2fs; task mean %.2fs vs ffmpeg %.2fs; "+
		"per file upload->queued %.0fms, queued->submitted %.0fms, submitted->started %.0fms, finished->answered %.0fms, answered->seen %.0fms; last upload %.2fs",
		n, bd.FirstStart.Seconds(), bd.Busy.Seconds(), bd.Utilisation, bd.Tail.Seconds(), bd.TaskMean.Seconds(), bd.FFmpegMean.Seconds(),
		ms(bd.UploadToQueued), ms(bd.QueuedToSubmitted), ms(bd.SubmittedToStarted), ms(bd.FinishedToAnswered), ms(bd.AnsweredToSeen), bd.LastUpload.Seconds())
}

func (bd burstBreakdown) report(b *testing.B) {
	total := 0.0
	for _, s := range bd.StackCPU {
		total += s
	}
	b.ReportMetric(total, "stack-cpu-s")
	b.ReportMetric(bd.FirstStart.Seconds(), "first-start-s")
	b.ReportMetric(bd.Busy.Seconds(), "busy-s")
	b.ReportMetric(bd.Utilisation, "slot-utilisation")
	b.ReportMetric(bd.Tail.Seconds(), "tail-s")
	b.ReportMetric(bd.TaskMean.Seconds(), "task-mean-s")
	b.ReportMetric(bd.FFmpegMean.Seconds(), "ffmpeg-mean-s")
	b.ReportMetric(ms(bd.AnsweredToSeen), "answered-to-seen-ms")
	b.ReportMetric(ms(bd.FinishedToAnswered), "finished-to-answered-ms")
}
