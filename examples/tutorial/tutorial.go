package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/media"
)

// Config is everything the tutorial needs.
type Config struct {
	StateDir         string
	Files            int
	ClipDuration     time.Duration
	PoolID, JobID    string
	DedicatedNodes   int
	LowPriorityNodes int
	Keep             bool
	Timeout          time.Duration

	// Remote targets; empty means "start the local stack".
	BatchURL, BatchAccount, BatchKey string
	StorageConnectionString          string

	// PollInterval between task listings (the sample polls every second).
	PollInterval time.Duration
}

const (
	inputContainer  = "input"
	outputContainer = "output"
	sasLifetime     = 2 * time.Hour
	// Fixed names on the node: blob names never reach a command line.
	localInput  = "input.mp4"
	localOutput = "output.mp3"
)

// FileResult is the outcome for one input file.
type FileResult struct {
	TaskID      string
	Input       string
	Output      string
	Result      batch.TaskExecutionResult
	ExitCode    *int32
	Failure     string
	OutputBytes int64
	LocalOutput string
	Runtime     time.Duration
}

// Report is what Run returns.
type Report struct {
	Files   []FileResult
	Elapsed time.Duration
}

// Failed counts files that did not produce an MP3.
func (r *Report) Failed() int {
	n := 0
	for _, f := range r.Files {
		if f.Result != batch.TaskExecutionResultSuccess {
			n++
		}
	}
	return n
}

// Run executes the tutorial workload and writes the console output the
// Python sample prints (plus a per-file table) to out.
func Run(ctx context.Context, cfg Config, out io.Writer, logger *slog.Logger) (*Report, error) {
	if cfg.Files < 1 {
		return nil, fmt.Errorf("files: must be at least 1, got %d", cfg.Files)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	start := time.Now()
	fmt.Fprintf(out, "Sample start: %s\n\n", start.Format("2006-01-02 15:04:05"))

	targets, err := resolveTargets(ctx, cfg, out, logger)
	if err != nil {
		return nil, err
	}
	defer targets.close()

	store, err := newStorage(targets.storageConnectionString, targets.local)
	if err != nil {
		return nil, err
	}
	cred, err := batch.NewSharedKeyCredential(targets.batchAccount, targets.batchKey)
	if err != nil {
		return nil, fmt.Errorf("batch credential: %w", err)
	}
	opts := &batch.ClientOptions{}
	opts.InsecureAllowCredentialWithHTTP = targets.local // only the loopback emulator speaks plain HTTP
	client, err := batch.NewSharedKeyClient(targets.batchURL, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("batch client: %w", err)
	}

	for _, c := range []string{inputContainer, outputContainer} {
		if err := store.ensureContainer(ctx, c); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "Container [%s] created.\n", c)
	}

	inputs, err := generateInputs(ctx, filepath.Join(cfg.StateDir, "InputFiles"), cfg.Files, cfg.ClipDuration)
	if err != nil {
		return nil, err
	}
	tasks, results, err := uploadAndPlan(ctx, store, inputs, out)
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(out, "\nCreating pool [%s]...\n", cfg.PoolID)
	if err := createPool(ctx, client, cfg); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Creating job [%s]...\n", cfg.JobID)
	if err := createJob(ctx, client, cfg.JobID, cfg.PoolID, cfg.PollInterval); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Adding %d tasks to job [%s]...\n", len(tasks), cfg.JobID)
	added, err := client.AddTasks(ctx, cfg.JobID, tasks, nil)
	if err != nil {
		return nil, fmt.Errorf("add tasks: %w", err)
	}
	if len(added.Failed) > 0 {
		f := added.Failed[0]
		return nil, fmt.Errorf("add tasks: %d rejected, first %s", len(added.Failed), f)
	}

	fmt.Fprintf(out, "Monitoring all tasks for 'Completed' state, timeout in %s...", cfg.Timeout)
	final, err := waitForTasks(ctx, client, cfg.JobID, len(tasks), cfg.Timeout, cfg.PollInterval, out)
	fmt.Fprintln(out)
	if err != nil {
		return nil, err
	}

	if err := collectResults(ctx, store, results, final, filepath.Join(cfg.StateDir, "OutputFiles")); err != nil {
		return nil, err
	}
	report := &Report{Files: results}
	printResults(out, report)

	if report.Failed() == 0 {
		fmt.Fprintln(out, "Success! All tasks completed successfully within the specified timeout period.")
	} else {
		fmt.Fprintf(out, "%d of %d tasks failed; stderr.txt of each failed task is in container [%s] under logs/.\n",
			report.Failed(), len(results), outputContainer)
	}
	if err := store.deleteContainer(ctx, inputContainer); err != nil {
		logger.Warn("cleanup", "err", err)
	}
	if !cfg.Keep {
		fmt.Fprintf(out, "Deleting job [%s] and pool [%s]...\n", cfg.JobID, cfg.PoolID)
		if err := client.DeleteJob(ctx, cfg.JobID); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) {
			logger.Warn("delete job", "err", err)
		}
		if err := client.DeletePool(ctx, cfg.PoolID); err != nil && !batch.HasCode(err, batch.CodePoolNotFound) {
			logger.Warn("delete pool", "err", err)
		}
	}
	end := time.Now()
	report.Elapsed = end.Sub(start)
	fmt.Fprintf(out, "\nSample end: %s\n", end.Format("2006-01-02 15:04:05"))
	fmt.Fprintf(out, "Elapsed time: %s\n", report.Elapsed.Round(time.Millisecond))
	return report, nil
}

