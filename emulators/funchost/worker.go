package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Errors an invocation gets while no handler can take it.
var (
	// ErrWorkerStopped means the handler exited with code 0, which the real
	// host does not restart.
	ErrWorkerStopped = errors.New("custom handler process exited with code 0 and is not restarted")
	// ErrWorkerFailed means the handler failed too often and the host is
	// shutting down.
	ErrWorkerFailed = errors.New("custom handler process failed too many times")
)

type workerState int

const (
	workerStarting workerState = iota
	workerReady
	workerStopped
	workerFailed
)

// workerSpec is how to start the handler, resolved from host.json.
type workerSpec struct {
	Path string
	Args []string
	Dir  string
	// Env is the base environment; the port and worker id are added per start.
	Env     []string
	AppRoot string

	InitTimeout   time.Duration
	PollInterval  time.Duration
	Backoff       time.Duration
	MaxBackoff    time.Duration
	ErrorLimit    int
	ErrorInterval time.Duration
}

// resolveWorkerSpec applies the host's executable, working-directory and
// argument rules (functions-host.md §1.1).
func resolveWorkerSpec(appDir string, hc handlerConfig, s appSettings) (workerSpec, error) {
	lookup := s.lookup
	exe := expandEnv(hc.DefaultExecutablePath, lookup)
	if !filepath.IsAbs(exe) {
		candidate := filepath.Join(appDir, exe)
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() {
			exe = candidate
		} else {
			path := ""
			if v, ok := s.lookup("PATH"); ok {
				path = v
			}
			found, err := lookPath(exe, path)
			if err != nil {
				return workerSpec{}, fmt.Errorf("customHandler.description.defaultExecutablePath %q: not found in the app directory %s nor on PATH", hc.DefaultExecutablePath, appDir)
			}
			exe = found
		}
	}
	if st, err := os.Stat(exe); err != nil {
		return workerSpec{}, fmt.Errorf("customHandler executable %s: %w", exe, err)
	} else if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return workerSpec{}, fmt.Errorf("customHandler executable %s is not an executable file (check its run bit)", exe)
	}
	dir := appDir
	if hc.WorkingDirectory != "" {
		dir = expandEnv(hc.WorkingDirectory, lookup)
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(appDir, dir)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return workerSpec{}, fmt.Errorf("customHandler.description.workingDirectory %q: %s is not a directory", hc.WorkingDirectory, dir)
		}
	}
	var args []string
	args = append(args, expandArgs(hc.Arguments, lookup)...)
	if hc.DefaultWorkerPath != "" {
		wp := expandEnv(hc.DefaultWorkerPath, lookup)
		if !filepath.IsAbs(wp) {
			wp = filepath.Join(appDir, wp)
		}
		args = append(args, wp)
	}
	args = append(args, expandArgs(hc.WorkerArguments, lookup)...)
	return workerSpec{Path: exe, Args: args, Dir: dir, AppRoot: appDir, InitTimeout: hc.InitializationTimeout}, nil
}

// expandArgs expands %VAR% in each argument and removes tokens that stay
// unresolved (SanitizeExpandedArgument); arguments left empty are dropped.
func expandArgs(in []string, lookup func(string) (string, bool)) []string {
	var out []string
	for _, a := range in {
		a = expandEnv(a, lookup)
		a = strings.TrimSpace(percentToken.ReplaceAllString(a, ""))
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// lookPath finds a command on the given PATH (the handler's, not ours).
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return "", fmt.Errorf("%s: not found", name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found on PATH", name)
}

// worker supervises the one handler process, as the real host's single HTTP
// worker channel does.
type worker struct {
	spec   workerSpec
	log    *slog.Logger
	output *sink // the handler's stdout and stderr lines
	now    func() time.Time
	client *http.Client

	// fatal is called once when the handler failed ErrorLimit times.
	fatal func(error)

	mu sync.Mutex // guards the fields below
	// state is the current state; ready is closed when the current
	// generation becomes ready or the worker stops for good.
	state   workerState
	ready   chan struct{}
	gen     int
	baseURL string
	proc    *os.Process
	// killed marks a generation killed on purpose (function timeout), so
	// its exit is a restart and not an error.
	killed map[int]bool
	errors []time.Time
}

func newWorker(spec workerSpec, log *slog.Logger, output io.Writer, now func() time.Time, fatal func(error)) *worker {
	return &worker{
		spec:   spec,
		log:    log,
		output: &sink{out: output, log: log},
		now:    now,
		client: &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 2 * time.Second},
		fatal:  fatal,
		ready:  make(chan struct{}),
		killed: map[int]bool{},
	}
}

// endpoint waits until the handler is ready and returns its base URL and
// generation. Invocations wait while the handler restarts, as in the host.
func (w *worker) endpoint(ctx context.Context) (string, int, error) {
	for {
		w.mu.Lock()
		state, ready, base, gen := w.state, w.ready, w.baseURL, w.gen
		w.mu.Unlock()
		switch state {
		case workerReady:
			return base, gen, nil
		case workerStopped:
			return "", 0, ErrWorkerStopped
		case workerFailed:
			return "", 0, ErrWorkerFailed
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return "", 0, fmt.Errorf("wait for custom handler: %w", ctx.Err())
		}
	}
}

// restart kills generation gen (if it is still the current one) so that the
// supervisor starts a new handler; used on function timeouts.
func (w *worker) restart(gen int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if gen != w.gen || w.proc == nil {
		return
	}
	w.killed[gen] = true
	if w.state == workerReady {
		w.state = workerStarting
		w.ready = make(chan struct{})
	}
	if err := killGroup(w.proc); err != nil && !errors.Is(err, os.ErrProcessDone) {
		w.log.Error("kill custom handler", slog.Any("error", err))
	}
}

// run starts the handler and keeps it running until ctx ends, the handler
// exits with code 0, or it fails ErrorLimit times within ErrorInterval.
func (w *worker) run(ctx context.Context) {
	backoff := w.spec.Backoff
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			w.finish(workerStopped)
			return
		}
		gen, readyOK, exit := w.runOnce(ctx)
		if ctx.Err() != nil {
			w.finish(workerStopped)
			return
		}
		w.mu.Lock()
		intentional := w.killed[gen]
		delete(w.killed, gen)
		w.mu.Unlock()
		switch {
		case intentional:
			w.log.Info("custom handler killed after a function timeout; restarting")
			backoff = w.spec.Backoff
			continue
		case exit == nil && readyOK:
			w.log.Warn("custom handler exited with code 0; the host does not restart it")
			w.finish(workerStopped)
			return
		}
		w.log.Error("custom handler process failed", slog.Any("error", exit), slog.Int("attempt", attempt))
		if w.recordError() {
			err := fmt.Errorf("%w: %d errors within %s, last: %v", ErrWorkerFailed, w.spec.ErrorLimit, w.spec.ErrorInterval, exit)
			w.finish(workerFailed)
			w.fatal(err)
			return
		}
		if readyOK {
			backoff = w.spec.Backoff
		}
		w.log.Info("restarting custom handler", slog.Duration("after", backoff))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			w.finish(workerStopped)
			return
		}
		backoff = min(2*backoff, w.spec.MaxBackoff)
	}
}

