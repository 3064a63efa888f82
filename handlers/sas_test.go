package handlers

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/plan"
)

// lifetimeSigner is a signer that writes each URL's lifetime into its
// query, so a test can read from an added task how long its URLs last.
type lifetimeSigner struct{ fakeSigner }

func (lifetimeSigner) ReadBlobURL(_ context.Context, c, b string, d time.Duration) (string, error) {
	return "https://acct.blob.core.windows.net/" + c + "/" + b + "?sp=r&lifetime=" + d.String(), nil
}

func (lifetimeSigner) WriteContainerURL(_ context.Context, c string, d time.Duration) (string, error) {
	return "https://acct.blob.core.windows.net/" + c + "?sp=cw&lifetime=" + d.String(), nil
}

func lifetimeOf(t *testing.T, raw string) time.Duration {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	d, err := time.ParseDuration(u.Query().Get("lifetime"))
	if err != nil {
		t.Fatalf("lifetime of %q: %v", raw, err)
	}
	return d
}

// TestSASOutlivesEveryAttempt: Batch retries a task with the URLs it was
// added with, so each task's input URL must stay valid for the queueing
// allowance plus its wall-clock limit times its attempts, and the output
// container URL, shared by the batch, for the longest task's. Checked
// against what Batch is told (maxWallClockTime, maxTaskRetryCount), not
// against the formula in internal/plan.
func TestSASOutlivesEveryAttempt(t *testing.T) {
	const gib = 1 << 30
	sizes := []int64{
		10,            // a clip
		gib + gib/2,   // 1.5 GiB, 2 retries
		2 * gib,       // the last size with 2 retries
		2*gib + gib/2, // 2.5 GiB: 1 retry of 70 min each; outlived the old fixed 2 h
		40 * gib,      // 1 retry of 13 h 30 min each
		1000 * gib,    // 1,000 GiB: would need four weeks, capped
	}
	f := newFixture(t, nil)
	f.app.d.Signer = lifetimeSigner{}
	var msgs []message
	for i, size := range sizes {
		blob := fmt.Sprintf("f%d.mp4", i)
		msgs = append(msgs, message{id: "m-" + blob, body: fmt.Sprintf(`{"container":"input","blob":%q,"etag":"0x%d","size":%d}`, blob, i+1, size)})
	}
	f.submit(t, msgs...)
	if len(f.batch.added) != len(sizes) {
		t.Fatalf("added %d tasks, want %d", len(f.batch.added), len(sizes))
	}

	var longest time.Duration
	needs := make([]time.Duration, len(sizes))
	running := make([]time.Duration, len(sizes)) // every attempt at its limit
	for i, task := range f.batch.added {
		c := task.Constraints
		if c == nil || c.MaxWallClockTime == nil || c.MaxTaskRetryCount == nil {
			t.Fatalf("task %s has no wall-clock or retry constraint: %+v", task.ID, c)
		}
		attempts := time.Duration(*c.MaxTaskRetryCount + 1)
		running[i] = attempts * time.Duration(*c.MaxWallClockTime)
		needs[i] = min(f.cfg.SASQueueing+running[i], plan.MaxURLLifetime)
		longest = max(longest, needs[i])
		in := lifetimeOf(t, task.ResourceFiles[0].HTTPURL)
		if in < needs[i] {
			t.Errorf("size %d: input URL valid for %v, but the task may need %v (queueing %v + %d attempts × %v)",
				sizes[i], in, needs[i], f.cfg.SASQueueing, attempts, time.Duration(*c.MaxWallClockTime))
		}
		if in > plan.MaxURLLifetime {
			t.Errorf("size %d: input URL valid for %v, longer than a user delegation key allows", sizes[i], in)
		}
	}
	for _, task := range f.batch.added {
		for _, of := range task.OutputFiles {
			if out := lifetimeOf(t, of.Destination.Container.ContainerURL); out < longest || out > plan.MaxURLLifetime {
				t.Errorf("task %s: output container URL valid for %v, want at least the longest task's %v and at most %v",
					task.ID, out, longest, plan.MaxURLLifetime)
			}
		}
	}
	// The case that motivated this: a 2.5 GiB file runs up to twice
	// 70 minutes, so a URL signed for the old fixed 2 hours could expire
	// during Batch's retry.
	if running[3] <= 2*time.Hour {
		t.Errorf("2.5 GiB file runs at most %v; the fixture no longer exercises the long-retry case", running[3])
	}
	if needs[5] != plan.MaxURLLifetime {
		t.Errorf("1,000 GiB file needs %v, want the cap %v", needs[5], plan.MaxURLLifetime)
	}
}
