package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// TestBadInputsAreRecorded drives the tutorial's task shape against the
// local stack with inputs that must fail, and checks that Batch records
// each failure the way the real service does: a file that is not an MP4
// fails ffmpeg (non-zero exit, FailureExitCode, stderr.txt uploaded because
// the task asks for it on failure); a missing input blob fails before the
// process runs (BlobNotFound, no exit code).
func TestBadInputsAreRecorded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg := startLocal(ctx, t)
	store, err := newStorage(tg.storageConnectionString, tg.local)
	if err != nil {
		t.Fatal(err)
	}
	client := sharedKeyClient(t, tg, tg.batchKey)
	for _, c := range []string{inputContainer, outputContainer} {
		if err := store.ensureContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	text := filepath.Join(t.TempDir(), "notes.mp4")
	if err := os.WriteFile(text, []byte("this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.upload(ctx, inputContainer, "notes.mp4", text); err != nil {
		t.Fatal(err)
	}
	outURL, err := store.containerWriteURL(ctx, outputContainer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	textURL, err := store.blobReadURL(ctx, inputContainer, "notes.mp4", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	missingURL, err := store.blobReadURL(ctx, inputContainer, "missing.mp4", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.LowPriorityNodes = 1
	if err := createPool(ctx, client, cfg); err != nil {
		t.Fatal(err)
	}
	if err := createJob(ctx, client, cfg.JobID, cfg.PoolID, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	res, err := client.AddTasks(ctx, cfg.JobID, []batch.TaskAddParameter{
		transcodeTask("NotVideo", textURL, outURL, "notes.mp3"),
		transcodeTask("Missing", missingURL, outURL, "missing.mp3"),
	}, nil)
	if err != nil || len(res.Failed) > 0 {
		t.Fatalf("AddTasks: %v %v", err, res)
	}
	final, err := waitForTasks(ctx, client, cfg.JobID, 2, time.Minute, 100*time.Millisecond, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	notVideo := final["NotVideo"].ExecutionInfo
	if notVideo == nil || notVideo.Result != batch.TaskExecutionResultFailure {
		t.Fatalf("NotVideo: executionInfo %+v, want result failure", notVideo)
	}
	if notVideo.ExitCode == nil || *notVideo.ExitCode == 0 {
		t.Errorf("NotVideo: exit code %v, want non-zero", notVideo.ExitCode)
	}
	if notVideo.FailureInfo == nil || notVideo.FailureInfo.Code != "FailureExitCode" {
		t.Errorf("NotVideo: failureInfo %+v, want code FailureExitCode", notVideo.FailureInfo)
	}
	// maxTaskRetryCount 1 in transcodeTask: the failing process ran twice.
	if notVideo.RetryCount != 1 {
		t.Errorf("NotVideo: retryCount %d, want 1", notVideo.RetryCount)
	}
	stderrPath := filepath.Join(t.TempDir(), "stderr.txt")
	if _, err := store.download(ctx, outputContainer, "logs/NotVideo/stderr.txt", stderrPath); err != nil {
		t.Fatalf("stderr.txt of the failed task was not uploaded: %v", err)
	}
	stderr, _ := os.ReadFile(stderrPath)
	if !bytes.Contains(bytes.ToLower(stderr), []byte("invalid data")) {
		t.Errorf("stderr.txt does not explain the failure: %q", stderr)
	}

	missing := final["Missing"].ExecutionInfo
	if missing == nil || missing.Result != batch.TaskExecutionResultFailure {
		t.Fatalf("Missing: executionInfo %+v, want result failure", missing)
	}
	if missing.ExitCode != nil {
		t.Errorf("Missing: exit code %d, want none (the process never ran)", *missing.ExitCode)
	}
	if fi := missing.FailureInfo; fi == nil || fi.Code != "BlobNotFound" || fi.Category != batch.ErrorCategoryUserError {
		t.Errorf("Missing: failureInfo %+v, want usererror BlobNotFound", fi)
	} else if strings.Contains(fi.Message, "sig=") {
		t.Errorf("Missing: failure message leaks the SAS signature: %q", fi.Message)
	}
	if _, err := store.download(ctx, outputContainer, "notes.mp3", filepath.Join(t.TempDir(), "x")); err == nil {
		t.Errorf("an MP3 was uploaded for a failed conversion")
	}
}
