package funchost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// fakeHandlerBin is testdata/fakehandler built once by TestMain.
var fakeHandlerBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "funchost-fakehandler-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	fakeHandlerBin = filepath.Join(dir, "handler")
	cmd := exec.Command("go", "build", "-o", fakeHandlerBin, "./testdata/fakehandler")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build fake handler: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const basicHostJSON = `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`

// testApp is a layout on disk with the fake handler.
type testApp struct {
	dir    string
	record string
	config string
	state  string
}

// newTestApp writes host.json, one folder per function and a
// local.settings.json holding values plus the fake handler's settings.
func newTestApp(t *testing.T, hostJSON string, functions map[string]string, values map[string]string) *testApp {
	t.Helper()
	root := t.TempDir()
	a := &testApp{
		dir:    filepath.Join(root, "app"),
		record: filepath.Join(root, "record.jsonl"),
		config: filepath.Join(root, "config.json"),
		state:  filepath.Join(root, "state"),
	}
	for _, d := range []string{a.dir, filepath.Join(root, "fake")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(a.dir, "host.json"), hostJSON)
	for name, fj := range functions {
		if err := os.MkdirAll(filepath.Join(a.dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(a.dir, name, "function.json"), fj)
	}
	if err := os.Symlink(fakeHandlerBin, filepath.Join(a.dir, "handler")); err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{
		"FUNCTIONS_WORKER_RUNTIME": "custom",
		"FAKE_RECORD":              a.record,
		"FAKE_CONFIG":              a.config,
		"FAKE_STATE_DIR":           filepath.Join(root, "fake"),
	}
	for k, v := range values {
		vals[k] = v
	}
	raw, _ := json.Marshal(map[string]any{"IsEncrypted": false, "Values": vals})
	mustWrite(t, filepath.Join(a.dir, "local.settings.json"), string(raw))
	a.setConfig(t, `{}`)
	return a
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (a *testApp) setConfig(t *testing.T, cfg string) {
	t.Helper()
	mustWrite(t, a.config, cfg)
}

// fakeRecord is one line of the fake handler's record file.
type fakeRecord struct {
	Kind    string            `json:"kind"`
	PID     int               `json:"pid"`
	Start   int               `json:"start"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	RawBody string            `json:"rawBody"`
	Env     map[string]string `json:"env"`
	Args    []string          `json:"args"`
	Cwd     string            `json:"cwd"`
}

func (a *testApp) records(t *testing.T) []fakeRecord {
	t.Helper()
	raw, err := os.ReadFile(a.record)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []fakeRecord
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r fakeRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decode record %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// requests returns the recorded requests to path, e.g. "/Sweeper".
func (a *testApp) requests(t *testing.T, path string) []fakeRecord {
	t.Helper()
	var out []fakeRecord
	for _, r := range a.records(t) {
		if r.Kind == "request" && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (a *testApp) starts(t *testing.T) []fakeRecord {
	t.Helper()
	var out []fakeRecord
	for _, r := range a.records(t) {
		if r.Kind == "start" {
			out = append(out, r)
		}
	}
	return out
}

// logCapture is a slog.Handler that keeps records for assertions.
type logCapture struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

func newLogCapture() *logCapture { return &logCapture{mu: &sync.Mutex{}, lines: &[]string{}} }

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range c.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	c.mu.Lock()
	*c.lines = append(*c.lines, b.String())
	c.mu.Unlock()
	return nil
}
func (c *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCapture{mu: c.mu, lines: c.lines, attrs: append(append([]slog.Attr{}, c.attrs...), as...)}
}
func (c *logCapture) WithGroup(string) slog.Handler { return c }

// find returns the log lines containing every substring.
func (c *logCapture) find(subs ...string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
next:
	for _, l := range *c.lines {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

func (c *logCapture) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(*c.lines, "\n")
}

// testOptions are fast settings for tests; mod adjusts them.
func testOptions(a *testApp, logs *logCapture) *Options {
	return &Options{
		AppDir:                a.dir,
		HTTPAddr:              "127.0.0.1:0",
		StateDir:              a.state,
		Logger:                slog.New(logs),
		ReadinessPollInterval: 10 * time.Millisecond,
		RestartBackoff:        10 * time.Millisecond,
		MaxRestartBackoff:     50 * time.Millisecond,
		BlobPollInterval:      50 * time.Millisecond,
		EventGridRetryDelay:   20 * time.Millisecond,
		ServiceBusRetryDelay:  20 * time.Millisecond,
		InitializationTimeout: 10 * time.Second,
		CPUs:                  1,
	}
}

// startHost creates and starts a host, closed when the test ends.
func startHost(t *testing.T, opts *Options) *Host {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// waitFor polls cond every 10ms until it holds. timeout is what the wait
// should take at most on an idle machine; the test fails only after three
// times that, because the shared CI machines can be heavily loaded.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	portPattern = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// volatileKeys have values that change per run; golden files hold "<varies>".
var volatileKeys = map[string]bool{"eventTime": true, "eTag": true, "sequencer": true}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if volatileKeys[k] {
				x[k] = "<varies>"
				continue
			}
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case string:
		s := uuidPattern.ReplaceAllString(x, "<uuid>")
		return portPattern.ReplaceAllString(s, "127.0.0.1:<port>")
	}
	return v
}

// checkGolden compares a request body with testdata/golden/<name>.json after
// normalising ids and ports; -update rewrites the file.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode body for %s: %v\n%s", name, err, body)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalize(v)); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, path, string(got))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: request differs from %s\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// fixedClock returns a clock stuck at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// keyClient is an HTTP client that sends the host's master key with every
// request, for tests of HTTP functions that are not about keys.
func keyClient(h *Host) *http.Client {
	return &http.Client{Transport: keyTransport{key: h.Keys().Master}}
}

type keyTransport struct{ key string }

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("x-functions-key", k.key)
	return http.DefaultTransport.RoundTrip(r)
}
