package cli

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/results"
)

// uploadWorkers bounds the files submit uploads at once.
const uploadWorkers = 4

// progressFrom is the size from which an upload reports its progress (a
// line with a bar every quarter; lines, not a bar redrawn in place, as
// several uploads run at once), so a large file does not look stuck.
var progressFrom int64 = 64 << 20

// uploadAll uploads every planned file into container, at most
// uploadWorkers at once, printing a line as each one is done. Every upload
// is attempted; the error joins the failures.
func uploadAll(ctx context.Context, w io.Writer, blobs *azblob.Client, container string, ups []pendingUpload) error {
	var (
		mu   sync.Mutex // guards w
		wg   sync.WaitGroup
		sem  = make(chan struct{}, uploadWorkers)
		errs = make([]error, len(ups))
	)
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, format, args...)
	}
	for i, u := range ups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if errs[i] = upload(ctx, blobs, container, u, say); errs[i] != nil {
				return
			}
			say("uploaded %s -> %s/%s (%s)\n", u.path, container, u.blob, humanBytes(u.size))
			if !arrival.HasMP4Extension(u.blob) {
				say("  %s: %s\n", results.StateIgnored, arrival.NotMP4Message)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// upload puts the file of u into container: an .mp4 with Content-Type
// video/mp4, and always with its Content-MD5, which Azure stores only for
// single-request uploads unless the client sets it (it lets an identical
// re-upload be recognised; docs/messages.md). A large file reports its
// progress through say.
func upload(ctx context.Context, blobs *azblob.Client, container string, u pendingUpload, say func(string, ...any)) error {
	f, err := os.Open(u.path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", u.path, err)
	}
	defer f.Close()
	sum := md5.New()
	if _, err := io.Copy(sum, f); err != nil {
		return fmt.Errorf("upload %s: hash: %w", u.path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("upload %s: %w", u.path, err)
	}
	h := &blob.HTTPHeaders{BlobContentMD5: sum.Sum(nil)}
	if arrival.HasMP4Extension(u.blob) {
		ct := MP4ContentType
		h.BlobContentType = &ct
	}
	opts := &azblob.UploadFileOptions{HTTPHeaders: h}
	if u.size >= progressFrom {
		next := int64(1)
		opts.Progress = func(done int64) {
			if done*4 >= next*u.size && next < 4 {
				say("uploading %s: %s %d%% of %s\n", u.path, bar(int(next), 4), next*25, humanBytes(u.size))
				next++
			}
		}
	}
	if _, err := blobs.UploadFile(ctx, container, u.blob, f, opts); err != nil {
		return fmt.Errorf("upload %s to %s/%s: %w", u.path, container, u.blob, err)
	}
	return nil
}