// uploadAndPlan uploads every input and plans one task per file; results
// gets one entry per file, in input order.
func uploadAndPlan(ctx context.Context, store *storage, inputs []string, out io.Writer) ([]batch.TaskAddParameter, []FileResult, error) {
	outputURL, err := store.containerWriteURL(ctx, outputContainer, sasLifetime)
	if err != nil {
		return nil, nil, err
	}
	var tasks []batch.TaskAddParameter
	results := make([]FileResult, len(inputs))
	for i, path := range inputs {
		name := filepath.Base(path)
		fmt.Fprintf(out, "Uploading file %s to container [%s]...\n", path, inputContainer)
		if err := store.upload(ctx, inputContainer, name, path); err != nil {
			return nil, nil, err
		}
		inputURL, err := store.blobReadURL(ctx, inputContainer, name, sasLifetime)
		if err != nil {
			return nil, nil, err
		}
		taskID := fmt.Sprintf("Task%d", i)
		outName := strings.TrimSuffix(name, filepath.Ext(name)) + ".mp3"
		results[i] = FileResult{TaskID: taskID, Input: name, Output: outName}
		tasks = append(tasks, transcodeTask(taskID, inputURL, outputURL, outName))
	}
	return tasks, results, nil
}

// collectResults fills results from the final task states and downloads
// each MP3 into outDir.
func collectResults(ctx context.Context, store *storage, results []FileResult, final map[string]batch.Task, outDir string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", outDir, err)
	}
	for i := range results {
		r := &results[i]
		t, ok := final[r.TaskID]
		if !ok || t.ExecutionInfo == nil {
			r.Failure = "task not reported by Batch"
			continue
		}
		ei := t.ExecutionInfo
		r.Result, r.ExitCode = ei.Result, ei.ExitCode
		if !ei.StartTime.IsZero() && !ei.EndTime.IsZero() {
			r.Runtime = ei.EndTime.Sub(ei.StartTime)
		}
		if ei.FailureInfo != nil {
			r.Failure = ei.FailureInfo.Code + ": " + ei.FailureInfo.Message
		}
		if r.Result != batch.TaskExecutionResultSuccess {
			continue
		}
		local := filepath.Join(outDir, r.Output)
		n, err := store.download(ctx, outputContainer, r.Output, local)
		if err != nil {
			r.Result, r.Failure = batch.TaskExecutionResultFailure, err.Error()
			continue
		}
		r.OutputBytes, r.LocalOutput = n, local
	}
	return nil
}

