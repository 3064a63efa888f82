package funchost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestHandlerLaunch(t *testing.T) {
	hostJSON := `{"version": "2.0", "customHandler": {"description": {
	  "defaultExecutablePath": "handler", "workingDirectory": "work",
	  "arguments": ["--name", "%APP_NAME%", "--gone=%APP_MISSING%", "%APP_MISSING%"]}}}`
	a := newTestApp(t, hostJSON, map[string]string{"Tick": timerFunction}, map[string]string{
		"APP_NAME":   "ffbatch",
		"APP_SHARED": "from-file",
		"APP_FILE":   "only-in-file",
	})
	if err := os.Mkdir(filepath.Join(a.dir, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := newLogCapture()
	opts := testOptions(a, logs)
	opts.Environ = []string{"APP_SHARED=from-env", "PATH=/usr/bin:/bin"}
	startHost(t, opts)

	starts := a.starts(t)
	if len(starts) != 1 {
		t.Fatalf("handler started %d times, want 1", len(starts))
	}
	s := starts[0]
	if want := []string{"--name", "ffbatch", "--gone="}; !reflect.DeepEqual(s.Args, want) {
		t.Errorf("args = %q, want %q (unresolved %%tokens%% removed)", s.Args, want)
	}
	if want := filepath.Join(a.dir, "work"); s.Cwd != want {
		t.Errorf("working directory = %q, want %q", s.Cwd, want)
	}
	port := s.Env["FUNCTIONS_CUSTOMHANDLER_PORT"]
	if port == "" || s.Env["FUNCTIONS_HTTPWORKER_PORT"] != port {
		t.Errorf("ports: FUNCTIONS_CUSTOMHANDLER_PORT=%q FUNCTIONS_HTTPWORKER_PORT=%q", port, s.Env["FUNCTIONS_HTTPWORKER_PORT"])
	}
	if id := s.Env["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"]; !uuidPattern.MatchString(id) || s.Env["FUNCTIONS_HTTPWORKER_ID"] != id {
		t.Errorf("worker ids: %q and %q", id, s.Env["FUNCTIONS_HTTPWORKER_ID"])
	}
	if got := s.Env["FUNCTIONS_APP_ROOT_PATH"]; got != a.dir {
		t.Errorf("FUNCTIONS_APP_ROOT_PATH = %q, want %q", got, a.dir)
	}
	if got := s.Env["FUNCTIONS_WORKER_RUNTIME"]; got != "custom" {
		t.Errorf("FUNCTIONS_WORKER_RUNTIME = %q, want the local.settings.json value", got)
	}
	if got := s.Env["APP_SHARED"]; got != "from-env" {
		t.Errorf("APP_SHARED = %q, want the environment to win over local.settings.json", got)
	}
	if got := s.Env["APP_FILE"]; got != "only-in-file" {
		t.Errorf("APP_FILE = %q, want the local.settings.json value", got)
	}
	if len(logs.find("skipping setting", "APP_SHARED")) == 0 {
		t.Errorf("no warning about APP_SHARED being skipped; logs:\n%s", logs.dump())
	}
	// Output is logged as the handler writes it, asynchronously.
	waitFor(t, "handler stdout logged at Information", 5*time.Second, func() bool {
		return len(logs.find("INFO fakehandler starting", "Host.Function.Console")) > 0
	})
	waitFor(t, "handler stderr line with 'warn' logged at Warning", 5*time.Second, func() bool {
		return len(logs.find("WARN warning: this is a fake handler")) > 0
	})
}

func TestReadinessWaitsForGetRoot(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"startDelay": "300ms"}`)
	start := time.Now()
	h := startHost(t, testOptions(a, newLogCapture()))
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("Start returned after %s, before the handler listened (300ms)", elapsed)
	}
	if err := h.RunFunction(context.Background(), "Tick"); err != nil {
		t.Fatalf("RunFunction after readiness: %v", err)
	}
}

func TestStartFailsWhenHandlerNeverReady(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"startDelay": "5s"}`)
	opts := testOptions(a, newLogCapture())
	opts.InitializationTimeout = 200 * time.Millisecond
	opts.WorkerErrorLimit = 2
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Start(context.Background())
	if !errors.Is(err, ErrWorkerFailed) || !strings.Contains(err.Error(), "did not answer GET /") {
		t.Fatalf("Start error = %v, want ErrWorkerFailed after readiness timeouts", err)
	}
	if n := len(a.starts(t)); n != 2 {
		t.Errorf("handler started %d times, want 2 (WorkerErrorLimit)", n)
	}
}

