package handlers

import (
	"context"
	"log/slog"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Idempotence by content: a new version of a blob (new ETag) whose arrival
// carries a content MD5 equal to that of a version already succeeded or in
// flight, with the same size, preset and output, is skipped: no task, no
// result event, no status change; only a log line. The status document is
// the arbiter, and its conditional writes make the check atomic (see
// results.StatusStore.Claim). Arrivals without a content MD5 are
// transcoded per version, as before.

// arrivalContent is the Content an arrival asks for, with the default
// preset and output name filled in; nil without a content MD5.
func (a *App) arrivalContent(arr arrival.Arrival) *results.Content {
	if arr.ContentMD5 == "" {
		return nil
	}
	preset, output := a.target(arr)
	return &results.Content{MD5: arr.ContentMD5, Size: arr.Size, Preset: preset, Output: output}
}

// target is the preset name and output blob name an arrival asks for:
// its own, else the configured default preset and plan.OutputName.
func (a *App) target(arr arrival.Arrival) (preset, output string) {
	preset = arr.Preset
	if preset == "" {
		preset = a.cfg.DefaultPreset
	}
	return preset, outputOf(arr)
}

// outputOf is the output blob name an arrival asks for: its own, else
// plan.OutputName of its blob.
func outputOf(arr arrival.Arrival) string {
	if arr.Output != "" {
		return arr.Output
	}
	return plan.OutputName(arr.Blob)
}

// fileContent is the Content of a planned file; nil without a content MD5.
func fileContent(f plan.File) *results.Content {
	if f.ContentMD5 == "" {
		return nil
	}
	return &results.Content{MD5: f.ContentMD5, Size: f.Size, Preset: f.Preset, Output: f.Output}
}

// logRepeat logs an arrival skipped because holder already did (or is
// doing) the same work.
func (a *App) logRepeat(log *slog.Logger, fn string, arr arrival.Arrival, holder *results.FileStatus) {
	log.Info(fn+": identical content already transcoded or in flight; arrival skipped",
		"container", arr.Container, "blob", arr.Blob, "etag", arr.ETag, "content_md5", arr.ContentMD5, "size", arr.Size,
		"holder_etag", holder.ETag, "holder_state", holder.State, "holder_task_id", holder.TaskID)
}

// claimAll claims the status document for every planned task whose file
// has a content MD5 (concurrently, at most statusWorkers at once) and
// returns the tasks to add: those without a hash, and those whose claim
// was not refused. A kept task with a content MD5 (fileContent non-nil)
// already has its "submitted" status written. A store error fails the
// whole call, so the batch is redelivered rather than risking a second MP3
// for identical content.
func (a *App) claimAll(ctx context.Context, tasks []planned) (keep []planned, skipped int, err error) {
	holders := make([]*results.FileStatus, len(tasks))
	// Claims for the same file run in batch order, so of two identical
	// versions in one batch the first is the one transcoded; different
	// files are claimed concurrently.
	byFile := map[string][]int{}
	var files []string
	for i, t := range tasks {
		if fileContent(t.file) == nil {
			continue
		}
		k := arrival.FileKey(t.file.Container, t.file.Blob)
		if _, ok := byFile[k]; !ok {
			files = append(files, k)
		}
		byFile[k] = append(byFile[k], i)
	}
	err = forEach(len(files), statusWorkers, func(g int) error {
		for _, i := range byFile[files[g]] {
			h, err := a.d.Status.Claim(ctx, submittedStatus(tasks[i]))
			if err != nil {
				return err
			}
			holders[i] = h
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for i, t := range tasks {
		if h := holders[i]; h != nil {
			a.logRepeat(a.log, "submit tasks", t.arr, h)
			skipped++
			continue
		}
		keep = append(keep, t)
	}
	return keep, skipped, nil
}

// submittedStatus is the status document of a task about to be added.
func submittedStatus(t planned) results.FileStatus {
	arr := t.arr
	return results.FileStatus{Container: t.file.Container, Blob: t.file.Blob, ETag: t.file.ETag,
		State: results.StateSubmitted, TaskID: t.task.ID, Preset: t.file.Preset, Resubmits: t.file.Resubmit,
		Content: fileContent(t.file), SubmittedAt: t.file.SubmittedAt, Arrival: &arr}
}
