package batchemu

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// taskDir returns the directory of t's last attempt, or the 409/404 the
// service answers when the files are gone.
func (s *Server) taskDir(r *http.Request) (dir, jobID, taskID string, e *wireerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.lookupTask(r.PathValue("jobId"), r.PathValue("taskId"))
	if e != nil {
		return "", "", "", e
	}
	if t.FilesCleaned {
		return "", "", "", wireerr.TaskFilesCleaned()
	}
	if t.Dir == "" {
		return "", "", "", wireerr.TaskNotScheduled()
	}
	if _, err := os.Stat(t.Dir); err != nil {
		return "", "", "", wireerr.TaskNodeGone()
	}
	return t.Dir, j.Job.ID, t.Task.ID, nil
}

func fileMode(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m.IsDir() {
		v |= 0o40000
	} else {
		v |= 0o100000
	}
	return "0" + strconv.FormatUint(uint64(v), 8)
}

func fileEntry(base, name string, info fs.FileInfo) wire.NodeFile {
	return wire.NodeFile{
		Name: name, URL: base + "/" + name, IsDirectory: info.IsDir(),
		Properties: &wire.FileProperties{
			CreationTime: wire.AtPtr(info.ModTime()), LastModified: wire.At(info.ModTime()),
			ContentLength: sizeOf(info), ContentType: "application/octet-stream", FileMode: fileMode(info.Mode()),
		},
	}
}

func sizeOf(info fs.FileInfo) int64 {
	if info.IsDir() {
		return 0
	}
	return info.Size()
}

// fileRoot is a directory served by the files API and the URL prefix of
// its entries.
type fileRoot struct{ dir, urlBase string }

func (s *Server) taskFiles(r *http.Request, rc *reqCtx) (fileRoot, *wireerr.Error) {
	dir, jobID, taskID, e := s.taskDir(r)
	return fileRoot{dir, rc.base + "/jobs/" + jobID + "/tasks/" + taskID + "/files"}, e
}

// nodeFiles resolves the node files API root: the node's directory.
func (s *Server) nodeFiles(r *http.Request, rc *reqCtx) (fileRoot, *wireerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.lookupPool(r.PathValue("poolId"))
	if e != nil {
		return fileRoot{}, e
	}
	_, n := s.findNode(store.Key(p.Pool.ID), r.PathValue("nodeId"))
	if n == nil {
		return fileRoot{}, wireerr.NodeNotFound()
	}
	return fileRoot{n.Dir, rc.base + "/pools/" + p.Pool.ID + "/nodes/" + n.Node.ID + "/files"}, nil
}

// fileOp is a files API operation (list, get, delete) in a resolved root.
type fileOp func(w http.ResponseWriter, r *http.Request, rc *reqCtx, root fileRoot) *wireerr.Error

// inFiles is the handler that resolves the request's files root with
// resolve (taskFiles or nodeFiles) and then runs op in it.
func inFiles(resolve func(*http.Request, *reqCtx) (fileRoot, *wireerr.Error), op fileOp) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error {
		root, e := resolve(r, rc)
		if e != nil {
			return e
		}
		return op(w, r, rc, root)
	}
}

func listFiles(w http.ResponseWriter, r *http.Request, rc *reqCtx, root fileRoot) *wireerr.Error {
	recursive := strings.EqualFold(r.URL.Query().Get("recursive"), "true")
	var items []listItem
	err := filepath.WalkDir(root.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root.dir {
			return nil
		}
		rel, err := filepath.Rel(root.dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		items = append(items, listItem{sortKey: name, obj: fileEntry(root.urlBase, name, info)})
		if d.IsDir() && !recursive {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return wireerr.InternalOp("list files", err)
	}
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(wire.NodeFile{}), "files")
}

// findFile maps the {filePath...} of r to an existing file or directory
// under root, opened as an os.Root so that nothing a task created (a
// symlink, a symlinked directory) leads outside it: a path that would is
// not found. It returns the opened root (the caller closes it), the clean
// name relative to it and its info.
func findFile(r *http.Request, root fileRoot) (rt *os.Root, clean string, info fs.FileInfo, e *wireerr.Error) {
	name := r.PathValue("filePath")
	clean = path.Clean("/" + name)[1:]
	if clean == "" || clean != strings.TrimSuffix(name, "/") || strings.HasPrefix(clean, "..") {
		return nil, "", nil, wireerr.InvalidFilePath(name)
	}
	rt, err := os.OpenRoot(root.dir)
	if err != nil {
		return nil, "", nil, wireerr.FileNotFound(clean)
	}
	local := filepath.FromSlash(clean)
	if info, err = rt.Stat(local); err != nil {
		rt.Close()
		return nil, "", nil, wireerr.FileNotFound(clean)
	}
	return rt, local, info, nil
}

func serveFile(w http.ResponseWriter, r *http.Request, _ *reqCtx, root fileRoot) *wireerr.Error {
	rt, local, info, e := findFile(r, root)
	if e != nil {
		return e
	}
	defer rt.Close()
	clean := filepath.ToSlash(local)
	h := w.Header()
	h.Set("ocp-creation-time", info.ModTime().UTC().Format(http.TimeFormat))
	h.Set("ocp-batch-file-isdirectory", strconv.FormatBool(info.IsDir()))
	h.Set("ocp-batch-file-url", root.urlBase+"/"+clean)
	h.Set("ocp-batch-file-mode", fileMode(info.Mode()))
	if info.IsDir() {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	f, err := rt.Open(local)
	if err != nil {
		return wireerr.FileNotFound(clean)
	}
	defer f.Close()
	if rg := r.Header.Get("ocp-range"); rg != "" && r.Header.Get("Range") == "" {
		r.Header.Set("Range", rg)
	}
	h.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", info.ModTime(), f)
	return nil
}

// deleteFile removes a file, or a directory when recursive=true, inside
// the root only (a symlink is removed itself, never its target).
func deleteFile(w http.ResponseWriter, r *http.Request, _ *reqCtx, root fileRoot) *wireerr.Error {
	rt, local, info, e := findFile(r, root)
	if e != nil {
		return e
	}
	defer rt.Close()
	var err error
	if info.IsDir() {
		if !strings.EqualFold(r.URL.Query().Get("recursive"), "true") {
			return wireerr.DeleteDirectory(filepath.ToSlash(local))
		}
		err = rt.RemoveAll(local)
	} else {
		err = rt.Remove(local)
	}
	if err != nil {
		return wireerr.InternalOp("delete file", err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
