package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/results"
)

// retryPrefix starts the request ids of retries.
const retryPrefix = "retry-"

func cmdRetry(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "retry", "FILES...")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no files given (input blob names, as `ffbatch status` lists them)", errUsage)
	}
	c, files, err := connectFiles(ctx, e)
	if err != nil {
		return err
	}
	defer c.close()
	var (
		as   []arrival.Arrival
		errs []error
	)
	for _, f := range selectNames(files, fs.Args(), c.ep.InputContainer) {
		a, err := c.retryArrival(ctx, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		as = append(as, a)
	}
	if len(errs) > 0 {
		return fmt.Errorf("nothing sent: %w", errors.Join(errs...))
	}
	return c.sendArrivals(ctx, as, func(a arrival.Arrival) {
		fmt.Fprintf(e.stdout, "retry %s/%s: new request %s (etag %s, preset %s); follow it with `ffbatch watch %s`\n",
			a.Container, a.Blob, a.Request, a.ETag, a.Preset, a.Blob)
	})
}

// retryArrival is the arrival of a new request for the current version of
// f's blob, with the preset and output of f's current request and a fresh
// request id, so it gets its own answer. A file whose current request
// succeeded is transcoded again (force) rather than answered with its MP3.
func (c *clients) retryArrival(ctx context.Context, f fileView) (arrival.Arrival, error) {
	if err := retryable(f); err != nil {
		return arrival.Arrival{}, err
	}
	a, err := c.arrivalFor(ctx, f.Blob)
	if err != nil {
		return arrival.Arrival{}, fmt.Errorf("retry %s: %w", f.Blob, err)
	}
	cur := f.Record.Current()
	a.Preset, a.Output = cur.Preset, cur.Output
	a.Force = cur.State == results.StateSucceeded
	a.Request = retryPrefix + uuid.NewString()
	if err := a.Validate(); err != nil {
		return arrival.Arrival{}, fmt.Errorf("retry %s: %w", f.Blob, err)
	}
	return a, nil
}

// retryable refuses files that cannot be retried: unknown names, blobs
// that are not MP4s, and files whose current request is not answered yet.
func retryable(f fileView) error {
	switch {
	case f.State == stateUnknown:
		return fmt.Errorf("%s: unknown: %s", f.Blob, f.Reason)
	case !arrival.HasMP4Extension(f.Blob):
		return fmt.Errorf("%s is not an .mp4: ffbatch does not transcode it, so there is nothing to retry", f.Blob)
	case f.Record == nil || f.Record.Current() == nil || !f.State.Terminal():
		return fmt.Errorf("%s is in flight (%s): only finished files are retried; `ffbatch watch %s` follows it", f.Blob, f.State, f.Blob)
	}
	return nil
}
