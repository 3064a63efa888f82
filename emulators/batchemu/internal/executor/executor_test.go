package executor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/syncbuf"
)

func newTestRunner(t *testing.T, storage *StorageConfig) (*Runner, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	r := NewRunner(&Options{
		Storage: storage,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return r, logs
}

func baseEnv(taskDir string) []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"AZ_BATCH_TASK_DIR=" + taskDir,
		"AZ_BATCH_TASK_WORKING_DIR=" + filepath.Join(taskDir, "wd"),
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func exitCode(r Result) string {
	if r.ExitCode == nil {
		return "nil"
	}
	return strconv.Itoa(*r.ExitCode)
}

func failureCode(r Result) string {
	if r.Failure == nil {
		return ""
	}
	return r.Failure.Code
}

func TestRunProcess(t *testing.T) {
	tests := []struct {
		name        string
		cmd         string
		env         func(taskDir string) []string
		wantExit    string
		wantCode    string
		wantCat     string
		wantStdout  string
		wantStderr  string
		wantWDFiles []string
	}{
		{
			name: "success writes stdout and runs in wd", cmd: `/bin/sh -c "echo hello; pwd; echo oops >&2; touch made.txt"`,
			wantExit: "0", wantStdout: "hello\n{wd}\n", wantStderr: "oops\n", wantWDFiles: []string{"made.txt"},
		},
		{
			name: "non-zero exit is FailureExitCode", cmd: `/bin/sh -c "exit 3"`,
			wantExit: "3", wantCode: CodeFailureExitCode, wantCat: CategoryUserError,
		},
		{
			name: "program resolved via PATH from Spec.Env", cmd: `sh -c 'echo "$AZ_BATCH_TASK_WORKING_DIR"'`,
			wantExit: "0", wantStdout: "{wd}\n",
		},
		{
			name: "no shell: metacharacters reach argv literally", cmd: `echo a; $(id) *.mp4 > x`,
			wantExit: "0", wantStdout: "a; $(id) *.mp4 > x\n",
		},
		{
			name: "emulator environment is not inherited", cmd: `/bin/sh -c 'echo "[$EXECUTOR_TEST_SECRET]"'`,
			wantExit: "0", wantStdout: "[]\n",
		},
		{
			name: "missing program", cmd: "definitely-not-a-program-xyz --help",
			wantExit: "nil", wantCode: CodeCommandProgramNotFound, wantCat: CategoryUserError,
		},
		{
			name: "missing absolute program", cmd: "/nonexistent/bin/tool",
			wantExit: "nil", wantCode: CodeCommandProgramNotFound, wantCat: CategoryUserError,
		},
		{
			name: "PATH without the program", cmd: "ls",
			env:      func(string) []string { return []string{"PATH=/nonexistent"} },
			wantExit: "nil", wantCode: CodeCommandProgramNotFound, wantCat: CategoryUserError,
		},
		{
			name: "non-executable file fails to launch", cmd: "/etc/passwd",
			wantExit: "nil", wantCode: CodeCommandLaunchFailed, wantCat: CategoryUserError,
		},
		{
			name: "unterminated quote", cmd: `/bin/sh -c "echo hi`,
			wantExit: "nil", wantCode: CodeInvalidCommandLine, wantCat: CategoryUserError,
		},
		{
			name: "empty command line", cmd: "  ",
			wantExit: "nil", wantCode: CodeInvalidCommandLine, wantCat: CategoryUserError,
		},
	}
	t.Setenv("EXECUTOR_TEST_SECRET", "leaked")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestRunner(t, nil)
			taskDir := filepath.Join(t.TempDir(), "task")
			env := baseEnv(taskDir)
			if tc.env != nil {
				env = tc.env(taskDir)
			}
			res := r.Run(context.Background(), Spec{CommandLine: tc.cmd, Env: env, TaskDir: taskDir})
			if got := exitCode(res); got != tc.wantExit {
				t.Errorf("exit code = %s, want %s (failure %v)", got, tc.wantExit, res.Failure)
			}
			if got := failureCode(res); got != tc.wantCode {
				t.Errorf("failure code = %q, want %q (%v)", got, tc.wantCode, res.Failure)
			}
			if tc.wantCat != "" && res.Failure.Category != tc.wantCat {
				t.Errorf("failure category = %q, want %q", res.Failure.Category, tc.wantCat)
			}
			if res.StartTime.IsZero() || res.EndTime.Before(res.StartTime) {
				t.Errorf("times: start %v end %v", res.StartTime, res.EndTime)
			}
			wd := filepath.Join(taskDir, "wd")
			if st, err := os.Stat(wd); err != nil || !st.IsDir() {
				t.Fatalf("wd not created: %v", err)
			}
			repl := strings.NewReplacer("{wd}", wd)
			if got, want := readFile(t, filepath.Join(taskDir, "stdout.txt")), repl.Replace(tc.wantStdout); got != want {
				t.Errorf("stdout.txt = %q, want %q", got, want)
			}
			if got, want := readFile(t, filepath.Join(taskDir, "stderr.txt")), tc.wantStderr; got != want {
				t.Errorf("stderr.txt = %q, want %q", got, want)
			}
			for _, f := range tc.wantWDFiles {
				if _, err := os.Stat(filepath.Join(wd, f)); err != nil {
					t.Errorf("expected %s in wd: %v", f, err)
				}
			}
		})
	}
}

