package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/arrival/arrivalmsg"
	"github.com/ffbatch/ffbatch/internal/request"
)

func cmdSubmit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "submit", "[flags] FILES...")
	name := fs.String("name", "", "blob name for a single file (default: the file's path relative to the working directory)")
	message := fs.Bool("message", false, "send arrival messages to the queue for FILES, which name blobs already in the input container, instead of uploading")
	preset := fs.String("preset", "", "ffmpeg preset of the arrival messages (--message; default: the configured one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return fmt.Errorf("%w: no files given", errUsage)
	}
	if *name != "" && len(files) != 1 {
		return fmt.Errorf("%w: --name needs exactly one file, got %d", errUsage, len(files))
	}
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	if *message {
		return sendArrivals(ctx, e, c, files, *preset)
	}
	var errs []error
	for _, f := range files {
		blob := *name
		if blob == "" {
			if blob, err = BlobName(f); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		n, err := upload(ctx, c.blobs, c.ep.InputContainer, blob, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(e.stdout, "uploaded %s -> %s/%s (%s)\n", f, c.ep.InputContainer, blob, humanBytes(n))
	}
	return errors.Join(errs...)
}

// BlobName is the blob name for a local file: its path relative to the
// working directory with forward slashes; a file outside the working
// directory keeps only its base name (".." never reaches a blob name).
func BlobName(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("blob name for %s: %w", path, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("blob name for %s: %w", path, err)
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Base(abs), nil
	}
	return filepath.ToSlash(rel), nil
}

func upload(ctx context.Context, blobs *azblob.Client, container, blob, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", path, err)
	}
	if st.IsDir() {
		return 0, fmt.Errorf("upload %s: is a directory", path)
	}
	if _, err := blobs.UploadFile(ctx, container, blob, f, nil); err != nil {
		return 0, fmt.Errorf("upload %s to %s/%s: %w", path, container, blob, err)
	}
	return st.Size(), nil
}

// sendArrivals sends one arrival message per blob name, reading the blob's
// ETag and size from the input container.
func sendArrivals(ctx context.Context, e *env, c *clients, names []string, preset string) error {
	sb, err := c.serviceBus()
	if err != nil {
		return err
	}
	sender, err := sb.NewSender(c.ep.ArrivalsQueue, nil)
	if err != nil {
		return fmt.Errorf("sender for %s: %w", c.ep.ArrivalsQueue, err)
	}
	defer sender.Close(context.Background())
	var errs []error
	for _, n := range names {
		props, err := c.blobs.ServiceClient().NewContainerClient(c.ep.InputContainer).NewBlobClient(n).GetProperties(ctx, nil)
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			errs = append(errs, fmt.Errorf("blob %s/%s does not exist: upload it first (ffbatch submit FILE without --message)", c.ep.InputContainer, n))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("blob %s/%s: %w", c.ep.InputContainer, n, err))
			continue
		}
		a := arrival.Arrival{Version: request.Version{Container: c.ep.InputContainer, Blob: n}, Preset: preset}
		if props.ETag != nil {
			a.ETag = arrival.NormalizeETag(string(*props.ETag))
		}
		if props.ContentLength != nil {
			a.Size = *props.ContentLength
		}
		if err := sendArrival(ctx, sender, a); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(e.stdout, "sent arrival for %s/%s (etag %s)\n", a.Container, a.Blob, a.ETag)
	}
	return errors.Join(errs...)
}

func sendArrival(ctx context.Context, sender *azservicebus.Sender, a arrival.Arrival) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("arrival for %s: %w", a.Blob, err)
	}
	m, err := arrivalmsg.New(a)
	if err != nil {
		return err
	}
	if err := sender.SendMessage(ctx, m, nil); err != nil {
		return fmt.Errorf("send arrival for %s: %w", a.Blob, err)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
