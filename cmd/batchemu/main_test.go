package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/localtoken"
)

func TestParseFlags(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "token.key")
	if err := os.WriteFile(keyFile, []byte(localtoken.EncodeKey(localtoken.NewKey())), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, c *config)
	}{
		{"defaults", nil, false, func(t *testing.T, c *config) {
			if c.addr != "127.0.0.1:10200" || c.opts.Storage == nil || c.opts.Storage.AccountName != "devstoreaccount1" || c.opts.AutoScaleMinInterval != 5*time.Minute || c.opts.TokenKey != nil {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{"overrides", []string{"--addr", "127.0.0.1:0", "--data", "/tmp/x", "--node-start-delay", "2s", "--concurrency", "3", "--autoscale-min-interval", "10s"}, false, func(t *testing.T, c *config) {
			if c.addr != "127.0.0.1:0" || c.opts.DataDir != "/tmp/x" || c.opts.NodeStartDelay != 2*time.Second || c.opts.Concurrency != 3 || c.opts.AutoScaleMinInterval != 10*time.Second {
				t.Errorf("overrides: %+v", c)
			}
		}},
		{"no auto-storage", []string{"--storage-endpoint", ""}, false, func(t *testing.T, c *config) {
			if c.opts.Storage != nil {
				t.Errorf("storage %+v, want nil", c.opts.Storage)
			}
		}},
		{"token key file", []string{"--token-key-file", keyFile}, false, func(t *testing.T, c *config) {
			if len(c.opts.TokenKey) != localtoken.MinKeySize {
				t.Errorf("token key of %d bytes, want %d", len(c.opts.TokenKey), localtoken.MinKeySize)
			}
		}},
		{"missing token key file", []string{"--token-key-file", keyFile + ".missing"}, true, nil},
		{"account key file", []string{"--key-file", keyFile}, false, func(t *testing.T, c *config) {
			if want, _ := os.ReadFile(keyFile); c.opts.AccountKey+"\n" != string(want) {
				t.Errorf("account key %q, want the file's %q", c.opts.AccountKey, want)
			}
		}},
		{"missing account key file", []string{"--key-file", keyFile + ".missing"}, true, nil},
		{"storage key file", []string{"--storage-key-file", keyFile}, false, func(t *testing.T, c *config) {
			if want, _ := os.ReadFile(keyFile); c.opts.Storage == nil || c.opts.Storage.AccountKey+"\n" != string(want) {
				t.Errorf("storage %+v, want the key of the file %q", c.opts.Storage, want)
			}
		}},
		{"negative concurrency", []string{"--concurrency", "-1"}, true, nil},
		{"zero autoscale interval", []string{"--autoscale-min-interval", "0s"}, true, nil},
		{"stray argument", []string{"extra"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--storage-endpoint", ""}, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("emulator did not start")
	}
	res, err := http.Get("http://" + addr + "/pools?api-version=2025-06-01")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"code":"AuthenticationFailed"`) {
		t.Errorf("unsigned request: %d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("emulator did not shut down")
	}
	if !strings.Contains(logs.String(), "level=INFO msg=\"batch emulator listening\"") {
		t.Errorf("logs are not slog text: %q", logs.String())
	}
}