func TestRunFailureExitCodeMessage(t *testing.T) {
	r, _ := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{CommandLine: "/bin/false", Env: baseEnv(taskDir), TaskDir: taskDir})
	want := FailureInfo{Category: CategoryUserError, Code: CodeFailureExitCode, Message: msgFailureExitCode}
	if res.Failure == nil || res.Failure.Category != want.Category || res.Failure.Code != want.Code || res.Failure.Message != want.Message {
		t.Fatalf("failure = %+v, want %+v", res.Failure, want)
	}
	if exitCode(res) != "1" {
		t.Errorf("exit code = %s, want 1", exitCode(res))
	}
}

// processAlive reports whether pid still runs. A killed child is reparented and
// may linger as a zombie until its new parent reaps it; a zombie counts as dead.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// waitGone polls until pid disappears; the child is reparented to init (or a
// subreaper) after the kill, so it may take a moment to be reaped.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !processAlive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("child process %d still alive after the task was killed", pid)
}

func childPID(t *testing.T, wd string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(wd, "child.pid"))
	if err != nil {
		t.Fatalf("child.pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("child.pid = %q", b)
	}
	return pid
}

// sleeperCmd starts a background child, records its pid and waits for it.
const sleeperCmd = `/bin/sh -c "sleep 30 & echo $! > child.pid; wait"`

func TestRunMaxWallClockTimeKillsProcessGroup(t *testing.T) {
	r, _ := newTestRunner(t, nil)
	taskDir := t.TempDir()
	start := time.Now()
	res := r.Run(context.Background(), Spec{
		CommandLine: sleeperCmd, Env: baseEnv(taskDir), TaskDir: taskDir,
		MaxWallClockTime: 300 * time.Millisecond,
	})
	t.Logf("Run returned after %v", time.Since(start))
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("Run took %v with a 300ms limit", elapsed)
	}
	if got := failureCode(res); got != CodeTaskEnded {
		t.Fatalf("failure code = %q, want %q (%v)", got, CodeTaskEnded, res.Failure)
	}
	if res.Failure.Category != CategoryServerError {
		t.Errorf("category = %q, want %q", res.Failure.Category, CategoryServerError)
	}
	if got := exitCode(res); got != "137" {
		t.Errorf("exit code = %s, want 137 (128+SIGKILL)", got)
	}
	waitGone(t, childPID(t, filepath.Join(taskDir, "wd")))
}

func TestRunContextCancelKillsProcessGroup(t *testing.T) {
	r, _ := newTestRunner(t, nil)
	taskDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		done <- r.Run(ctx, Spec{CommandLine: sleeperCmd, Env: baseEnv(taskDir), TaskDir: taskDir})
	}()
	pidFile := filepath.Join(taskDir, "wd", "child.pid")
	for i := 0; i < 250; i++ { // up to 5s for the shell to start its child
		if b, err := os.ReadFile(pidFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	var res Result
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := failureCode(res); got != CodeTaskEnded {
		t.Fatalf("failure code = %q, want %q (%v)", got, CodeTaskEnded, res.Failure)
	}
	if res.Failure.Category != CategoryUserError {
		t.Errorf("category = %q, want %q", res.Failure.Category, CategoryUserError)
	}
	if res.ExitCode == nil {
		t.Errorf("exit code nil, want the killed process's code")
	}
	waitGone(t, childPID(t, filepath.Join(taskDir, "wd")))
}

func TestRunCancelledBeforeStart(t *testing.T) {
	r, _ := newTestRunner(t, nil)
	taskDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := r.Run(ctx, Spec{CommandLine: "/bin/true", Env: baseEnv(taskDir), TaskDir: taskDir})
	if failureCode(res) != CodeTaskEnded || res.ExitCode != nil {
		t.Fatalf("got exit %s failure %v, want nil exit and TaskEnded", exitCode(res), res.Failure)
	}
}

func TestRunClock(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	calls := 0
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return t0.Add(time.Duration(calls) * time.Second)
	}
	r := NewRunner(&Options{Now: now})
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{CommandLine: "/bin/true", Env: baseEnv(taskDir), TaskDir: taskDir})
	if !res.StartTime.Equal(t0.Add(time.Second)) || !res.EndTime.Equal(t0.Add(2*time.Second)) {
		t.Errorf("start %v end %v, want the injected clock's first two readings", res.StartTime, res.EndTime)
	}
}

