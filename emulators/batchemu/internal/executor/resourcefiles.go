package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// defaultFileMode is the Batch default for resource files on Linux.
const defaultFileMode fs.FileMode = 0o770

// Validate checks a resource file the way the Batch service checks it when a task
// is added: exactly one source, filePath rules, blobPrefix only with a container,
// and an octal fileMode. The REST layer may call it to answer with HTTP 400.
func (rf ResourceFile) Validate() error {
	n := 0
	for _, s := range []string{rf.HTTPURL, rf.StorageContainerURL, rf.AutoStorageContainerName} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("exactly one of httpUrl, storageContainerUrl and autoStorageContainerName must be set, got %d", n)
	}
	if rf.HTTPURL != "" {
		if rf.FilePath == "" {
			return errors.New("filePath is required with httpUrl")
		}
		if rf.BlobPrefix != "" {
			return errors.New("blobPrefix is valid only with storageContainerUrl or autoStorageContainerName")
		}
		if strings.HasSuffix(rf.FilePath, "/") {
			return fmt.Errorf("filePath %q must name a file with httpUrl", rf.FilePath)
		}
	}
	if _, err := localPath("/wd", rf.FilePath); err != nil {
		return err
	}
	if _, err := parseFileMode(rf.FileMode); err != nil {
		return err
	}
	return nil
}

// parseFileMode parses an octal mode such as "0644"; "" means 0770.
func parseFileMode(s string) (fs.FileMode, error) {
	if s == "" {
		return defaultFileMode, nil
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return 0, fmt.Errorf("fileMode %q is not an octal permission between 0000 and 0777", s)
	}
	return fs.FileMode(v), nil
}

// localPath joins rel to wd and rejects absolute paths and paths that leave wd.
func localPath(wd, rel string) (string, error) {
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("filePath %q must be relative to the task working directory", rel)
	}
	p := filepath.Join(wd, rel)
	if p != wd && !strings.HasPrefix(p, wd+string(filepath.Separator)) {
		return "", fmt.Errorf("filePath %q must not leave the task working directory", rel)
	}
	return p, nil
}

// downloadResourceFile fetches one resource file into wd. It returns nil on success.
func (r *Runner) downloadResourceFile(ctx context.Context, wd string, rf ResourceFile) *FailureInfo {
	if err := rf.Validate(); err != nil {
		return userError(CodeInvalidResourceFile, fmt.Sprintf("The resource file is invalid: %v", err),
			nv("FilePath", rf.FilePath))
	}
	mode, _ := parseFileMode(rf.FileMode)
	switch {
	case rf.HTTPURL != "":
		dst, _ := localPath(wd, rf.FilePath)
		return r.downloadHTTP(ctx, rf.HTTPURL, dst, rf.FilePath, mode)
	case rf.StorageContainerURL != "":
		c, err := r.newSASContainerClient(rf.StorageContainerURL)
		if err != nil {
			return userError(CodeInvalidResourceFile, fmt.Sprintf("The resource file is invalid: %v", err))
		}
		return r.downloadContainer(ctx, c, redactURL(rf.StorageContainerURL), wd, rf, mode)
	default:
		c, u, err := r.newAutoStorageContainerClient(rf.AutoStorageContainerName)
		if err != nil {
			return userError(CodeInvalidResourceFile, fmt.Sprintf("The resource file is invalid: %v", err),
				nv("AutoStorageContainerName", rf.AutoStorageContainerName))
		}
		return r.downloadContainer(ctx, c, redactURL(u), wd, rf, mode)
	}
}

// downloadHTTP GETs rawURL (any http(s) URL, typically a blob with a SAS) to dst.
func (r *Runner) downloadHTTP(ctx context.Context, rawURL, dst, rel string, mode fs.FileMode) *FailureInfo {
	shown := redactURL(rawURL)
	details := []NameValue{nv("ResourceFileUrl", shown), nv("FilePath", rel)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return userError(CodeInvalidResourceFile, fmt.Sprintf("The resource file httpUrl %s is not a valid http(s) URL", shown), details...)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return serverError(CodeBlobDownloadMiscError,
			fmt.Sprintf("Downloading the resource file failed: %s", describeStorageError(err)), details...)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return userError(CodeBlobNotFound, "The specified blob does not exist", details...)
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return userError(CodeBlobAccessDenied, "Access to the resource file was denied", append(details, nv("StatusCode", strconv.Itoa(resp.StatusCode)))...)
	case resp.StatusCode != http.StatusOK:
		return serverError(CodeBlobDownloadMiscError,
			fmt.Sprintf("Downloading the resource file failed with HTTP status %d", resp.StatusCode), details...)
	}
	r.log.Debug("downloading resource file", "url", shown, "filePath", rel)
	return writeResourceFile(resp.Body, dst, mode, details)
}

