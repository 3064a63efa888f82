package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/syncbuf"
)

// buildFakeHandler builds the funchost tests' fake handler into dir.
func buildFakeHandler(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "handler"), "../../emulators/funchost/testdata/fakehandler")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fake handler: %v\n%s", err, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	app := t.TempDir()
	buildFakeHandler(t, app)
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(app, "host.json"), `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`)
	write(filepath.Join(app, "Hello", "function.json"), `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in", "authLevel": "anonymous"}, {"name": "res", "type": "http", "direction": "out"}]}`)
	settings := filepath.Join(t.TempDir(), "settings.json")
	write(settings, `{"IsEncrypted": false, "Values": {"FUNCTIONS_WORKER_RUNTIME": "custom"}}`)
	addr := freeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncbuf.Buffer
	done := make(chan error, 1)
	state := t.TempDir()
	go func() {
		done <- run(ctx, []string{"--app", app, "--settings", settings, "--addr", addr, "--state", state, "--log-format", "json"}, []string{"PATH=/usr/bin:/bin"}, &logs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/admin/host/status", nil)
		req.Header.Set("x-functions-key", masterKey(state))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var st struct{ State string }
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.State == "Running" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("host never became ready; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/api/Hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("GET /api/Hello = %d, want the handler's 201", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancellation, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown log line; logs:\n%s", logs.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "--log-format"},
		{name: "bad event grid source", args: []string{"--eventgrid-blob", "nocontainer"}, wantErr: "Function=[Connection:]container"},
		{name: "missing app", args: []string{"--app", "/nonexistent/app"}, wantErr: "host.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			err := run(context.Background(), tt.args, nil, &logs)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// masterKey reads the master key funchost keeps in <state>/secrets/host.json
// ("" until the file exists).
func masterKey(state string) string {
	b, _ := os.ReadFile(filepath.Join(state, "secrets", "host.json"))
	var f struct {
		MasterKey struct{ Value string } `json:"masterKey"`
	}
	_ = json.Unmarshal(b, &f)
	return f.MasterKey.Value
}
