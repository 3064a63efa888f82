package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ffbatch/ffbatch/internal/arrival"
)

// MP4ContentType is the Content-Type of the MP4s submit uploads.
const MP4ContentType = "video/mp4"

func cmdSubmit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "submit", "[flags] FILES...")
	name := fs.String("name", "", "blob name for a single file (default: the file's path relative to the working directory)")
	message := fs.Bool("message", false, "send arrival messages to the queue for FILES, which name blobs already in the input container, instead of uploading")
	preset := fs.String("preset", "", "ffmpeg preset of the arrival messages (--message; default: the configured one; see `ffbatch presets`)")
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
	if *message {
		if err := checkInputNames(files); err != nil {
			return err
		}
		return submitMessages(ctx, e, files, *preset)
	}
	ups, err := planUploads(files, *name)
	if err != nil {
		return err
	}
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	return uploadAll(ctx, e.stdout, c.blobs, c.ep.InputContainer, ups)
}

// pendingUpload is a checked local file and the blob name it gets.
type pendingUpload struct {
	path, blob string
	size       int64
}

// planUploads checks every file and its blob name before anything is
// uploaded, so a bad argument uploads nothing.
func planUploads(files []string, name string) ([]pendingUpload, error) {
	var (
		ups  []pendingUpload
		errs []error
	)
	for _, f := range files {
		blobName := name
		if blobName == "" {
			var err error
			if blobName, err = BlobName(f); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := checkInputNames([]string{blobName}); err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := os.Stat(f)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("submit %s: %w", f, err))
		case !st.Mode().IsRegular():
			errs = append(errs, fmt.Errorf("submit %s: not a regular file", f))
		default:
			ups = append(ups, pendingUpload{path: f, blob: blobName, size: st.Size()})
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing uploaded: %w", errors.Join(errs...))
	}
	return ups, nil
}

// checkInputNames refuses blob names that name outputs (MP3s): they would
// only be answered "ignored".
func checkInputNames(names []string) error {
	var errs []error
	for _, n := range names {
		if arrival.HasMP3Extension(n) {
			errs = append(errs, fmt.Errorf("%s is an MP3, an output name: ffbatch writes MP3s to the output container "+
				"(`ffbatch get` downloads them); submit the MP4 it is made from", n))
		}
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

// submitMessages sends one arrival message per blob name, for blobs
// already in the input container; every blob is read before anything is
// sent.
func submitMessages(ctx context.Context, e *env, names []string, preset string) error {
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	var (
		as   []arrival.Arrival
		errs []error
	)
	for _, n := range names {
		a, err := c.arrivalFor(ctx, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.Preset = preset
		if err := a.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("arrival for %s: %w", n, err))
			continue
		}
		as = append(as, a)
	}
	if len(errs) > 0 {
		return fmt.Errorf("nothing sent: %w", errors.Join(errs...))
	}
	return c.sendArrivals(ctx, as, func(a arrival.Arrival) {
		fmt.Fprintf(e.stdout, "sent arrival for %s/%s (etag %s)\n", a.Container, a.Blob, a.ETag)
	})
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
