package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/results"
)

// scaleFiles is the default number of files of BenchmarkManyFiles;
// FFBATCH_BENCH_FILES overrides it.
const scaleFiles = 10000

// uploaders is how many uploads the benchmark's "media tool" runs at once.
const uploaders = 16

// BenchmarkManyFiles drops FFBATCH_BENCH_FILES (default 10,000) distinct
// one-second MP4s at once into the local stack with its default settings,
// uploading them directly with azblob into the input container, 16 at a
// time (as a media team's tool would), and waits for `ffbatch watch
// --exit` to return (every file finished). It then checks that every file
// ended with one MP3 or one recorded failure and reports: the wall time
// against plain ffmpeg over the same files with the same arguments and
// the pool's parallelism; the stack's own CPU seconds per file (every
// process but ffmpeg: /proc/<pid>/stat of Azurite, the emulators, the host
// and the handler); each process's peak RSS; and the time of one `ffbatch
// status` (every file's line), one `ffbatch status --json` (the Status
// API's page, built in the CLI) and one Status API page (GET /api/status,
// what the dashboard refreshes) with every file uploaded and (almost) none
// finished, and again with every file finished.
func BenchmarkManyFiles(b *testing.B) {
	n := scaleFiles
	if v := os.Getenv("FFBATCH_BENCH_FILES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("FFBATCH_BENCH_FILES=%q: want a positive number", v)
		}
	}
	ctx := context.Background()
	dir := b.TempDir()
	cli := buildCLI(b)
	data := distinctMP4s(b, dir, n)
	par := runtime.NumCPU() // the default pool: 1 node, 2 slots; the emulator runs NumCPU processes
	st, blobs := startStack(b, map[string]string{"FFBATCH_DEFAULT_PRESET": preset}, 0)
	if err := st.WriteRecord(); err != nil {
		b.Fatal(err)
	}
	procs := stackProcs(b, st)
	cpu0 := cpuOf(b, procs)
	ffbatch := func(ctx context.Context, args ...string) *exec.Cmd {
		return cliCommand(ctx, cli, st.Dir, args...)
	}
	in := st.Endpoints.InputContainer

	for range b.N {
		start := time.Now()
		uploadMany(b, blobs, in, data)
		uploaded := time.Since(start)

		// Refresh costs with every file uploaded and (almost) none finished.
		status0 := timeStatus(b, ffbatch)
		json0 := timeStatus(b, ffbatch, "--json")
		api0 := timeStatusAPI(b, st.Endpoints)

		wctx, cancel := context.WithTimeout(ctx, 3*time.Hour)
		watch := ffbatch(wctx, "watch", "--exit")
		logf, err := os.Create(filepath.Join(dir, "watch.log"))
		if err != nil {
			b.Fatal(err)
		}
		watch.Stdout, watch.Stderr = logf, logf
		if err := watch.Run(); err != nil {
			b.Fatalf("ffbatch watch --exit: %v (log %s)", err, logf.Name())
		}
		cancel()
		logf.Close()
		pipe := time.Since(start)
		cpu1 := cpuOf(b, procs)

		succeeded, failed := checkOutcomes(b, st, blobs, n)
		// Refresh costs with every file finished: median of 5.
		var stat, js, api []time.Duration
		for range 5 {
			stat = append(stat, timeStatus(b, ffbatch))
			js = append(js, timeStatus(b, ffbatch, "--json"))
			api = append(api, timeStatusAPI(b, st.Endpoints))
		}

		// Baseline: plain ffmpeg, same arguments, par workers, same files.
		bstart := time.Now()
		runFFmpegPool(b, dir, n, par)
		base := time.Since(bstart)

		var stackCPU float64
		for _, p := range procs {
			d := cpu1[p.name] - cpu0[p.name]
			stackCPU += d
			b.ReportMetric(d*1000/float64(n), p.name+"-cpu-ms/file")
			rss, err := peakRSSMiB(p.pid)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rss, p.name+"-peak-rss-MiB")
		}
		b.ReportMetric(float64(n), "files")
		b.ReportMetric(float64(succeeded), "succeeded")
		b.ReportMetric(float64(failed), "failed")
		b.ReportMetric(uploaded.Seconds(), "upload-s")
		b.ReportMetric(pipe.Seconds(), "pipeline-s")
		b.ReportMetric(base.Seconds(), "ffmpeg-s")
		b.ReportMetric(pipe.Seconds()/base.Seconds(), "ratio")
		b.ReportMetric(float64(par), "parallelism")
		b.ReportMetric(stackCPU*1000/float64(n), "stack-cpu-ms/file")
		b.ReportMetric(ms(status0), "status-ms-none-done")
		b.ReportMetric(ms(percentile(stat, 0.5)), "status-ms-all-done")
		b.ReportMetric(ms(json0), "status-json-ms-none-done")
		b.ReportMetric(ms(percentile(js, 0.5)), "status-json-ms-all-done")
		b.ReportMetric(ms(api0), "statusapi-ms-none-done")
		b.ReportMetric(ms(percentile(api, 0.5)), "statusapi-ms-all-done")
	}
	b.ReportMetric(0, "ns/op")
}

