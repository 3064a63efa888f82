package lifecycle

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
	"github.com/ffbatch/ffbatch/internal/localstack"
)

// BenchmarkCLIStatus10000 times `ffbatch status` as a user runs it (the
// built binary, default flags) with the 10,000 status records of
// BenchmarkStatusPage10000 (seedStatusPage; it lives here to share that
// seeding) in Azurite, against the same-run baseline of one plain List
// Blobs page of 100 names. It also times `status --json` and `status
// --all` (every file's line: what status printed before --limit).
//
// Only Azurite runs: the Batch and Service Bus endpoints refuse
// connections at once, so their parts of the view (pool, task counts,
// queue) are missing and cost nothing here; on the local stack they are
// a few requests whose cost does not depend on the number of files.
func BenchmarkCLIStatus10000(b *testing.B) {
	ctx := context.Background()
	az := azuritetest.Start(b)
	cc, err := container.NewClientFromConnectionString(az.ConnectionString, "ffbatch-status", nil)
	if err != nil {
		b.Fatal(err)
	}
	s := NewStore(cc, time.Now) // the activity's minutes in the CLI's last hour
	if _, err := cc.Create(ctx, nil); err != nil {
		b.Fatal(err)
	}
	seedStatusPage(b, s)
	dir := b.TempDir()
	bin := filepath.Join(dir, "ffbatch")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ffbatch/ffbatch/cmd/ffbatch").CombinedOutput(); err != nil {
		b.Fatalf("build ffbatch: %v\n%s", err, out)
	}
	if err := localstack.SaveEndpoints(dir, localstack.Endpoints{
		StorageConnection: az.ConnectionString, InputContainer: "input", OutputContainer: "output", StatusContainer: "ffbatch-status",
		BatchEndpoint: "http://127.0.0.1:1", BatchAccount: "acct", BatchKey: "a2V5", PoolID: "pool", JobID: "job",
		ServiceBusHTTP: "http://127.0.0.1:1", ArrivalsQueue: "arrivals",
	}); err != nil {
		b.Fatal(err)
	}
	status := func(args ...string) (time.Duration, string) {
		var out bytes.Buffer
		cmd := exec.Command(bin, append([]string{"--state", dir, "status"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if err != nil {
			b.Fatalf("ffbatch status %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return took, out.String()
	}
	avg := func(reps int, fn func() time.Duration) float64 {
		var total time.Duration
		for range reps {
			total += fn()
		}
		return float64(total.Microseconds()) / float64(reps) / 1000
	}
	_, out := status()
	if !strings.Contains(out, "Not shown: the files after the first 50 by name") {
		b.Fatalf("status does not say it left files out:\n%s", out)
	}
	for range b.N {
		baseline := avg(20, func() time.Duration {
			start := time.Now()
			pager := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(containerPrefix("input")), MaxResults: to.Ptr[int32](100)})
			if _, err := pager.NextPage(ctx); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		})
		plain := avg(20, func() time.Duration { d, _ := status(); return d })
		asJSON := avg(20, func() time.Duration { d, _ := status("--json"); return d })
		all := avg(3, func() time.Duration { d, _ := status("--all"); return d })
		b.ReportMetric(baseline, "baseline-ms")
		b.ReportMetric(plain, "status-ms")
		b.ReportMetric(plain/baseline, "status-x-baseline")
		b.ReportMetric(asJSON, "status-json-ms")
		b.ReportMetric(all, "status-all-ms")
	}
}