// downloadContainer lists the blobs under rf.BlobPrefix and downloads each one to
// filePath/<blob name>, keeping the blob directory structure.
func (r *Runner) downloadContainer(ctx context.Context, c *container.Client, shownURL, wd string, rf ResourceFile, mode fs.FileMode) *FailureInfo {
	base, _ := localPath(wd, rf.FilePath)
	opts := &container.ListBlobsFlatOptions{}
	if rf.BlobPrefix != "" {
		opts.Prefix = &rf.BlobPrefix
	}
	pager := c.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return blobFailure(err, "Listing the resource file container failed", nv("ContainerUrl", shownURL))
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil || *item.Name == "" || strings.HasSuffix(*item.Name, "/") {
				continue // directory placeholders carry no data
			}
			name := *item.Name
			rel := filepath.Join(rf.FilePath, filepath.FromSlash(name))
			details := []NameValue{nv("ContainerUrl", shownURL), nv("BlobName", name), nv("FilePath", rel)}
			dst, err := localPath(base, filepath.FromSlash(name))
			if err != nil {
				return userError(CodeInvalidResourceFile,
					fmt.Sprintf("The blob name %q would be written outside the task working directory", name), details...)
			}
			resp, err := c.NewBlobClient(name).DownloadStream(ctx, nil)
			if err != nil {
				return blobFailure(err, "Downloading the resource file failed", details...)
			}
			r.log.Debug("downloading resource file", "container", shownURL, "blob", name, "filePath", rel)
			f := writeResourceFile(resp.Body, dst, mode, details)
			resp.Body.Close()
			if f != nil {
				return f
			}
		}
	}
	return nil
}

// blobFailure maps a storage SDK error to a Batch resource-file failure.
func blobFailure(err error, what string, details ...NameValue) *FailureInfo {
	switch {
	case isNotFound(err):
		return userError(CodeBlobNotFound, "The specified blob or container does not exist", details...)
	case isAccessDenied(err):
		return userError(CodeBlobAccessDenied, "Access to the resource file was denied", details...)
	default:
		return serverError(CodeBlobDownloadMiscError, fmt.Sprintf("%s: %s", what, describeStorageError(err)), details...)
	}
}

// writeResourceFile streams body into dst (creating parent directories) and sets mode.
func writeResourceFile(body io.Reader, dst string, mode fs.FileMode, details []NameValue) *FailureInfo {
	if err := os.MkdirAll(filepath.Dir(dst), 0o770); err != nil {
		return serverError(CodeResourceDirectoryCreateFailed, fmt.Sprintf("The resource file directory could not be created: %v", err), details...)
	}
	fh, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return serverError(CodeResourceFileCreateFailed, fmt.Sprintf("The resource file could not be created: %v", err), details...)
	}
	w := &trackedWriter{w: fh}
	_, copyErr := io.Copy(w, body)
	closeErr := fh.Close()
	switch {
	case copyErr != nil && w.err != nil:
		return writeFailure(w.err, details)
	case copyErr != nil:
		return serverError(CodeBlobDownloadMiscError, fmt.Sprintf("Reading the resource file failed: %s", describeStorageError(copyErr)), details...)
	case closeErr != nil:
		return writeFailure(closeErr, details)
	}
	// OpenFile's mode is subject to the umask; Batch sets the mode exactly.
	if err := os.Chmod(dst, mode); err != nil {
		return serverError(CodeResourceFileWriteFailed, fmt.Sprintf("The resource file mode could not be set: %v", err), details...)
	}
	return nil
}

func writeFailure(err error, details []NameValue) *FailureInfo {
	if errors.Is(err, syscall.ENOSPC) {
		return serverError(CodeDiskFull, "There is not enough disk space on the node to download the resource file", details...)
	}
	return serverError(CodeResourceFileWriteFailed, fmt.Sprintf("The resource file could not be written: %v", err), details...)
}

// trackedWriter remembers the first write error so that a failed io.Copy can be
// attributed to the disk rather than to the network.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil && t.err == nil {
		t.err = err
	}
	return n, err
}
