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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	logs    *lockedBuffer
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
	inst.cmd.Stdout, inst.cmd.Stderr = inst.logs, inst.logs
	inst.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := inst.cmd.Start(); err != nil {
		inst.cleanup()
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	go func() { _ = inst.cmd.Wait(); close(inst.done) }()

	inst.BlobEndpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", o.Port, AccountName)
	inst.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		AccountName, AccountKey, inst.BlobEndpoint)
	if err := inst.waitReady(ctx, o.StartTimeout); err != nil {
		inst.Stop()
		return nil, err
	}
	return inst, nil
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
			return fmt.Errorf("azurite exited during start: %s", i.logs.String())
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
