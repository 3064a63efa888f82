package handlers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Metadata of a promoted output: the task whose MP3 it is, the input it
// was made from (request.FileKey), that version's ETag and its time, the
// order key that keeps an older version from replacing a newer one's MP3.
// Written in lower case; read ignoring case (HTTP may canonicalise it).
const (
	metaTask       = "ffbatchtask"
	metaSource     = "ffbatchsource"
	metaSourceETag = "ffbatchsourceetag"
	metaSourceTime = "ffbatchsourcetime"
)

// version is the input version a task was shown to have read, as far as
// ordering outputs needs it.
type version struct {
	etag string
	// at is the version's Last-Modified when current is set (the blob still
	// has it); otherwise the second the task started, when the version it
	// read was the blob's (no newer version can have an earlier
	// Last-Modified than that second).
	at      time.Time
	current bool
}

// olderThan reports whether an output made from the version with etag
// written at (both from its metadata) may be newer than v, so v's MP3
// must not replace it. Last-Modified has a resolution of one second: a
// version that is not current loses ties.
func (v version) olderThan(etag string, at time.Time) bool {
	switch {
	case etag == v.etag:
		return false
	case v.current:
		return at.After(v.at)
	}
	return !at.Before(v.at)
}

// maxStdoutRead bounds the part of a task's stdout.txt (its plan.Report)
// that is read: the MD5 line and ffmpeg's two progress blocks take well
// under 1 KiB (plan.Args sets -stats_period so there are only two).
const maxStdoutRead = 1 << 20

// copyWait bounds how long a promotion waits for a pending server-side
// copy (within one account it usually completes at once).
const copyWait = time.Minute

// copyPoll is how often a pending copy is checked.
const copyPoll = 200 * time.Millisecond

// copySourceLifetime is how long the staged MP3's read URL, the copy's
// source, stays valid.
const copySourceLifetime = time.Hour

// maxPromoteAttempts bounds the conditional-copy loop (concurrent
// promotions of one output).
const maxPromoteAttempts = 8

// confirmOutput decides whether a task that Batch reports succeeded made
// the MP3 its request asked for, and if so promotes it from the task's
// staging name (plan.StagingName) to the request's output. res is the
// task's success; the answer is res with the confirmed MP3 size, or res
// turned into:
//   - a transient upload failure (output_missing, output_incomplete) when
//     the staged MP3 is missing, empty or not the length the task reported,
//     so the request is resubmitted; unless the output already carries
//     this task's id (a settle that promoted it and died before recording);
//   - a permanent input failure (input_changed, version_not_found) when
//     the task cannot be shown to have read the requested version
//     (versionRead), or a newer version's MP3 is already at the output;
//   - a rejection (output_taken) when another input or preset owns the
//     output (lifecycle.Store.ClaimOutput) and the request does not
//     overwrite.
//
// The staged MP3 stays until the answer is recorded (settle deletes it
// then), so a settle that dies before recording decides again from the
// same blobs. An error is a storage failure: the settle fails and is
// repeated, and every step here is safe to repeat.
func (a *App) confirmOutput(ctx context.Context, t *batch.Task, f plan.TaskFile, res lifecycle.TaskResult) (lifecycle.TaskResult, error) {
	staged := plan.StagingName(t.ID)
	sp, err := a.d.Blobs.GetProperties(ctx, a.cfg.OutputContainer, staged)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		out, err := a.d.Blobs.GetProperties(ctx, a.cfg.OutputContainer, f.Output)
		if err == nil && promotedBy(out, t.ID) {
			res.MP3Size = *out.ContentLength
			return res, nil
		}
		if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
			return res, fmt.Errorf("read output %s: %w", f.Output, err)
		}
		return uploadFailure(res, results.CodeOutputMissing, "the task's MP3 ("+staged+") is not in storage: its upload was lost"), nil
	}
	if err != nil {
		return res, fmt.Errorf("read staged output %s: %w", staged, err)
	}
	rep := plan.ParseReport(a.readLog(ctx, t.ID, "stdout.txt", maxStdoutRead))
	size := lengthOf(sp)
	if size <= 0 || (rep.OutputSize >= 0 && size != rep.OutputSize) {
		msg := fmt.Sprintf("the stored MP3 is %d bytes; the task reported %d", size, rep.OutputSize)
		return uploadFailure(res, results.CodeOutputIncomplete, msg), nil
	}
	read, fail, err := a.versionRead(ctx, t, f, rep)
	if err != nil {
		return res, err
	}
	if fail != nil {
		return inputFailure(res, fail), nil
	}
	holder, err := a.d.Status.ClaimOutput(ctx, ownerOf(f.Request), f.Overwrite)
	if err != nil {
		return res, err
	}
	if holder != nil {
		a.log.Warn("settle: output taken", "task_id", t.ID, "request", f.ID, "holder_blob", holder.Blob, "holder_preset", holder.Preset)
		res.Outcome, res.MP3, res.Rejection = results.OutcomePermanent, nil, outputTaken(f.Request, holder)
		return res, nil
	}
	fail, err = a.promote(ctx, t.ID, f, read)
	switch {
	case err != nil:
		return res, err
	case fail != nil:
		return inputFailure(res, fail), nil
	}
	res.MP3Size = size
	return res, nil
}

