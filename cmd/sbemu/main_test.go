package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

func TestParseFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, sbemu.DefaultConfigJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"UserConfig":{"Namespaces":[{"Name":"other"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "token.key")
	if err := os.WriteFile(keyFile, []byte(localtoken.EncodeKey(localtoken.NewKey())), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c *config)
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, c *config) {
			if c.amqpAddr != "127.0.0.1:5672" || c.httpAddr != "127.0.0.1:5300" || c.opts.Config != nil ||
				c.opts.KeyName != "RootManageSharedAccessKey" || c.opts.Key != "SAS_KEY_VALUE" || c.opts.DataDir != "" || c.opts.TokenKey != nil {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "token key file", args: []string{"--token-key-file", keyFile}, check: func(t *testing.T, c *config) {
			if len(c.opts.TokenKey) != localtoken.MinKeySize {
				t.Errorf("token key of %d bytes, want %d", len(c.opts.TokenKey), localtoken.MinKeySize)
			}
		}},
		{name: "missing token key file", args: []string{"--token-key-file", keyFile + ".missing"}, wantErr: "read token key"},
		{name: "key file", args: []string{"--key-file", keyFile}, check: func(t *testing.T, c *config) {
			if want, _ := os.ReadFile(keyFile); c.opts.Key+"\n" != string(want) {
				t.Errorf("key %q, want the file's %q", c.opts.Key, want)
			}
		}},
		{name: "missing key file", args: []string{"--key-file", keyFile + ".missing"}, wantErr: "read secret"},
		{name: "localhost binds loopback", args: []string{"--amqp-addr", "localhost:15672", "--http-addr", "localhost:0"}, check: func(t *testing.T, c *config) {
			if c.amqpAddr != "127.0.0.1:15672" || c.httpAddr != "127.0.0.1:0" {
				t.Errorf("addresses %s %s", c.amqpAddr, c.httpAddr)
			}
		}},
		{name: "config file", args: []string{"--config", good, "--data", dir, "--key", "k2", "--key-name", "n2"}, check: func(t *testing.T, c *config) {
			if c.opts.Config == nil || c.opts.Config.Queues[0].Name != "arrivals" || c.opts.DataDir != dir || c.opts.Key != "k2" || c.opts.KeyName != "n2" {
				t.Errorf("parsed %+v", c.opts)
			}
		}},
		{name: "invalid config", args: []string{"--config", bad}, wantErr: "sbemulatorns"},
		{name: "missing config", args: []string{"--config", filepath.Join(dir, "nope.json")}, wantErr: "no such file"},
		{name: "bad address", args: []string{"--amqp-addr", "5672"}, wantErr: "--amqp-addr"},
		{name: "empty key", args: []string{"--key", ""}, wantErr: "must not be empty"},
		{name: "bad size", args: []string{"--max-message-size", "0"}, wantErr: "must be positive"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestPrintDefaultConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--print-default-config"}, &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sbemu.LoadConfig(out.Bytes()); err != nil || !bytes.Equal(out.Bytes(), sbemu.DefaultConfigJSON) {
		t.Fatalf("printed config does not round-trip: %v", err)
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--amqp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--data", t.TempDir(), "--key", "secret-key-value"}, io.Discard, &logs, ready)
	}()
	var addrs [2]string
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	resp, err := http.Get("http://" + addrs[1] + "/entities")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Entities []struct {
			Name string `json:"name"`
		} `json:"entities"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(body.Entities) != 4 || body.Entities[0].Name != "arrivals" {
		t.Fatalf("GET /entities: %d %+v %v", resp.StatusCode, body, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not shut down")
	}
	if strings.Contains(logs.String(), "secret-key-value") {
		t.Error("the key was logged")
	}
}