// recordError notes a process error and reports whether the limit is hit.
func (w *worker) recordError() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	kept := w.errors[:0]
	for _, t := range w.errors {
		if now.Sub(t) < w.spec.ErrorInterval {
			kept = append(kept, t)
		}
	}
	w.errors = append(kept, now)
	return len(w.errors) >= w.spec.ErrorLimit
}

func (w *worker) finish(s workerState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state = s
	w.proc = nil
	select {
	case <-w.ready:
	default:
		close(w.ready)
	}
}

// runOnce starts one handler process, waits for readiness, publishes it and
// waits for it to exit. It returns the generation, whether the handler
// became ready, and the exit error (nil for code 0).
func (w *worker) runOnce(ctx context.Context) (int, bool, error) {
	port, err := freePort()
	if err != nil {
		return 0, false, fmt.Errorf("pick handler port: %w", err)
	}
	id := uuid.NewString()
	env := append(append([]string{}, w.spec.Env...),
		"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port),
		"FUNCTIONS_HTTPWORKER_PORT="+strconv.Itoa(port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID="+id,
		"FUNCTIONS_HTTPWORKER_ID="+id,
		"FUNCTIONS_APP_ROOT_PATH="+w.spec.AppRoot,
	)
	cmd := exec.CommandContext(ctx, w.spec.Path, w.spec.Args...)
	cmd.Dir = w.spec.Dir
	cmd.Env = env
	tail := &lineTail{n: tailLines}
	cmd.Stdout = &console{sink: w.output}
	cmd.Stderr = &console{sink: w.output, stderr: true, tail: tail}
	cmd.WaitDelay = 2 * time.Second
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("start custom handler %s: %w", w.spec.Path, err)
	}
	w.mu.Lock()
	w.gen++
	gen := w.gen
	w.proc = cmd.Process
	w.mu.Unlock()
	w.log.Info("started custom handler", slog.String("path", w.spec.Path), slog.Int("pid", cmd.Process.Pid), slog.Int("port", port), slog.String("workerId", id))

	// exited is closed when Wait returns, with its result in exitErr.
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := w.waitReady(ctx, base, exited, func() error { return exitErr }); err != nil {
		_ = killGroup(cmd.Process)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		return gen, false, fmt.Errorf("%w%s", err, tail.suffix())
	}
	w.mu.Lock()
	if !w.killed[gen] {
		w.state = workerReady
		w.baseURL = base
		close(w.ready)
	}
	w.mu.Unlock()
	w.log.Info("custom handler is ready", slog.String("url", base))

	<-exited
	_ = killGroup(cmd.Process) // stray children of the handler
	w.mu.Lock()
	if w.state == workerReady && w.gen == gen {
		w.state = workerStarting
		w.ready = make(chan struct{})
	}
	w.proc = nil
	w.mu.Unlock()
	if exitErr != nil {
		return gen, true, fmt.Errorf("custom handler exited: %w%s", exitErr, tail.suffix())
	}
	return gen, true, nil
}

// waitReady polls GET / until any HTTP response arrives (the host's
// IsWorkerReady), the process exits, or the initialization timeout passes.
func (w *worker) waitReady(ctx context.Context, base string, exited <-chan struct{}, exitErr func() error) error {
	deadline := time.NewTimer(w.spec.InitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(w.spec.PollInterval)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
		if resp, err := w.client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			err := exitErr()
			if err == nil {
				err = errors.New("exit status 0")
			}
			return fmt.Errorf("custom handler exited before it was ready: %w", err)
		case <-deadline.C:
			return fmt.Errorf("custom handler did not answer GET / on %s within %s", base, w.spec.InitTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
