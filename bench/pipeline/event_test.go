package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

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
	dir, src, data := tenSecondSample(b)
	ctx := context.Background()
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
	measureLatencies(b, src, dir, "event", func(name string) (time.Duration, error) { return upload(name + ".mp4") })
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
