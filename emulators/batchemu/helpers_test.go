package batchemu

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/auth"
)

const testAPIVersion = "2024-07-01.20.0"

// testEnv is an in-process emulator on 127.0.0.1:0 and a tiny Shared Key client.
type testEnv struct {
	t    *testing.T
	srv  *Server
	base string
	now  func() time.Time
}

func startServer(t *testing.T, opts *Options) *testEnv {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.tick == 0 {
		opts.tick = 5 * time.Millisecond
	}
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ln, err := listenLoopback()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	env := &testEnv{t: t, srv: srv, base: "http://" + ln.Addr().String(), now: srv.now}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return env
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// signRequest adds ocp-date and a Batch Shared Key signature the way the
// SDKs do (Content-Length "" for GET/HEAD/DELETE, "0" for body-less POST).
func signRequest(r *http.Request, account, key string, now time.Time, contentLength int) {
	r.Header.Set("ocp-date", now.UTC().Format(http.TimeFormat))
	cl := ""
	if contentLength > 0 || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		cl = strconv.Itoa(contentLength)
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	for _, h := range auth.SignedHeaders {
		v := r.Header.Get(h)
		switch h {
		case "Content-Length":
			v = cl
		case "Date":
			v = ""
		}
		b.WriteString(v + "\n")
	}
	var ocp []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "ocp-") {
			ocp = append(ocp, lk)
		}
	}
	sort.Strings(ocp)
	for _, k := range ocp {
		b.WriteString(k + ":" + r.Header.Get(k) + "\n")
	}
	b.WriteString("/" + account + r.URL.EscapedPath())
	q := r.URL.Query()
	var names []string
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteString("\n" + strings.ToLower(k) + ":" + strings.Join(q[k], ","))
	}
	k, _ := base64.StdEncoding.DecodeString(key)
	m := hmac.New(sha256.New, k)
	m.Write([]byte(b.String()))
	r.Header.Set("Authorization", "SharedKey "+account+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

// code returns the Batch error code of an error response.
func (r resp) code() string {
	var m struct{ Code string }
	_ = json.Unmarshal(r.body, &m)
	return m.Code
}

// call sends a signed request. path may hold a query; api-version is added
// unless present. body is marshalled unless it is a string or nil.
func (e *testEnv) call(method, path string, body any) resp {
	e.t.Helper()
	return e.callWith(method, path, body, nil)
}

func (e *testEnv) callWith(method, path string, body any, hdr map[string]string) resp {
	e.t.Helper()
	u, err := url.Parse(e.base + path)
	if err != nil {
		e.t.Fatalf("parse %s: %v", path, err)
	}
	if !strings.Contains(u.RawQuery, "api-version=") {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "api-version=" + testAPIVersion
	}
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		if data, err = json.Marshal(b); err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
	}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(data))
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if data == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	if len(data) > 0 {
		req.Header.Set("Content-Type", "application/json; odata=minimalmetadata")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Authorization") == "" {
		signRequest(req, DefaultAccountName, DefaultAccountKey, e.now(), len(data))
	}
	if hdr["Authorization"] == "-" {
		req.Header.Del("Authorization")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: rb}
}

// must fails the test unless the response has the wanted status.
func (e *testEnv) must(want int, method, path string, body any) resp {
	e.t.Helper()
	r := e.call(method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r
}

// waitFor polls cond (bounded) until it returns true.
func (e *testEnv) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

func (e *testEnv) task(job, task string) map[string]any {
	e.t.Helper()
	return e.must(http.StatusOK, "GET", "/jobs/"+job+"/tasks/"+task, nil).json(e.t)
}

func (e *testEnv) waitTaskState(job, task, want string, timeout time.Duration) map[string]any {
	e.t.Helper()
	var last map[string]any
	e.waitFor(fmt.Sprintf("task %s/%s %s", job, task, want), timeout, func() bool {
		last = e.task(job, task)
		return last["state"] == want
	})
	return last
}

func pool(id string, dedicated int) map[string]any {
	return map[string]any{
		"id": id, "vmSize": "STANDARD_D2S_V3",
		"virtualMachineConfiguration": map[string]any{
			"imageReference": map[string]any{"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
			"nodeAgentSKUId": "batch.node.ubuntu 24.04",
		},
		"targetDedicatedNodes": dedicated,
	}
}

// lookupPath reads a nested value such as "executionInfo/exitCode".
func lookupPath(m map[string]any, p string) any {
	var cur any = m
	for _, part := range strings.Split(p, "/") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

// fakeClock is a settable clock for tests that need control over time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