func TestHandlerRestartsAfterNonZeroExit(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"exit": {"Tick": 3}}`)
	logs := newLogCapture()
	h := startHost(t, testOptions(a, logs))
	if err := h.RunFunction(context.Background(), "Tick"); err == nil {
		t.Fatal("RunFunction succeeded although the handler exited mid-invocation")
	}
	waitFor(t, "a second handler process", 5*time.Second, func() bool { return len(a.starts(t)) == 2 })
	a.setConfig(t, `{}`)
	if err := h.RunFunction(context.Background(), "Tick"); err != nil {
		t.Fatalf("RunFunction after restart: %v", err)
	}
	reqs := a.requests(t, "/Tick")
	if len(reqs) != 2 || reqs[1].Start != 2 {
		t.Fatalf("requests = %+v, want the second served by the restarted handler", reqs)
	}
	if len(logs.find("custom handler process failed", "exit status 3")) == 0 {
		t.Errorf("exit not logged; logs:\n%s", logs.dump())
	}
}

func TestHandlerExitZeroIsNotRestarted(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"exit": {"Tick": 0}}`)
	h := startHost(t, testOptions(a, newLogCapture()))
	_ = h.RunFunction(context.Background(), "Tick")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		if err = h.RunFunction(ctx, "Tick"); errors.Is(err, ErrWorkerStopped) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err, ErrWorkerStopped) {
		t.Fatalf("RunFunction error = %v, want ErrWorkerStopped", err)
	}
	if n := len(a.starts(t)); n != 1 {
		t.Errorf("handler started %d times, want 1", n)
	}
}

func TestRepeatedCrashesStopTheHost(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"exit": {"Tick": 7}}`)
	opts := testOptions(a, newLogCapture())
	opts.WorkerErrorLimit = 2
	h := startHost(t, opts)
	// Each invocation kills the current handler; keep invoking until the
	// host gives up (an invocation may hit a handler that is already gone).
	deadline := time.After(10 * time.Second)
	for stopped := false; !stopped; {
		_ = h.RunFunction(context.Background(), "Tick")
		select {
		case <-h.Done():
			stopped = true
		case <-deadline:
			t.Fatal("host did not stop after repeated handler crashes")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if n := len(a.starts(t)); n != 2 {
		t.Errorf("handler started %d times, want 2 (WorkerErrorLimit)", n)
	}
	if err := h.Err(); !errors.Is(err, ErrWorkerFailed) {
		t.Errorf("Err() = %v, want ErrWorkerFailed", err)
	}
}

func TestFunctionTimeoutKillsAndRestartsHandler(t *testing.T) {
	t.Parallel()
	hostJSON := `{"version": "2.0", "functionTimeout": "00:00:01", "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`
	a := newTestApp(t, hostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"sleepFirst": {"Tick": "30s"}}`)
	logs := newLogCapture()
	h := startHost(t, testOptions(a, logs))
	pid := a.starts(t)[0].PID
	start := time.Now()
	err := h.RunFunction(context.Background(), "Tick")
	if !errors.Is(err, ErrFunctionTimeout) {
		t.Fatalf("RunFunction error = %v, want ErrFunctionTimeout", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("timeout took %s, want about 1s", elapsed)
	}
	waitFor(t, "the handler to be restarted", 5*time.Second, func() bool { return len(a.starts(t)) == 2 })
	if err := h.RunFunction(context.Background(), "Tick"); err != nil {
		t.Fatalf("RunFunction after the restart: %v", err)
	}
	if len(logs.find("A function timeout has occurred. Restarting worker process executing invocationId")) == 0 {
		t.Errorf("timeout not logged; logs:\n%s", logs.dump())
	}
	if err := processAlive(pid); err == nil {
		t.Errorf("timed-out handler process %d is still alive", pid)
	}
	if h.Err() != nil {
		t.Errorf("a timeout restart counted as a handler failure: %v", h.Err())
	}
}

// processAlive returns nil when pid exists.
func processAlive(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(sigZero)
}

func TestHandlerKilledExternallyIsRestarted(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	a.setConfig(t, `{"sleepFirst": {"Tick": "30s"}}`)
	opts := testOptions(a, newLogCapture())
	started := make(chan InvocationEvent, 4)
	ended := make(chan InvocationEvent, 4)
	opts.OnInvocation = func(ev InvocationEvent) {
		if ev.Done {
			ended <- ev
		} else {
			started <- ev
		}
	}
	h := startHost(t, opts)
	pid := h.HandlerPID()
	if pid == 0 || pid != a.starts(t)[0].PID {
		t.Fatalf("HandlerPID() = %d, want the fake handler's pid %d", pid, a.starts(t)[0].PID)
	}
	// Kill the handler in the middle of an invocation, as the fault tests do.
	runErr := make(chan error, 1)
	go func() { runErr <- h.RunFunction(context.Background(), "Tick") }()
	var ev InvocationEvent
	select {
	case ev = <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("no invocation start reported")
	}
	if ev.Function != "Tick" || !uuidPattern.MatchString(ev.ID) {
		t.Errorf("start event = %+v", ev)
	}
	waitFor(t, "the handler to receive the request", 5*time.Second, func() bool { return len(a.requests(t, "/Tick")) == 1 })
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-runErr; err == nil {
		t.Error("the invocation cut by the kill succeeded")
	}
	select {
	case end := <-ended:
		if end.ID != ev.ID || end.Err == nil {
			t.Errorf("end event = %+v, want the failed invocation %s", end, ev.ID)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no invocation end reported")
	}
	waitFor(t, "a new handler process", 5*time.Second, func() bool { n := h.HandlerPID(); return n != 0 && n != pid })
	if err := h.RunFunction(context.Background(), "Tick"); err != nil {
		t.Fatalf("RunFunction after the restart: %v", err)
	}
}
