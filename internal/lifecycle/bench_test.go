package lifecycle

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
)

// storeBenchFiles is how many distinct input blobs each benchmark records.
const storeBenchFiles = 2000

// storeBenchWorkers matches handlers' statusWorkers.
const storeBenchWorkers = 16

// runConcurrently calls fn(0..n-1) on storeBenchWorkers goroutines and
// reports the rate as name per second.
func runConcurrently(b *testing.B, name string, n int, fn func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, storeBenchWorkers)
	start := time.Now()
	for range storeBenchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed := false
			for i := range next {
				if failed {
					continue // drain, so the feeder never blocks
				}
				if err := fn(i); err != nil {
					errs <- err
					failed = true
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), name+"/s")
}

// BenchmarkStoreAgainstAzurite measures what a request costs the status
// store against Azurite, with a plain unconditional upload of a blob of
// the same size as the baseline in the same run: recording a new request
// (read + conditional create), and claiming a new output (read +
// conditional create). It explains SubmitTasks' throughput (BENCHMARKS.md).
func BenchmarkStoreAgainstAzurite(b *testing.B) {
	ctx := context.Background()
	s := newStoreB(b)
	if _, err := s.c.Create(ctx, nil); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 600)
	for range b.N {
		run := fmt.Sprint(time.Now().UnixNano())
		runConcurrently(b, "plain-uploads", storeBenchFiles, func(i int) error {
			_, err := s.c.NewBlockBlobClient(fmt.Sprintf("plain/%s/%d", run, i)).UploadBuffer(ctx, body, nil)
			return err
		})
		runConcurrently(b, "requests-recorded", storeBenchFiles, func(i int) error {
			r := req(fmt.Sprint("r-", i), func(r *request.Request) { r.Blob = fmt.Sprintf("%s/%d.mp4", run, i) })
			_, err := s.Update(ctx, r.Container, r.Blob, func(rec *Record) Change { return rec.Submit(r, t0) })
			return err
		})
		runConcurrently(b, "outputs-claimed", storeBenchFiles, func(i int) error {
			_, err := s.ClaimOutput(ctx, OutputOwner{Output: fmt.Sprintf("%s/%d.mp3", run, i), Container: "input", Blob: fmt.Sprintf("%s/%d.mp4", run, i), Preset: "p"}, false)
			return err
		})
	}
}