func generateInputs(ctx context.Context, dir string, n int, d time.Duration) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var paths []string
	for i := 1; i <= n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("LowPriVMs-%d.mp4", i))
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			if err := media.GenerateMP4(ctx, p, &media.SampleOptions{Duration: d, FrequencyHz: 220 * i}); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fmt.Errorf("stat %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// transcodeTask converts one file. The command runs ffmpeg directly (no
// shell) on fixed local names; the blob names only appear in URLs and in
// the output destination path.
func transcodeTask(id, inputURL, outputContainerURL, outputBlob string) batch.TaskAddParameter {
	return batch.TaskAddParameter{
		ID:          id,
		CommandLine: "ffmpeg -nostdin -y -hide_banner -loglevel error -i " + localInput + " -vn -codec:a libmp3lame -q:a 4 " + localOutput,
		ResourceFiles: []batch.ResourceFile{{
			HTTPURL:  inputURL,
			FilePath: localInput,
		}},
		OutputFiles: []batch.OutputFile{
			{
				FilePattern: localOutput,
				Destination: batch.OutputFileDestination{Container: &batch.OutputFileBlobContainerDestination{
					ContainerURL: outputContainerURL, Path: outputBlob,
				}},
				UploadOptions: batch.OutputFileUploadOptions{UploadCondition: batch.OutputFileUploadConditionTaskSuccess},
			},
			{
				FilePattern: "../std*.txt",
				Destination: batch.OutputFileDestination{Container: &batch.OutputFileBlobContainerDestination{
					ContainerURL: outputContainerURL, Path: "logs/" + id,
				}},
				UploadOptions: batch.OutputFileUploadOptions{UploadCondition: batch.OutputFileUploadConditionTaskFailure},
			},
		},
		Constraints: &batch.TaskConstraints{MaxTaskRetryCount: to.Ptr[int32](1)},
	}
}

func createPool(ctx context.Context, client *batch.Client, cfg Config) error {
	pool := batch.PoolAddParameter{
		ID:     cfg.PoolID,
		VMSize: "STANDARD_A1_v2",
		VirtualMachineConfiguration: &batch.VirtualMachineConfiguration{
			ImageReference: batch.ImageReference{
				Publisher: "Canonical", Offer: "ubuntu-24_04-lts", SKU: "server", Version: "latest",
			},
			NodeAgentSKUID: "batch.node.ubuntu 24.04",
		},
		TargetDedicatedNodes:   to.Ptr(int32(cfg.DedicatedNodes)),
		TargetLowPriorityNodes: to.Ptr(int32(cfg.LowPriorityNodes)),
		StartTask: &batch.StartTask{
			// Installs ffmpeg only when missing, so a node reboot or a local
			// run with ffmpeg already present does not reinstall it.
			CommandLine:    `/bin/sh -c "command -v ffmpeg >/dev/null || (apt-get update && apt-get install -y ffmpeg)"`,
			WaitForSuccess: to.Ptr(true),
			UserIdentity: &batch.UserIdentity{AutoUser: &batch.AutoUserSpecification{
				Scope: batch.AutoUserScopePool, ElevationLevel: batch.ElevationLevelAdmin,
			}},
		},
	}
	err := client.CreatePool(ctx, pool)
	if batch.HasCode(err, batch.CodePoolExists) {
		return nil // like the sample: reuse the existing pool
	}
	if err != nil {
		return fmt.Errorf("create pool %s: %w", cfg.PoolID, err)
	}
	return nil
}

// createJob creates the job, first deleting a leftover job of a previous run
// (the sample would fail with JobExists).
func createJob(ctx context.Context, client *batch.Client, jobID, poolID string, poll time.Duration) error {
	job := batch.JobAddParameter{ID: jobID, PoolInfo: batch.PoolInfo{PoolID: poolID}}
	for attempt := 0; ; attempt++ {
		err := client.CreateJob(ctx, job)
		switch {
		case err == nil:
			return nil
		case batch.HasCode(err, batch.CodeJobExists) && attempt == 0:
			if err := client.DeleteJob(ctx, jobID); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) {
				return fmt.Errorf("delete leftover job %s: %w", jobID, err)
			}
		case (batch.HasCode(err, batch.CodeJobExists) || batch.HasCode(err, batch.CodeJobBeingDeleted)) && attempt < 600:
			// The leftover job is still being deleted.
		default:
			return fmt.Errorf("create job %s: %w", jobID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll / 4):
		}
	}
}

// waitForTasks polls the task list until every task is completed, like the
// sample's wait_for_tasks_to_complete, but with $select to keep pages small.
func waitForTasks(ctx context.Context, client *batch.Client, jobID string, want int, timeout, poll time.Duration, out io.Writer) (map[string]batch.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		tasks := map[string]batch.Task{}
		completed := 0
		pager := client.NewListTasksPager(jobID, &batch.ListOptions{Select: "id,state,executionInfo"})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("tasks did not reach the completed state within %s", timeout)
				}
				return nil, fmt.Errorf("list tasks of job %s: %w", jobID, err)
			}
			for _, t := range page.Value {
				tasks[t.ID] = t
				if t.State == batch.TaskStateCompleted {
					completed++
				}
			}
		}
		if completed >= want {
			return tasks, nil
		}
		fmt.Fprint(out, ".")
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("tasks did not reach the completed state within %s", timeout)
		case <-time.After(poll):
		}
	}
}

func printResults(out io.Writer, r *Report) {
	fmt.Fprintf(out, "\n%-8s %-18s %-18s %-8s %5s %9s %8s  %s\n", "TASK", "INPUT", "OUTPUT", "RESULT", "EXIT", "MP3 BYTES", "RUNTIME", "FAILURE")
	for _, f := range r.Files {
		exit := "-"
		if f.ExitCode != nil {
			exit = fmt.Sprint(*f.ExitCode)
		}
		result := string(f.Result)
		if result == "" {
			result = "unknown"
		}
		fmt.Fprintf(out, "%-8s %-18s %-18s %-8s %5s %9d %8s  %s\n", f.TaskID, f.Input, f.Output, result, exit,
			f.OutputBytes, f.Runtime.Round(time.Millisecond), f.Failure)
	}
	fmt.Fprintln(out)
}
