package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/results"
)

func cmdGet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "get", "[flags] BLOBS... | --all")
	all := fs.Bool("all", false, "every file whose current request succeeded")
	out := fs.String("o", "out", "local folder to write to; blob paths are kept below it")
	logs := fs.Bool("logs", false, "also download the task logs (stdout.txt, stderr.txt) of every request of the files, under DIR/<logs prefix>/<task id>/")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	names := fs.Args()
	if *all == (len(names) > 0) {
		return fmt.Errorf("%w: name the files (input blob names, as `ffbatch status` lists them) or give --all", errUsage)
	}
	if *out == "" {
		return fmt.Errorf("%w: -o must name a folder", errUsage)
	}
	c, files, err := connectFiles(ctx, e)
	if err != nil {
		return err
	}
	defer c.close()
	if !*all {
		files = selectNames(files, names, c.ep.InputContainer)
	}
	dir, err := openLocalDir(*out)
	if err != nil {
		return err
	}
	defer dir.close()
	g := getter{c: c, e: e, dir: dir, logs: *logs, all: *all}
	var errs []error
	for _, f := range files {
		errs = append(errs, g.get(ctx, f))
	}
	fmt.Fprintf(e.stdout, "%d MP3(s) in %s\n", g.mp3s, *out)
	return errors.Join(errs...)
}

// getter downloads the outputs (and logs) of files into dir.
type getter struct {
	c    *clients
	e    *env
	dir  *localDir
	logs bool
	// all is get --all: files without an MP3 are skipped, not errors.
	all  bool
	mp3s int
	// seen holds the log prefixes already downloaded (requests sharing a
	// task share its logs).
	seen map[string]bool
}

// get downloads the MP3 of f's current request and, with logs, the task
// logs of each of f's requests.
func (g *getter) get(ctx context.Context, f fileView) error {
	var errs []error
	switch {
	case f.State == stateUnknown:
		return fmt.Errorf("%s: unknown: %s", f.Blob, f.Reason)
	case f.State == results.StateSucceeded && f.OutputBlob != "":
		path, n, err := g.dir.download(ctx, g.c.blobs, g.c.ep.OutputContainer, f.OutputBlob)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Blob, err))
			break
		}
		g.mp3s++
		fmt.Fprintf(g.e.stdout, "%s -> %s (%s)\n", f.Blob, path, humanBytes(n))
	case !g.all:
		errs = append(errs, fmt.Errorf("%s has no MP3: %s", f.Blob, noMP3Reason(f)))
	}
	if g.logs {
		errs = append(errs, g.getLogs(ctx, f))
	}
	return errors.Join(errs...)
}

// noMP3Reason says why a file has no MP3 to download.
func noMP3Reason(f fileView) string {
	if f.terminal() {
		if f.Reason == "" {
			return string(f.State)
		}
		return string(f.State) + ": " + flat(f.Reason)
	}
	return string(f.State) + ", not finished yet (`ffbatch watch " + f.Blob + "` follows it)"
}

// getLogs downloads the logs of every request in f's record.
func (g *getter) getLogs(ctx context.Context, f fileView) error {
	if f.Record == nil {
		return nil
	}
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	var errs []error
	for _, req := range f.Record.Requests {
		if req.Logs == "" {
			continue
		}
		prefix, err := logsPrefix(req.Logs, g.c.ep.BlobEndpoint, g.c.ep.OutputContainer)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: request %s: %w", f.Blob, req.ID, err))
			continue
		}
		if g.seen[prefix] {
			continue
		}
		g.seen[prefix] = true
		n, err := g.downloadPrefix(ctx, prefix+"/")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: logs of request %s: %w", f.Blob, req.ID, err))
			continue
		}
		fmt.Fprintf(g.e.stdout, "%s: logs of request %s -> %s (%d file(s))\n", f.Blob, req.ID, filepath.Join(g.dir.path, filepath.FromSlash(prefix)), n)
	}
	return errors.Join(errs...)
}

// downloadPrefix downloads every blob under prefix in the output
// container and returns how many.
func (g *getter) downloadPrefix(ctx context.Context, prefix string) (int, error) {
	n := 0
	pager := g.c.blobs.NewListBlobsFlatPager(g.c.ep.OutputContainer, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(prefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("list %s/%s: %w", g.c.ep.OutputContainer, prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil {
				continue
			}
			if _, _, err := g.dir.download(ctx, g.c.blobs, g.c.ep.OutputContainer, *b.Name); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// logsPrefix is the blob prefix, in container, of a task's logs URL as
// status records hold it: <blob endpoint>/<container>/<prefix>, no SAS.
func logsPrefix(logsURL, blobEndpoint, container string) (string, error) {
	u, err := url.Parse(logsURL)
	if err != nil {
		return "", fmt.Errorf("logs URL: %w", err)
	}
	ep, err := url.Parse(blobEndpoint)
	if err != nil {
		return "", fmt.Errorf("blob endpoint: %w", err)
	}
	want := strings.TrimSuffix(ep.Path, "/") + "/" + container + "/"
	prefix, ok := strings.CutPrefix(u.Path, want)
	if !ok || prefix == "" || u.Host != ep.Host {
		return "", fmt.Errorf("logs URL %s is not in the %s container of %s", logsURL, container, blobEndpoint)
	}
	return strings.TrimSuffix(prefix, "/"), nil
}
