package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/arrival/arrivalmsg"
	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

const contentTypeJSON = "application/json"

// arrivalMessage builds the Service Bus message for an arrival.
func arrivalMessage(a arrival.Arrival) (*azservicebus.Message, error) {
	return arrivalmsg.New(a)
}

// publish sends one result event to the results topic.
func (a *App) publish(ctx context.Context, ev *results.Event) error {
	body, err := ev.Marshal()
	if err != nil {
		return err
	}
	ct, subject, id := contentTypeJSON, string(ev.Status), ev.ID
	m := &azservicebus.Message{
		Body: body, MessageID: &id, ContentType: &ct, Subject: &subject,
		ApplicationProperties: map[string]any{"status": string(ev.Status)},
	}
	if ev.File != nil && ev.File.Correlation != "" {
		c := ev.File.Correlation
		m.CorrelationID = &c
	}
	if err := a.d.Results.SendMessage(ctx, m, nil); err != nil {
		return fmt.Errorf("publish %s result %s: %w", ev.Status, ev.ID, err)
	}
	return nil
}

// resultID is the stable id of the final result for one file version and
// preset: the same whichever attempt ends it, so a sweep that runs twice
// publishes the same id.
func resultID(f plan.File) string {
	return "result-" + plan.TaskID(f.Container, f.Blob, f.ETag, f.Preset, 0)
}

// rejectedID is the stable id of a rejection of one message.
func rejectedID(messageID string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s;", len(messageID), messageID)
	h.Write(body)
	return "rejected-" + hex.EncodeToString(h.Sum(nil))[:64]
}

// rejectionEvent builds the rejected result event for an invalid message.
func (a *App) rejectionEvent(messageID string, body []byte, err error) *results.Event {
	rej := &results.Rejection{Message: err.Error(), MessageID: messageID, Body: results.Excerpt(string(body), 512)}
	if ae, ok := err.(*arrival.Error); ok {
		rej.Reason = string(ae.Reason())
		for _, p := range ae.Problems {
			rej.Problems = append(rej.Problems, results.Problem{Field: p.Field, Reason: string(p.Reason), Message: p.Message})
		}
	} else if re, ok := err.(*rejectError); ok {
		rej.Reason = re.reason
	}
	if rej.Reason == "" {
		rej.Reason = "invalid"
	}
	return &results.Event{Schema: results.SchemaVersion, ID: rejectedID(messageID, body), Status: results.StatusRejected, Time: a.now().UTC(), Rejection: rej}
}

// rejectError is a rejection decided by a function rather than the parser.
type rejectError struct{ reason, msg string }

func (e *rejectError) Error() string { return e.msg }

// outputRef is where a file's MP3 goes, without SAS.
func (a *App) outputRef(blob string) *results.Output {
	return &results.Output{
		URL:       blobaccess.BlobURL(a.d.Signer.AccountURL(), a.cfg.OutputContainer, blob),
		Container: a.cfg.OutputContainer,
		Blob:      blob,
	}
}

// logsURL is the SAS-free URL prefix of a task's logs.
func (a *App) logsURL(taskID string) string {
	return blobaccess.BlobURL(a.d.Signer.AccountURL(), a.cfg.OutputContainer, plan.LogsPath(a.cfg.LogsPrefix, taskID))
}

// containerOnce creates the output container once per process; Batch
// fails uploads (FileUploadContainerNotFound) if it is missing.
type containerOnce struct {
	mu   sync.Mutex // guards done
	done bool
}

func (c *containerOnce) ensure(ctx context.Context, blobs blobAPI, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return nil
	}
	_, err := blobs.CreateContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("create container %s: %w", name, err)
	}
	c.done = true
	return nil
}

// putStatus records a status change; a failure is logged, not returned:
// the status store is an observability aid and must not block transcodes.
func (a *App) putStatus(ctx context.Context, st results.FileStatus) {
	_ = a.putStatusErr(ctx, st)
}

// errStatusNotRecorded marks a status write that failed after the message
// it records was sent.
var errStatusNotRecorded = errors.New("status not recorded")

// putStatusErr is putStatus that also returns the failure, wrapping
// errStatusNotRecorded, for callers that must not go on without the
// record (SweepPools keeps a task until its outcome is recorded).
func (a *App) putStatusErr(ctx context.Context, st results.FileStatus) error {
	if _, err := a.d.Status.Put(ctx, st); err != nil {
		a.log.Warn("status update failed", "container", st.Container, "blob", st.Blob, "state", st.State, "err", err)
		return fmt.Errorf("%w: %w", errStatusNotRecorded, err)
	}
	return nil
}

// statusWorkers bounds concurrent status writes (each is a read and a
// conditional write to Blob storage).
const statusWorkers = 16

// forEach calls fn(0..n-1) on at most workers goroutines and returns the
// first error; after an error no new calls start.
func forEach(n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards first and next
		first error
		next  int
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// backoff is the delay before resubmission n (1-based): base × 2^(n-1),
// capped at a day.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}
