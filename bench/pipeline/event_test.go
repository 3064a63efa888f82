package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/results"
)

// BenchmarkUploadToResultEvent uploads one 10-second MP4 at a time and
// measures upload start -> its result event received from the results
// topic's "all" subscription, 20 times, after one warm-up file, with the
// product's default settings (SweepPools every 5 minutes: completion is
// settled by TaskFinished when the task's logs appear). The baseline is
// plain ffmpeg converting the same file with the same preset, 20 times.
// Reported: p50/p95 of both, in ms, and their ratios.
func BenchmarkUploadToResultEvent(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "ten.mp4")
	ctx := context.Background()
	if err := media.GenerateMP4(ctx, src, &media.SampleOptions{Duration: 10 * time.Second}); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	st, blobs := startStack(b, map[string]string{"FFBATCH_DEFAULT_PRESET": preset}, 0)
	sb, err := azservicebus.NewClientFromConnectionString(st.Endpoints.ServiceBus, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close(context.Background()) })
	// Peek-lock and complete, as a subscriber would (receive-and-delete
	// would wait a second after each first message for more).
	rcv, err := sb.NewReceiverForSubscription(st.Endpoints.ResultsTopic, "all", nil)
	if err != nil {
		b.Fatal(err)
	}
	in := st.Endpoints.InputContainer

	upload := func(name string) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		start := time.Now()
		if _, err := blobs.UploadBuffer(ctx, in, name, data, nil); err != nil {
			return 0, fmt.Errorf("upload: %w", err)
		}
		if err := waitEvent(ctx, rcv, name); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	var pipe, base []time.Duration
	var first time.Duration
	for n := range b.N {
		if first, err = upload(fmt.Sprintf("warmup-%d.mp4", n)); err != nil {
			b.Fatal(err)
		}
		pipe, base = pipe[:0], base[:0]
		for i := range latencyRuns {
			d, err := upload(fmt.Sprintf("event-%d-%d.mp4", n, i))
			if err != nil {
				b.Fatal(err)
			}
			pipe = append(pipe, d)
		}
		for i := range latencyRuns {
			start := time.Now()
			if err := ffmpeg(ctx, src, filepath.Join(dir, fmt.Sprintf("base-%d.mp3", i))); err != nil {
				b.Fatal(err)
			}
			base = append(base, time.Since(start))
		}
	}
	p50, p95 := percentile(pipe, 0.50), percentile(pipe, 0.95)
	b50, b95 := percentile(base, 0.50), percentile(base, 0.95)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p95), "p95-ms")
	b.ReportMetric(ms(b50), "ffmpeg-p50-ms")
	b.ReportMetric(ms(b95), "ffmpeg-p95-ms")
	b.ReportMetric(float64(p50)/float64(b50), "p50-ratio")
	b.ReportMetric(ms(first), "first-file-ms")
	b.ReportMetric(0, "ns/op") // the wall time of the loop is not a result
}

// waitEvent receives result events until one answers a request for blob.
func waitEvent(ctx context.Context, rcv *azservicebus.Receiver, blob string) error {
	for {
		msgs, err := rcv.ReceiveMessages(ctx, 10, nil)
		if err != nil {
			return fmt.Errorf("receive the result of %s: %w", blob, err)
		}
		for _, m := range msgs {
			if err := rcv.CompleteMessage(ctx, m, nil); err != nil {
				return fmt.Errorf("complete a result message: %w", err)
			}
			var ev results.Event
			if json.Unmarshal(m.Body, &ev) == nil && ev.File != nil && ev.File.Blob == blob {
				if ev.Status != results.StatusSucceeded {
					return fmt.Errorf("%s: %s", blob, ev.Status)
				}
				return nil
			}
		}
	}
}