// versionRead checks that task t read the version its request names and
// returns it (with the order key of its output), or the failure that says
// why it cannot be shown:
//   - the input's current ETag is the request's: the blob was not written
//     since the version was named, so the task read it; its time is the
//     blob's Last-Modified;
//   - otherwise the task's report proves it when the MD5 of what it read is
//     the request's contentMD5; that version was current while the task
//     ran, so no newer version was written before the second it started;
//   - otherwise input_changed when the blob was written after the request
//     was accepted, and version_not_found when it was not (the version
//     never existed or was replaced before) or the blob is gone.
func (a *App) versionRead(ctx context.Context, t *batch.Task, f plan.TaskFile, rep plan.Report) (version, *results.Failure, error) {
	p, err := a.d.Blobs.GetProperties(ctx, f.Container, f.Blob)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return version{}, versionFailure(results.CodeVersionNotFound,
			fmt.Sprintf("the input blob no longer exists, so version %s cannot be confirmed", f.ETag)), nil
	}
	if err != nil {
		return version{}, nil, fmt.Errorf("read input %s/%s: %w", f.Container, f.Blob, err)
	}
	cur, modified := "", time.Time{}
	if p.ETag != nil {
		cur = unquote(string(*p.ETag))
	}
	if p.LastModified != nil {
		modified = *p.LastModified
	}
	own := unquote(f.ETag)
	if cur == own {
		return version{etag: own, at: modified, current: true}, nil, nil
	}
	if rep.InputMD5 != nil && f.ContentMD5 != "" && base64.StdEncoding.EncodeToString(rep.InputMD5) == f.ContentMD5 {
		return version{etag: own, at: taskStart(t).Truncate(time.Second)}, nil, nil
	}
	// Last-Modified has a resolution of one second.
	if !modified.Before(f.SubmittedAt.Truncate(time.Second)) {
		return version{}, versionFailure(results.CodeInputChanged, fmt.Sprintf(
			"the input blob was written at %s, after the request was accepted: its version is now %s, not %s, and what the task read does not match the request's contentMD5",
			modified.UTC().Format(time.RFC3339), cur, f.ETag)), nil
	}
	return version{}, versionFailure(results.CodeVersionNotFound, fmt.Sprintf(
		"the input blob has no version %s: its version is %s, written at %s, before the request was accepted",
		f.ETag, cur, modified.UTC().Format(time.RFC3339))), nil
}

// promote copies task taskID's staged MP3 to f.Output (a server-side copy
// with the output's metadata) unless the output already is this task's
// MP3. The copy is conditional on the output as read: absent, or holding
// the same ETag; a concurrent promotion makes it read and decide again.
// It refuses (input_changed) to replace an MP3 that may be made from a
// newer version of the same input than read.
func (a *App) promote(ctx context.Context, taskID string, f plan.TaskFile, read version) (*results.Failure, error) {
	out, staged := a.cfg.OutputContainer, plan.StagingName(taskID)
	src, err := a.d.Signer.ReadBlobURL(ctx, out, staged, copySourceLifetime)
	if err != nil {
		return nil, err
	}
	source := request.FileKey(f.Container, f.Blob)
	md := map[string]*string{metaTask: to.Ptr(taskID), metaSource: to.Ptr(source), metaSourceETag: to.Ptr(read.etag),
		metaSourceTime: to.Ptr(read.at.UTC().Format(time.RFC3339Nano))}
	for range maxPromoteAttempts {
		cond := &blob.ModifiedAccessConditions{}
		p, err := a.d.Blobs.GetProperties(ctx, out, f.Output)
		switch {
		case bloberror.HasCode(err, bloberror.BlobNotFound):
			cond.IfNoneMatch = to.Ptr(azcore.ETagAny)
		case err != nil:
			return nil, fmt.Errorf("read output %s: %w", f.Output, err)
		case promotedBy(p, taskID):
			return nil, nil
		case metaValue(p.Metadata, metaSource) == source && read.olderThan(metaValue(p.Metadata, metaSourceETag), sourceTimeOf(p)):
			return versionFailure(results.CodeInputChanged, fmt.Sprintf(
				"a newer version's MP3 (task %s) is already at the output; this version's MP3 does not replace it", metaValue(p.Metadata, metaTask))), nil
		default:
			cond.IfMatch = p.ETag
		}
		_, err = a.d.Blobs.StartCopy(ctx, out, f.Output, src, &blob.StartCopyFromURLOptions{Metadata: md,
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: cond}})
		switch {
		case bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.TargetConditionNotMet, bloberror.BlobAlreadyExists):
			continue
		case err != nil:
			return nil, fmt.Errorf("copy %s to %s: %w", staged, f.Output, err)
		}
		return nil, a.waitCopy(ctx, f.Output, taskID)
	}
	return nil, fmt.Errorf("copy %s to %s: gave up after %d conflicting writes", staged, f.Output, maxPromoteAttempts)
}

