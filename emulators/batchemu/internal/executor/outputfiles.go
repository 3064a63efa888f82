package executor

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// Upload conditions (wire values; compared case-insensitively).
const (
	UploadConditionTaskSuccess    = "tasksuccess"
	UploadConditionTaskFailure    = "taskfailure"
	UploadConditionTaskCompletion = "taskcompletion"
)

// Upload tuning: blocks keep memory bounded and let a retry resend one block.
const (
	uploadBlockSize   = 8 << 20
	uploadConcurrency = 2
)

// Validate checks an output file the way the Batch service checks it when a task
// is added. The REST layer may call it to answer with HTTP 400.
func (of OutputFile) Validate() error {
	if _, err := compilePattern(of.FilePattern); err != nil {
		return err
	}
	if of.ContainerURL == "" {
		return errors.New("destination.container.containerUrl is required")
	}
	u, err := url.Parse(of.ContainerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("containerUrl %s is not an absolute http(s) URL", redactURL(of.ContainerURL))
	}
	switch strings.ToLower(of.UploadCondition) {
	case UploadConditionTaskSuccess, UploadConditionTaskFailure, UploadConditionTaskCompletion:
	default:
		return fmt.Errorf("uploadCondition %q is not one of tasksuccess, taskfailure, taskcompletion", of.UploadCondition)
	}
	for _, h := range of.UploadHeaders {
		if h.Name == "" {
			return errors.New("uploadHeaders entries need a name")
		}
	}
	return nil
}

// conditionMet reports whether an output file applies to an attempt that
// succeeded (exit code 0, no failure) or not.
func conditionMet(condition string, succeeded bool) bool {
	switch strings.ToLower(condition) {
	case UploadConditionTaskCompletion:
		return true
	case UploadConditionTaskSuccess:
		return succeeded
	case UploadConditionTaskFailure:
		return !succeeded
	}
	return false
}

// uploadLog writes fileuploadout.txt and fileuploaderr.txt. Lines never contain
// SAS query strings: every URL passes through redactURL first.
type uploadLog struct {
	out, err io.Writer
	now      func() time.Time
}