func TestResourceFileValidate(t *testing.T) {
	tests := []struct {
		name string
		rf   ResourceFile
		ok   bool
	}{
		{"http with file path", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "in/b.mp4"}, true},
		{"container without file path", ResourceFile{StorageContainerURL: "http://h/c?sig=x"}, true},
		{"auto storage with prefix and dir", ResourceFile{AutoStorageContainerName: "c", BlobPrefix: "p/", FilePath: "inputs"}, true},
		{"file mode octal", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "b", FileMode: "0644"}, true},
		{"no source", ResourceFile{FilePath: "x"}, false},
		{"two sources", ResourceFile{HTTPURL: "http://h/c/b", AutoStorageContainerName: "c", FilePath: "x"}, false},
		{"http without file path", ResourceFile{HTTPURL: "http://h/c/b"}, false},
		{"http with blob prefix", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "b", BlobPrefix: "p"}, false},
		{"dot-dot escape", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "../b"}, false},
		{"deep dot-dot escape", ResourceFile{AutoStorageContainerName: "c", FilePath: "a/../../b"}, false},
		{"absolute path", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "/etc/passwd"}, false},
		{"bad file mode", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "b", FileMode: "0999"}, false},
		{"file mode too large", ResourceFile{HTTPURL: "http://h/c/b", FilePath: "b", FileMode: "7777"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rf.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestRunRejectsEscapingFilePath(t *testing.T) {
	r, _ := newTestRunner(t, nil)
	root := t.TempDir()
	taskDir := filepath.Join(root, "task")
	res := r.Run(context.Background(), Spec{
		CommandLine:   "/bin/true",
		Env:           baseEnv(taskDir),
		TaskDir:       taskDir,
		ResourceFiles: []ResourceFile{{HTTPURL: "http://127.0.0.1:1/c/b", FilePath: "../../escaped.txt"}},
	})
	if res.ExitCode != nil || failureCode(res) != CodeInvalidResourceFile {
		t.Fatalf("got exit %s failure %v, want nil exit and %s", exitCode(res), res.Failure, CodeInvalidResourceFile)
	}
	if _, err := os.Stat(filepath.Join(root, "escaped.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("escaped.txt exists outside wd: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://acct.blob.core.windows.net/c/b.mp4?sv=2020&sig=SECRET", "https://acct.blob.core.windows.net/c/b.mp4"},
		{"http://user:pw@127.0.0.1:10000/devstoreaccount1/c?sig=SECRET#frag", "http://127.0.0.1:10000/devstoreaccount1/c"},
		{"http://h/c", "http://h/c"},
		{"http://h/%zz?sig=SECRET", "<unparseable URL>"},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := scrubURLs(`Get "http://h/c/b?sig=SECRET&se=1": dial tcp`); strings.Contains(got, "SECRET") {
		t.Errorf("scrubURLs left the signature: %q", got)
	}
}

// stallingServer answers with headers and a few bytes, then stalls until the
// client goes away, like a storage endpoint that stops sending mid-download.
func stallingServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunEndsDuringDownload(t *testing.T) {
	tests := []struct {
		name     string
		maxWall  time.Duration
		cancelAt time.Duration
		wantCat  string
	}{
		{"maxWallClockTime covers resource file downloads", 300 * time.Millisecond, 0, CategoryServerError},
		{"cancel during download", 0, 300 * time.Millisecond, CategoryUserError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := stallingServer(t)
			r, _ := newTestRunner(t, nil)
			taskDir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelAt > 0 {
				time.AfterFunc(tc.cancelAt, cancel)
			}
			start := time.Now()
			res := r.Run(ctx, Spec{
				CommandLine:      "/bin/touch ran.marker",
				Env:              baseEnv(taskDir),
				TaskDir:          taskDir,
				MaxWallClockTime: tc.maxWall,
				ResourceFiles:    []ResourceFile{{HTTPURL: srv.URL + "/c/blob.mp4?sig=SECRET", FilePath: "blob.mp4"}},
			})
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Fatalf("Run took %v", elapsed)
			}
			if res.ExitCode != nil || res.Failure == nil || res.Failure.Code != CodeTaskEnded || res.Failure.Category != tc.wantCat {
				t.Fatalf("exit %s failure %+v, want nil exit and %s/%s", exitCode(res), res.Failure, tc.wantCat, CodeTaskEnded)
			}
			if _, err := os.Stat(filepath.Join(taskDir, "wd", "ran.marker")); err == nil {
				t.Error("the command ran after the attempt ended")
			}
		})
	}
}
