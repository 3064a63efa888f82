package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/results"
)

// files is the batch size.
const files = 24

// BenchmarkTwentyFourThreeMinuteFiles measures a burst as the user sees
// it: 24 MP4s with 3 minutes of audio each, from the start of `ffbatch
// submit` of all 24 (the CLI uploads a few at once) to `ffbatch watch` of
// their names returning (every one finished), with the product's default
// settings (one node with one task slot per CPU, the Batch emulator
// running as many processes; SweepPools on its default schedule,
// TaskFinished settling each task when its logs appear). The baseline
// runs plain ffmpeg (same arguments) over the same local files with that
// many workers. Reported: both wall times in seconds and their ratio for
// the last iteration, the ratio of the first (cold: no pool yet), and the
// last iteration's breakdown (burstBreakdown), with the CPU seconds the
// stack's own processes (not ffmpeg) used during the burst. Run with -benchtime 2x to
// see both a cold and a warm run.
func BenchmarkTwentyFourThreeMinuteFiles(b *testing.B) {
	par := runtime.NumCPU()
	dir := b.TempDir()
	ctx := context.Background()
	src := filepath.Join(dir, "src.mp4")
	if err := media.GenerateMP4(ctx, src, &media.SampleOptions{Duration: 3 * time.Minute, Width: 160, Height: 120}); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	// 24 distinct local files with the same content.
	var paths []string
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("in-%02d.mp4", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	cli := buildCLI(b)
	st, blobs := startStack(b, map[string]string{
		"FFBATCH_DEFAULT_PRESET":      preset,
		"FFBATCH_DEDICATED_MAX_NODES": "1",
		"FFBATCH_SPOT_MAX_NODES":      "0",
		"FFBATCH_TASK_SLOTS_PER_NODE": strconv.Itoa(par),
	}, par)
	if err := st.WriteRecord(); err != nil {
		b.Fatal(err)
	}
	store := lifecycle.NewStore(blobs.ServiceClient().NewContainerClient(st.Endpoints.StatusContainer), nil)
	procs := stackProcs(b, st)

	// The first iteration starts with no pool (cold: the pool is created
	// by SubmitTasks); later iterations find the pool still up (warm).
	var pipe, base, coldPipe, coldBase time.Duration
	var bd burstBreakdown
	b.ResetTimer()
	for n := range b.N {
		// The blob names are the paths relative to the run's directory
		// (hard links to the same files), as submit names them.
		run := filepath.Join(dir, fmt.Sprintf("run-%d", n))
		if err := os.MkdirAll(run, 0o755); err != nil {
			b.Fatal(err)
		}
		var names []string
		for i, p := range paths {
			name := fmt.Sprintf("run-%d/in-%02d.mp4", n, i)
			if err := os.Link(p, filepath.Join(dir, name)); err != nil {
				b.Fatal(err)
			}
			names = append(names, name)
		}
		uctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
		cpu0 := cpuOf(b, procs)
		start := time.Now()
		uploaded, err := cliLines(uctx, cli, st.Dir, dir, append([]string{"submit"}, names...), "uploaded ")
		if err != nil {
			b.Fatal(err)
		}
		seen, err := cliLines(uctx, cli, st.Dir, dir, append([]string{"watch"}, names...), "")
		if err != nil {
			b.Fatal(err)
		}
		pipe = time.Since(start)
		cancel()
		cpu1 := cpuOf(b, procs)

		// Baseline: plain ffmpeg, par workers, same files.
		bstart := time.Now()
		parallel(b, files, par, func(i int) error {
			return ffmpeg(ctx, paths[i], filepath.Join(dir, fmt.Sprintf("out-%d-%02d.mp3", n, i)))
		})
		base = time.Since(bstart)
		if n == 0 {
			coldPipe, coldBase = pipe, base
		}
		bd = breakdown(b, store, st.Endpoints.InputContainer, fmt.Sprintf("run-%d/", n), names, start, uploaded, seen, par, base)
		bd.StackCPU = map[string]float64{}
		for _, p := range procs {
			bd.StackCPU[p.name] = cpu1[p.name] - cpu0[p.name]
		}
		bd.log(b, n)
	}
	b.StopTimer()
	b.ReportMetric(coldPipe.Seconds()/coldBase.Seconds(), "cold-ratio")
	b.ReportMetric(pipe.Seconds(), "pipeline-s")
	b.ReportMetric(base.Seconds(), "ffmpeg-s")
	b.ReportMetric(pipe.Seconds()/base.Seconds(), "ratio")
	b.ReportMetric(float64(par), "parallelism")
	bd.report(b)
	b.ReportMetric(0, "ns/op")
}

// cliLines runs the CLI in dir and returns, for each file named at the end
// of an output line starting with prefix (after the elapsed time column
// for watch, when prefix is ""), when the line was read: submit prints
// "uploaded PATH -> container/BLOB (size)" per upload done, watch (not on
// a terminal) "ELAPSED  STATE  BLOB [output]" per change, the last per
// file being its finished state.
func cliLines(ctx context.Context, cli, state, dir string, args []string, prefix string) (map[string]time.Time, error) {
	cmd := cliCommand(ctx, cli, state, args...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	at := map[string]time.Time{}
	var text strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		now, line := time.Now(), sc.Text()
		text.WriteString(line + "\n")
		f := strings.Fields(line)
		switch {
		case prefix != "" && strings.HasPrefix(line, prefix) && len(f) >= 4:
			at[f[1]] = now // the path, which is the blob name
		case prefix == "" && len(f) >= 3 && results.State(f[1]).Terminal():
			at[f[2]] = now
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("ffbatch %s: %w\n%s%s", args[0], err, text.String(), stderr.String())
	}
	return at, nil
}
