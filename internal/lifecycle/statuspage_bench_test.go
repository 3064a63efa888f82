package lifecycle

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// statusPageFiles is the number of records BenchmarkStatusPage10000 seeds;
// every 100th has failed.
const statusPageFiles = 10000

// BenchmarkStatusPage10000 measures what one dashboard refresh costs the
// status store with 10,000 records in Azurite, against a baseline measured
// in the same run: one plain List Blobs page of 100 names (no metadata).
//
//   - refresh: one page of 100 rows (ListRows: one List Blobs request with
//     metadata) plus the activity summary (one small blob read): the
//     storage part of every refresh;
//   - failed-filter: a state filter that must scan (100 failed among
//     10,000: at most MaxScanPages listing pages of 1,000);
//   - all-metadata: listing every record's metadata (10 pages of 1,000),
//     what the Status summary did before;
//   - read-every-record: reading all 10,000 records, what the CLI's
//     progress view does (measured once per iteration).
//
// Metrics are milliseconds per operation and ratios to the baseline.
func BenchmarkStatusPage10000(b *testing.B) {
	ctx := context.Background()
	s := newStoreB(b)
	s.pageSize = inFlightPage
	if _, err := s.c.Create(ctx, nil); err != nil {
		b.Fatal(err)
	}
	seedStatusPage(b, s)
	const reps = 20
	avg := func(fn func() error) float64 {
		start := time.Now()
		for range reps {
			if err := fn(); err != nil {
				b.Fatal(err)
			}
		}
		return float64(time.Since(start).Microseconds()) / reps / 1000
	}
	for range b.N {
		baseline := avg(func() error {
			pager := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(containerPrefix("input")), MaxResults: to.Ptr[int32](100)})
			_, err := pager.NextPage(ctx)
			return err
		})
		refresh := avg(func() error {
			p, err := s.ListRows(ctx, RowQuery{Container: "input", Limit: 100})
			if err == nil && (len(p.Rows) != 100 || p.Requests != 1) {
				err = fmt.Errorf("page of %d rows in %d requests", len(p.Rows), p.Requests)
			}
			if err == nil {
				_, err = s.Activity(ctx)
			}
			return err
		})
		failed := avg(func() error {
			_, err := s.ListRows(ctx, RowQuery{Container: "input", States: []results.State{results.StateFailed}, Limit: 100})
			return err
		})
		allMetadata := avg(func() error {
			pager := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(RecordPrefix), Include: container.ListBlobsInclude{Metadata: true}})
			for pager.More() {
				if _, err := pager.NextPage(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		start := time.Now()
		runConcurrently(b, "records-read", statusPageFiles, func(i int) error {
			_, err := s.Get(ctx, "input", statusPageBlob(i))
			return err
		})
		readAll := float64(time.Since(start).Milliseconds())
		b.ReportMetric(baseline, "baseline-ms")
		b.ReportMetric(refresh, "refresh-ms")
		b.ReportMetric(refresh/baseline, "refresh-x-baseline")
		b.ReportMetric(failed, "failed-filter-ms")
		b.ReportMetric(allMetadata, "all-metadata-ms")
		b.ReportMetric(allMetadata/baseline, "all-metadata-x-baseline")
		b.ReportMetric(readAll, "read-every-record-ms")
	}
}

func statusPageBlob(i int) string { return fmt.Sprintf("shows/%05d.mp4", i) }

// seedStatusPage records statusPageFiles requests, every 100th answered
// failed with an ffmpeg reason, the rest submitted, and an hour of
// activity.
func seedStatusPage(b *testing.B, s *Store) {
	b.Helper()
	ctx := context.Background()
	exit := int32(1)
	runConcurrently(b, "records-seeded", statusPageFiles, func(i int) error {
		r := req(fmt.Sprint("r-", i), func(r *request.Request) { r.Blob = statusPageBlob(i) })
		_, err := s.Update(ctx, "input", r.Blob, func(rec *Record) Change {
			ch := rec.Submit(r, t0)
			if i%100 == 0 {
				fail := TaskResult{Outcome: results.OutcomePermanent, Failure: &results.Failure{Category: results.CategoryFFmpeg,
					Code: "FailureExitCode", ExitCode: &exit, Message: "exit 1", Stderr: "input.mp4: Invalid data found when processing input"}}
				ch = rec.Settle(ch.Task.TaskID, r, fail, 0, t0)
			}
			return ch
		})
		return err
	})
	var answered []Entry
	for m := range 60 {
		for k := range 5 {
			answered = append(answered, Entry{Request: req(fmt.Sprint("a-", m, "-", k)), State: results.StateSucceeded,
				AudioMillis: 60000, AnsweredAt: s.now().Add(-time.Duration(m) * time.Minute)})
		}
	}
	if err := s.RecordActivity(ctx, answered); err != nil {
		b.Fatal(err)
	}
}
