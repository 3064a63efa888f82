// Package azurite starts and stops a local Azurite blob service (the npm
// package installed under tools/ by make) for the local stack and for tests.
//
// It only manages the process: it does not talk to the blob API beyond a
// readiness probe, and it never binds anything but loopback.
package azurite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Well-known development account of Azurite (public, documented by Microsoft).
const (
	AccountName = "devstoreaccount1"
	AccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Options configure Start. The zero value is usable.
type Options struct {
	// Bin is the azurite-blob executable. Default: tools/node_modules/.bin/azurite-blob
	// under the module root found by walking up from the working directory.
	Bin string
	// Dir holds Azurite's data. Default: a new temporary directory removed by Stop.
	Dir string
	// Port to listen on at 127.0.0.1. Zero picks a free port.
	Port int
	// StartTimeout bounds the wait for readiness. Default 30s.
	StartTimeout time.Duration
	// AccountKey, when set, replaces the well-known key of AccountName
	// (Azurite's AZURITE_ACCOUNTS, passed in its environment, which other
	// users cannot read): the public key is then refused. Empty: the
	// well-known AccountKey.
	AccountKey string
	// LogPath, when set, is a file that Azurite's output is appended to
	// (start and stop lines and errors; the access log stays off). Empty:
	// the output is kept in memory for start-up errors only.
	LogPath string
}

// Instance is a running Azurite blob service.
type Instance struct {
	// BlobEndpoint is the account's blob endpoint, e.g. http://127.0.0.1:10000/devstoreaccount1.
	BlobEndpoint string
	AccountName  string
	AccountKey   string
	// ConnectionString works with azblob.NewClientFromConnectionString.
	ConnectionString string

	cmd     *exec.Cmd
	tempDir string
	logs    *lockedBuffer // output when Options.LogPath is empty
	logPath string
	done    chan struct{}
	stopped sync.Once
}

// ErrNotInstalled means the azurite-blob executable was not found.
var ErrNotInstalled = errors.New("azurite is not installed: run `make tools` (npm ci in tools/)")

// Start launches azurite-blob and waits until it answers HTTP.
func Start(ctx context.Context, opts *Options) (*Instance, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Bin == "" {
		bin, err := DefaultBin()
		if err != nil {
			return nil, err
		}
		o.Bin = bin
	}
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("%w (looked for %s)", ErrNotInstalled, o.Bin)
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	inst := &Instance{AccountName: AccountName, AccountKey: AccountKey, logs: &lockedBuffer{}, done: make(chan struct{})}
	if o.AccountKey != "" {
		inst.AccountKey = o.AccountKey
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "azurite-*")
		if err != nil {
			return nil, fmt.Errorf("create azurite data dir: %w", err)
		}
		o.Dir, inst.tempDir = dir, dir
	} else if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create azurite data dir: %w", err)
	}
	if o.Port == 0 {
		p, err := freePort()
		if err != nil {
			inst.cleanup()
			return nil, err
		}
		o.Port = p
	}
	inst.cmd = exec.Command(o.Bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(o.Port),
		"--location", o.Dir, "--skipApiVersionCheck", "--loose",
		"--disableTelemetry", "--silent")
	inst.cmd.SysProcAttr = sysProcAttr()
	if o.AccountKey != "" {
		inst.cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS="+AccountName+":"+o.AccountKey)
	}
	if err := inst.startProcess(o.LogPath); err != nil {
		inst.cleanup()
		return nil, err
	}
	go func() { _ = inst.cmd.Wait(); close(inst.done) }()

	inst.BlobEndpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", o.Port, AccountName)
	inst.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		AccountName, inst.AccountKey, inst.BlobEndpoint)
	if err := inst.waitReady(ctx, o.StartTimeout); err != nil {
		inst.Stop()
		return nil, err
	}
	return inst, nil
}

// startProcess starts Azurite with its output appended to logPath (the
// child writes the file itself, so it can log after this process is gone)
// or collected in memory.
func (i *Instance) startProcess(logPath string) error {
	if logPath == "" {
		i.cmd.Stdout, i.cmd.Stderr = i.logs, i.logs
		if err := i.cmd.Start(); err != nil {
			return fmt.Errorf("start azurite: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return fmt.Errorf("start azurite: create log dir: %w", err)
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start azurite: open log: %w", err)
	}
	defer lf.Close() // the child has its own descriptor
	fmt.Fprintf(lf, "---- %s: starting %s\n", time.Now().UTC().Format(time.RFC3339), strings.Join(i.cmd.Args, " "))
	i.cmd.Stdout, i.cmd.Stderr = lf, lf
	if err := i.cmd.Start(); err != nil {
		return fmt.Errorf("start azurite: %w", err)
	}
	i.logPath = logPath
	return nil
}

// output is what Azurite printed, for errors: the in-memory copy, or the
// end of the log file.
func (i *Instance) output() string {
	if i.logPath == "" {
		return i.logs.String()
	}
	f, err := os.Open(i.logPath)
	if err != nil {
		return fmt.Sprintf("(log %s: %v)", i.logPath, err)
	}
	defer f.Close()
	const tail = 4 << 10
	if st, err := f.Stat(); err == nil && st.Size() > tail {
		_, _ = f.Seek(st.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return fmt.Sprintf("%s (log: %s)", bytes.TrimSpace(b), i.logPath)
}

// Done is closed when the Azurite process has exited.
func (i *Instance) Done() <-chan struct{} { return i.done }

// PID is the process id of the azurite-blob process (node), the leader of
// its own process group.
func (i *Instance) PID() int {
	if i.cmd == nil || i.cmd.Process == nil {
		return 0
	}
	return i.cmd.Process.Pid
}

func (i *Instance) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, i.BlobEndpoint+"?comp=list", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil // any HTTP answer (403 without auth) means it is serving
		}
		select {
		case <-i.done:
			return fmt.Errorf("azurite exited during start: %s", i.output())
		case <-ctx.Done():
			return fmt.Errorf("azurite not ready after %s: %w", timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop terminates Azurite (and its children) and removes a temporary data directory.
// It is safe to call more than once.
func (i *Instance) Stop() {
	i.stopped.Do(func() {
		if i.cmd != nil && i.cmd.Process != nil {
			_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-i.done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
				<-i.done
			}
		}
		i.cleanup()
	})
}

func (i *Instance) cleanup() {
	if i.tempDir != "" {
		_ = os.RemoveAll(i.tempDir)
	}
}

// DefaultBin locates tools/node_modules/.bin/azurite-blob under the module root.
func DefaultBin() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find azurite: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "tools", "node_modules", ".bin", "azurite-blob"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no go.mod above the working directory", ErrNotInstalled)
		}
		dir = parent
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects process output for error messages.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil // keep memory bounded; the start is what explains failures
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