func (l *uploadLog) info(format string, args ...any) {
	fmt.Fprintf(l.out, "%s %s\n", l.now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

func (l *uploadLog) fail(format string, args ...any) {
	line := fmt.Sprintf("%s %s\n", l.now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
	io.WriteString(l.out, line)
	io.WriteString(l.err, line)
}

// uploadOutputFiles uploads every output file whose condition matches. It keeps
// going after a failure and returns the first failure (nil if all went well).
func (r *Runner) uploadOutputFiles(ctx context.Context, spec Spec, wd string, succeeded bool) *FailureInfo {
	if len(spec.OutputFiles) == 0 {
		return nil
	}
	outF, err := os.Create(filepath.Join(spec.TaskDir, "fileuploadout.txt"))
	if err != nil {
		return userError(CodeFileUploadMiscError, fmt.Sprintf("fileuploadout.txt could not be created: %v", err))
	}
	defer outF.Close()
	errF, err := os.Create(filepath.Join(spec.TaskDir, "fileuploaderr.txt"))
	if err != nil {
		return userError(CodeFileUploadMiscError, fmt.Sprintf("fileuploaderr.txt could not be created: %v", err))
	}
	defer errF.Close()
	ul := &uploadLog{out: outF, err: errF, now: r.now}

	var first *FailureInfo
	note := func(f *FailureInfo) {
		if first == nil {
			first = f
		}
	}
	uploaded := 0
	for _, of := range spec.OutputFiles {
		if err := of.Validate(); err != nil {
			ul.fail("Invalid output file %q: %v", of.FilePattern, err)
			note(userError(CodeInvalidOutputFile, fmt.Sprintf("The output file is invalid: %v", err),
				nv("FilePattern", of.FilePattern)))
			continue
		}
		if !conditionMet(of.UploadCondition, succeeded) {
			ul.info("Skipping pattern %q: uploadCondition %s not met", of.FilePattern, of.UploadCondition)
			continue
		}
		n, f := r.uploadOne(ctx, wd, of, ul)
		uploaded += n
		if f != nil {
			r.log.Warn("output file upload failed", "pattern", of.FilePattern, "failure", f.String())
			note(f)
		}
	}
	ul.info("Finished uploading output files: %d file(s) uploaded", uploaded)
	return first
}

// uploadOne uploads the files of one validated OutputFile and returns how many succeeded.
func (r *Runner) uploadOne(ctx context.Context, wd string, of OutputFile, ul *uploadLog) (int, *FailureInfo) {
	shownContainer := redactURL(of.ContainerURL)
	fp, _ := compilePattern(of.FilePattern) // validated by the caller
	matches, err := fp.find(wd)
	if err != nil {
		ul.fail("Pattern %q could not be evaluated: %v", of.FilePattern, err)
		return 0, userError(CodeFileUploadMiscError, fmt.Sprintf("The file pattern could not be evaluated: %v", err),
			nv("FilePattern", of.FilePattern))
	}
	if len(matches) == 0 {
		ul.info("Pattern %q matched no files", of.FilePattern)
		return 0, nil
	}
	c, err := r.newSASContainerClient(of.ContainerURL)
	if err != nil {
		ul.fail("Container %s: %v", shownContainer, err)
		return 0, userError(CodeInvalidOutputFile, err.Error(), nv("ContainerUrl", shownContainer))
	}
	hdrs, meta, extra := splitUploadHeaders(of.UploadHeaders)
	uctx := ctx
	if len(extra) > 0 {
		uctx = policy.WithHTTPHeader(ctx, extra)
	}
	n := 0
	for _, m := range matches {
		name := blobNameFor(fp, of.Path, m)
		ul.info("Uploading %s to %s/%s", m.abs, shownContainer, name)
		details := []NameValue{nv("ContainerUrl", shownContainer), nv("BlobName", name), nv("FilePath", m.abs)}
		fh, err := os.Open(m.abs)
		if err != nil {
			ul.fail("Opening %s failed: %v", m.abs, err)
			return n, userError(CodeFileUploadMiscError, fmt.Sprintf("The output file could not be opened: %v", err), details...)
		}
		_, err = c.NewBlockBlobClient(name).UploadFile(uctx, fh, &blockblob.UploadFileOptions{
			BlockSize:   uploadBlockSize,
			Concurrency: uploadConcurrency,
			HTTPHeaders: hdrs,
			Metadata:    meta,
		})
		fh.Close()
		if err != nil {
			ul.fail("Uploading %s to %s/%s failed: %s", m.abs, shownContainer, name, describeStorageError(err))
			return n, uploadFailure(err, details)
		}
		n++
		ul.info("Uploaded %s to %s/%s", m.abs, shownContainer, name)
	}
	return n, nil
}

// blobNameFor applies Batch's path semantics: for a pattern without wildcards,
// path is the whole blob name (default: the file name); with wildcards, path is a
// virtual directory and the file's path below the pattern's fixed base is kept.
func blobNameFor(fp *filePattern, p string, m fileMatch) string {
	if fp.literal {
		if p != "" {
			return strings.TrimPrefix(p, "/")
		}
		return filepath.Base(m.abs)
	}
	prefix := strings.Trim(p, "/")
	if prefix == "" {
		return m.rel
	}
	return prefix + "/" + m.rel
}

// splitUploadHeaders maps upload headers onto blob properties; x-ms-meta-* become
// metadata and anything else is sent as-is on the upload requests.
func splitUploadHeaders(hs []Header) (*blob.HTTPHeaders, map[string]*string, http.Header) {
	var (
		props blob.HTTPHeaders
		set   bool
		meta  map[string]*string
		extra http.Header
	)
	for _, h := range hs {
		v := h.Value
		switch name := strings.ToLower(h.Name); name {
		case "content-type", "x-ms-blob-content-type":
			props.BlobContentType, set = &v, true
		case "content-encoding", "x-ms-blob-content-encoding":
			props.BlobContentEncoding, set = &v, true
		case "content-language", "x-ms-blob-content-language":
			props.BlobContentLanguage, set = &v, true
		case "content-disposition", "x-ms-blob-content-disposition":
			props.BlobContentDisposition, set = &v, true
		case "cache-control", "x-ms-blob-cache-control":
			props.BlobCacheControl, set = &v, true
		case "content-md5", "x-ms-blob-content-md5":
			if b, err := base64.StdEncoding.DecodeString(v); err == nil {
				props.BlobContentMD5, set = b, true
			}
		default:
			if k, ok := strings.CutPrefix(name, "x-ms-meta-"); ok && k != "" {
				if meta == nil {
					meta = map[string]*string{}
				}
				meta[k] = &v
				continue
			}
			if extra == nil {
				extra = http.Header{}
			}
			extra.Add(h.Name, v)
		}
	}
	if !set {
		return nil, meta, extra
	}
	return &props, meta, extra
}

// uploadFailure maps a storage SDK error to a Batch upload failure.
func uploadFailure(err error, details []NameValue) *FailureInfo {
	switch {
	case isContainerNotFound(err):
		return userError(CodeFileUploadContainerNotFound, msgUploadContainerMissing, details...)
	case isAccessDenied(err):
		return userError(CodeFileUploadMiscError,
			fmt.Sprintf("Access to the output file container was denied: %s", describeStorageError(err)), details...)
	default:
		return userError(CodeFileUploadMiscError,
			fmt.Sprintf("An error occurred while uploading an output file: %s", describeStorageError(err)), details...)
	}
}
