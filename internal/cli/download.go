package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// localDir is a folder that blobs are downloaded into, each under its
// blob name (the folder structure kept). Nothing is written outside it:
// names are checked (localName) and files are written through an
// os.Root, which also refuses paths that leave the folder through
// symbolic links.
type localDir struct {
	path string
	root *os.Root
}

// openLocalDir creates the folder path if needed and opens it.
func openLocalDir(path string) (*localDir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &localDir{path: path, root: root}, nil
}

func (d *localDir) close() { d.root.Close() }

// errUnsafeName is wrapped by localName's errors.
var errUnsafeName = errors.New("refused: the name would be written outside the folder")

// localName is the relative file path (OS separators) under which blob
// name is written: its "/"-separated segments. Names that are absolute or
// have empty, "." or ".." segments cannot occur among outputs and are
// refused rather than cleaned, as is anything that would not stay inside
// the folder once joined.
func localName(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("blob name %q: %w", name, errUnsafeName)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("blob name %q: %w", name, errUnsafeName)
		}
	}
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) || filepath.Clean(rel) != rel {
		return "", fmt.Errorf("blob name %q: %w", name, errUnsafeName)
	}
	return rel, nil
}

// download writes the blob container/name to its local name under d and
// returns the path written and its size.
func (d *localDir) download(ctx context.Context, blobs *azblob.Client, container, name string) (string, int64, error) {
	rel, err := localName(name)
	if err != nil {
		return "", 0, err
	}
	path, n, err := d.write(rel, func(f *os.File) (int64, error) { return blobs.DownloadFile(ctx, container, name, f, nil) })
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return "", 0, fmt.Errorf("download %s/%s: the blob does not exist", container, name)
	}
	if err != nil {
		return "", 0, fmt.Errorf("download %s/%s: %w", container, name, err)
	}
	return path, n, nil
}

// write creates the file rel (a localName) under d with what fill writes
// into it, and returns its path and fill's count. The file appears
// complete or not at all: fill writes a temporary file next to it, which
// is renamed into place.
func (d *localDir) write(rel string, fill func(*os.File) (int64, error)) (string, int64, error) {
	if err := d.root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return "", 0, err
	}
	tmp := rel + ".part-" + rand.Text()
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", 0, err
	}
	n, err := fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, rel)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return "", 0, err
	}
	return filepath.Join(d.path, rel), n, nil
}
