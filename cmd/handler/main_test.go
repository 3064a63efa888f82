package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/config"
)

// localEnv sets the settings of local.settings.json.example.
func localEnv(t *testing.T) {
	t.Helper()
	for _, name := range config.Settings() {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "local.settings.json.example"))
	if err != nil {
		t.Fatal(err)
	}
	var ls struct{ Values map[string]string }
	if err := json.Unmarshal(b, &ls); err != nil {
		t.Fatal(err)
	}
	for k, v := range ls.Values {
		t.Setenv(k, v)
	}
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunServesUntilCancelled(t *testing.T) {
	localEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- run(ctx, envMap(map[string]string{"FUNCTIONS_HTTPWORKER_PORT": "0"}), &syncWriter{w: &out, mu: make(chan struct{}, 1)}, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready after 10s")
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
	for _, fn := range []string{"BlobCreated", "SubmitTasks", "SweepPools", "Status"} {
		// A malformed body is refused (400) by a routed function before any
		// client is used; an unrouted one would be 404.
		resp, err := http.Post("http://"+addr+"/"+fn, "application/json", strings.NewReader(`{"Data":`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /%s = %d, want 400", fn, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
	for _, secret := range []string{"SAS_KEY_VALUE", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("log output contains a secret")
		}
	}
	if !strings.Contains(out.String(), "handler ready") || !strings.Contains(out.String(), "FFBATCH_BATCH_ACCOUNT_KEY:(set)") {
		t.Errorf("no ready line in %q", out.String())
	}
}

func TestRunRefusesBadStart(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		setup func(t *testing.T)
		want  []string
	}{
		{"no port", map[string]string{}, localEnv, []string{"FUNCTIONS_CUSTOMHANDLER_PORT"}},
		{"bad settings", map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "0"}, func(t *testing.T) {
			localEnv(t)
			t.Setenv("FFBATCH_TASK_SLOTS_PER_NODE", "many")
			t.Setenv("FFBATCH_BATCH_ENDPOINT", "")
		}, []string{"FFBATCH_TASK_SLOTS_PER_NODE", "FFBATCH_BATCH_ENDPOINT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			err := run(context.Background(), envMap(tc.env), io.Discard, nil)
			if err == nil {
				t.Fatal("run succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

// syncWriter serialises writes from the server's goroutines.
type syncWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.w.Write(p)
}
