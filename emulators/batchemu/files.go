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
)

// taskDir returns the directory of t's last attempt, or the 409/404 the
// service answers when the files are gone.
func (s *Server) taskDir(r *http.Request) (dir, jobID, taskID string, e *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, t, e := s.lookupTask(r.PathValue("jobId"), r.PathValue("taskId"))
	if e != nil {
		return "", "", "", e
	}
	if t.FilesCleaned {
		return "", "", "", newError(http.StatusConflict, codeTaskFilesCleanedup, "The task files have been cleaned up from the compute node.")
	}
	if t.Dir == "" {
		return "", "", "", newError(http.StatusConflict, codeTaskFilesUnavailable, "The task has not been scheduled on a compute node yet, so its files are not available.")
	}
	if _, err := os.Stat(t.Dir); err != nil {
		return "", "", "", newError(http.StatusConflict, codeTaskFilesUnavailable, "The compute node that ran the task is no longer available.")
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

func fileEntry(base, name string, info fs.FileInfo) nodeFile {
	return nodeFile{
		Name: name, URL: base + "/" + name, IsDirectory: info.IsDir(),
		Properties: &fileProperties{
			CreationTime: wtp(info.ModTime()), LastModified: wt(info.ModTime()),
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

func (s *Server) listTaskFiles(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	dir, jobID, taskID, e := s.taskDir(r)
	if e != nil {
		return e
	}
	recursive := strings.EqualFold(r.URL.Query().Get("recursive"), "true")
	urlBase := rc.base + "/jobs/" + jobID + "/tasks/" + taskID + "/files"
	var items []listItem
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		items = append(items, listItem{sortKey: name, obj: fileEntry(urlBase, name, info)})
		if d.IsDir() && !recursive {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return newError(http.StatusInternalServerError, codeInternalError, "list task files: "+err.Error())
	}
	sortItems(items)
	return writeList(w, r, rc, items, schemaOf(nodeFile{}), "files")
}

func (s *Server) getTaskFile(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	dir, jobID, taskID, e := s.taskDir(r)
	if e != nil {
		return e
	}
	name := r.PathValue("filePath")
	clean := path.Clean("/" + name)[1:]
	if clean == "" || clean != strings.TrimSuffix(name, "/") || strings.HasPrefix(clean, "..") {
		return newError(http.StatusBadRequest, codeInvalidQueryParameterValue, "The file path is not valid.", "FilePath", name)
	}
	full := filepath.Join(dir, filepath.FromSlash(clean))
	info, err := os.Stat(full)
	if err != nil {
		return newError(http.StatusNotFound, codeFileNotFound, "The specified file does not exist.", "FilePath", name)
	}
	h := w.Header()
	h.Set("ocp-creation-time", info.ModTime().UTC().Format(http.TimeFormat))
	h.Set("ocp-batch-file-isdirectory", strconv.FormatBool(info.IsDir()))
	h.Set("ocp-batch-file-url", rc.base+"/jobs/"+jobID+"/tasks/"+taskID+"/files/"+clean)
	h.Set("ocp-batch-file-mode", fileMode(info.Mode()))
	if info.IsDir() {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	f, err := os.Open(full)
	if err != nil {
		return newError(http.StatusNotFound, codeFileNotFound, "The specified file does not exist.", "FilePath", name)
	}
	defer f.Close()
	if rg := r.Header.Get("ocp-range"); rg != "" && r.Header.Get("Range") == "" {
		r.Header.Set("Range", rg)
	}
	h.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", info.ModTime(), f)
	return nil
}
