package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/results"
)

// sampleCount is how many sample MP4s run generates.
const sampleCount = 5

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "[flags]")
	var sf stackFlags
	sf.register(fs)
	timeout := fs.Duration("timeout", 10*time.Minute, "give up when the files are not done after this long")
	duration := fs.Duration("sample-duration", 5*time.Second, "length of each generated sample")
	interval := fs.Duration("interval", 500*time.Millisecond, "progress refresh interval")
	out := fs.String("out", "out", "local folder the MP3s are copied to, under their blob names (\"\": leave them in the output container only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *duration <= 0 || *duration > 10*time.Minute {
		return fmt.Errorf("%w: --sample-duration must be in (0, 10m], got %s", errUsage, *duration)
	}
	start := time.Now()

	// Samples first: a missing ffmpeg should fail before anything starts.
	samples := filepath.Join(e.stateDir, "samples")
	if err := os.MkdirAll(samples, 0o755); err != nil {
		return fmt.Errorf("samples: %w", err)
	}
	fmt.Fprintf(e.stdout, "Generating %d sample MP4s (%s each) in %s...\n", sampleCount, *duration, samples)
	var paths []string
	for i := range sampleCount {
		p := filepath.Join(samples, fmt.Sprintf("sample-%d.mp4", i+1))
		if err := media.GenerateMP4(ctx, p, &media.SampleOptions{Duration: *duration, FrequencyHz: 220 * (i + 2)}); err != nil {
			return err
		}
		paths = append(paths, p)
	}

	// A fresh stack: earlier runs' files would otherwise count.
	st, err := sf.start(ctx, e, true)
	if err != nil {
		return err
	}
	defer func() { _ = stopStack(e, st) }()
	fmt.Fprintf(e.stdout, "The local stack is up:\n%s", st.Endpoints)

	c, err := newClients(st.Endpoints)
	if err != nil {
		return err
	}
	defer c.close()
	runID := time.Now().UTC().Format("20060102-150405")
	var names []string
	var ups []pendingUpload
	inputSizes := map[string]int64{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("sample %s: %w", p, err)
		}
		name := "samples/" + runID + "/" + filepath.Base(p)
		names = append(names, name)
		inputSizes[name] = fi.Size()
		ups = append(ups, pendingUpload{path: p, blob: name, size: fi.Size()})
	}
	if err := uploadAll(ctx, e.stdout, c.blobs, c.ep.InputContainer, ups); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	v := &liveView{w: e.stdout, tty: e.tty, poolID: c.ep.PoolID}
	last, werr := watchUntil(wctx, c, v, selection{names: names}, *interval, start, true)
	elapsed := time.Since(start)
	failed := summary(e, last, inputSizes, elapsed)
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted")
	case werr != nil:
		return fmt.Errorf("files not done after %s: %w (logs in %s)", *timeout, werr, st.Logs)
	}
	cerr := copyMP3s(ctx, e, c, last.Files, *out, "samples/"+runID)
	if failed > 0 {
		return errors.Join(fmt.Errorf("%d of %d files failed (logs in %s)", failed, len(names), st.Logs), cerr)
	}
	return cerr
}

// copyMP3s copies the MP3s of the files that succeeded to the folder out
// (none when out is empty) and says where the MP3s are.
func copyMP3s(ctx context.Context, e *env, c *clients, files []fileView, out, blobDir string) error {
	if out == "" {
		fmt.Fprintf(e.stdout, "The MP3s are in the %s container under %s/ (`ffbatch get --all` downloads them while a stack runs).\n", c.ep.OutputContainer, blobDir)
		return nil
	}
	dir, err := openLocalDir(out)
	if err != nil {
		return err
	}
	defer dir.close()
	n := 0
	var errs []error
	for _, f := range files {
		if f.State != results.StateSucceeded || f.OutputBlob == "" {
			continue
		}
		if _, _, err := dir.download(ctx, c.blobs, c.ep.OutputContainer, f.OutputBlob); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	fmt.Fprintf(e.stdout, "%d MP3(s) copied to %s\n", n, filepath.Join(out, filepath.FromSlash(blobDir)))
	if len(errs) > 0 {
		return fmt.Errorf("copy the MP3s to %s: %w", out, errors.Join(errs...))
	}
	return nil
}

// summary prints the per-file table and returns how many files did not
// succeed.
func summary(e *env, s snapshot, inputSizes map[string]int64, elapsed time.Duration) int {
	fmt.Fprintln(e.stdout, "\nSummary:")
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tRESULT\tINPUT\tOUTPUT\tDETAIL")
	failed := 0
	for _, f := range s.Files {
		out, detail := "-", f.Reason
		if f.State == results.StateSucceeded && f.OutputSize >= 0 {
			out, detail = humanBytes(f.OutputSize), f.OutputBlob
		} else {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Blob, f.State, humanBytes(inputSizes[f.Blob]), out, oneLine(detail, 80))
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d of %d succeeded in %s\n", len(s.Files)-failed, len(s.Files), elapsed.Round(100*time.Millisecond))
	return failed
}