// distinctMP4s generates a one-second MP4 and writes n copies made
// distinct by a trailing top-level "free" box holding the copy's number
// (players skip it; the content, and so its MD5, differs, so the
// pipeline's identical-content reuse does not apply). It returns the
// copies' bytes; copy i is also dir/in-<i>.mp4 for the baseline.
func distinctMP4s(b *testing.B, dir string, n int) [][]byte {
	b.Helper()
	src := filepath.Join(dir, "one.mp4")
	if err := media.GenerateMP4(context.Background(), src, &media.SampleOptions{Duration: time.Second, Width: 160, Height: 120}); err != nil {
		b.Fatal(err)
	}
	one, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		box := make([]byte, 16)
		binary.BigEndian.PutUint32(box, 16)
		copy(box[4:], "free")
		binary.BigEndian.PutUint64(box[8:], uint64(i))
		out[i] = append(append([]byte(nil), one...), box...)
		if err := os.WriteFile(inputPath(dir, i), out[i], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

func inputPath(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("in-%05d.mp4", i)) }

func scaleBlob(i int) string { return fmt.Sprintf("many/f-%05d.mp4", i) }

// uploadMany uploads data[i] as scaleBlob(i), uploaders at a time.
func uploadMany(b *testing.B, blobs *azblob.Client, container string, data [][]byte) {
	b.Helper()
	parallel(b, len(data), uploaders, func(i int) error {
		if _, err := blobs.UploadBuffer(context.Background(), container, scaleBlob(i), data[i], nil); err != nil {
			return fmt.Errorf("upload %s: %w", scaleBlob(i), err)
		}
		return nil
	})
}

// timeStatus times one `ffbatch status [flags]` (output discarded):
// without flags the bounded view (the Status API's page of 50 rows as
// text), with --json that page, with --all every file's line.
func timeStatus(b *testing.B, ffbatch func(context.Context, ...string) *exec.Cmd, flags ...string) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := ffbatch(ctx, append([]string{"status"}, flags...)...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ffbatch status: %v\n%.2000s", err, out)
	}
	return time.Since(start)
}

// timeStatusAPI times one Status page (GET /api/status, the dashboard's
// refresh: the default page of 100 rows and the activity summary).
func timeStatusAPI(b *testing.B, ep localstack.Endpoints) time.Duration {
	b.Helper()
	start := time.Now()
	resp, err := http.Get(ep.FunctionsURL + "/api/status?code=" + ep.FunctionsKey)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /api/status: %s: %.500s", resp.Status, body)
	}
	return time.Since(start)
}

// checkOutcomes checks that each of the n files ended with exactly one
// answer: succeeded with its MP3 in the output container, or a recorded
// failure; it returns how many of each.
func checkOutcomes(b *testing.B, st *localstack.Stack, blobs *azblob.Client, n int) (succeeded, failed int) {
	b.Helper()
	ctx := context.Background()
	store := lifecycle.NewStore(blobs.ServiceClient().NewContainerClient(st.Endpoints.StatusContainer), nil)
	q := lifecycle.RowQuery{Container: st.Endpoints.InputContainer, Prefix: "many/", Limit: lifecycle.MaxRowLimit}
	states := map[results.State]int{}
	var rows []lifecycle.Row
	for {
		page, err := store.ListRows(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, page.Rows...)
		if page.Next == "" {
			break
		}
		q.Marker = page.Next
	}
	mp3s := map[string]bool{}
	pager := blobs.NewListBlobsFlatPager(st.Endpoints.OutputContainer, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr("many/")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			mp3s[*it.Name] = true
		}
	}
	for _, r := range rows {
		states[r.State]++
		if r.State == results.StateSucceeded && !mp3s[r.Output] {
			b.Errorf("%s succeeded but its MP3 %s is not in the output container", r.Blob, r.Output)
		}
	}
	if len(rows) != n || states[results.StateSucceeded]+states[results.StateFailed] != n {
		var s []string
		for k, v := range states {
			s = append(s, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(s)
		b.Fatalf("%d files: %d records (%s); want every file succeeded or failed", n, len(rows), strings.Join(s, ", "))
	}
	return states[results.StateSucceeded], states[results.StateFailed]
}

// runFFmpegPool runs plain ffmpeg over the n input files with par workers.
func runFFmpegPool(b *testing.B, dir string, n, par int) {
	b.Helper()
	parallel(b, n, par, func(i int) error {
		return ffmpeg(context.Background(), inputPath(dir, i), filepath.Join(dir, fmt.Sprintf("out-%05d.mp3", i)))
	})
}
