package batchemu

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFilesStayInTheTaskDirectory: a task that plants symlinks to a file
// and a directory outside its directory cannot make the files API read or
// delete anything there; a symlink inside the directory still works.
func TestFilesStayInTheTaskDirectory(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("not yours"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := startServer(t, nil)
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	script := "ln -s " + secret + " ../file-link; ln -s " + outside + " ../dir-link; echo ok > ../inside.txt; ln -s inside.txt ../inside-link"
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{"id": "t1", "commandLine": `/bin/sh -c "` + script + `"`})
	if task := env.waitTaskState("j", "t1", "completed", 60*time.Second); lookupPath(task, "executionInfo/exitCode") != 0.0 {
		t.Fatalf("task failed: %v", task)
	}
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/jobs/j/tasks/t1/files/file-link", http.StatusNotFound},
		{"GET", "/jobs/j/tasks/t1/files/dir-link/secret.txt", http.StatusNotFound},
		{"DELETE", "/jobs/j/tasks/t1/files/dir-link/secret.txt", http.StatusNotFound},
		{"DELETE", "/jobs/j/tasks/t1/files/dir-link?recursive=true", http.StatusNotFound},
		{"GET", "/jobs/j/tasks/t1/files/inside-link", http.StatusOK},
	}
	for _, tc := range tests {
		if r := env.call(tc.method, tc.path, nil); r.status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.want)
		}
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "not yours" {
		t.Errorf("the file outside the task directory was touched: %q, %v", b, err)
	}
}

// TestIdleConnectionsAreClosed: a client that keeps a connection open
// without sending anything loses it after the idle timeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	env := startServer(t, &Options{idleTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the idle connection was closed after %s", d)
	}
}