// waitCopy waits until the copy of task taskID's MP3 to output has
// completed; an error if it failed or did not complete within copyWait
// (the settle is repeated and copies again).
func (a *App) waitCopy(ctx context.Context, output, taskID string) error {
	ctx, cancel := context.WithTimeout(ctx, copyWait)
	defer cancel()
	for {
		p, err := a.d.Blobs.GetProperties(ctx, a.cfg.OutputContainer, output)
		switch {
		case err != nil:
			return fmt.Errorf("wait for the copy to %s: %w", output, err)
		case promotedBy(p, taskID):
			return nil
		case metaValue(p.Metadata, metaTask) != taskID:
			return fmt.Errorf("wait for the copy to %s: replaced by task %q meanwhile", output, metaValue(p.Metadata, metaTask))
		case p.CopyStatus != nil && *p.CopyStatus != blob.CopyStatusTypePending:
			return fmt.Errorf("copy to %s ended %s", output, *p.CopyStatus)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the copy to %s: %w", output, ctx.Err())
		case <-time.After(copyPoll):
		}
	}
}

// discard deletes task taskID's staged MP3, once its answer is recorded
// (promoted, refused, or nothing waits on it); gone already is fine.
func (a *App) discard(ctx context.Context, taskID string) error {
	staged := plan.StagingName(taskID)
	_, err := a.d.Blobs.DeleteBlob(ctx, a.cfg.OutputContainer, staged, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("delete staged output %s: %w", staged, err)
	}
	return nil
}

// promotedBy reports whether an output is task taskID's MP3, completely
// copied and not empty.
func promotedBy(p blob.GetPropertiesResponse, taskID string) bool {
	copied := p.CopyStatus == nil || *p.CopyStatus == blob.CopyStatusTypeSuccess
	return metaValue(p.Metadata, metaTask) == taskID && copied && lengthOf(p) > 0
}

// sourceTimeOf is the version time an output records (zero if none).
func sourceTimeOf(p blob.GetPropertiesResponse) time.Time {
	ts, _ := time.Parse(time.RFC3339Nano, metaValue(p.Metadata, metaSourceTime))
	return ts
}

// metaValue looks key up in blob metadata, ignoring case.
func metaValue(md map[string]*string, key string) string {
	for k, v := range md {
		if strings.EqualFold(k, key) && v != nil {
			return *v
		}
	}
	return ""
}

func lengthOf(p blob.GetPropertiesResponse) int64 {
	if p.ContentLength == nil {
		return 0
	}
	return *p.ContentLength
}

// taskStart is when t's last attempt started (its creation if unknown).
func taskStart(t *batch.Task) time.Time {
	if t.ExecutionInfo != nil && !t.ExecutionInfo.StartTime.IsZero() {
		return t.ExecutionInfo.StartTime
	}
	return t.CreationTime
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// uploadFailure turns res into a transient failure to store the MP3.
func uploadFailure(res lifecycle.TaskResult, code, msg string) lifecycle.TaskResult {
	res.Outcome, res.MP3 = results.OutcomeTransient, nil
	res.Failure = &results.Failure{Category: results.CategoryUpload, Transient: true, Code: code, Message: msg}
	return res
}

// versionFailure is a permanent failure about the input version read.
func versionFailure(code, msg string) *results.Failure {
	return &results.Failure{Category: results.CategoryInput, Code: code, Message: msg}
}

// inputFailure turns res into the permanent failure fail.
func inputFailure(res lifecycle.TaskResult, fail *results.Failure) lifecycle.TaskResult {
	res.Outcome, res.MP3, res.Failure = results.OutcomePermanent, nil, fail
	return res
}
