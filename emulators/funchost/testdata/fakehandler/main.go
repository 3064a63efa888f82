// Command fakehandler is a tiny custom handler for the funchost tests. It
// listens on FUNCTIONS_CUSTOMHANDLER_PORT, appends every request it gets to
// the JSON-lines file FAKE_RECORD, and behaves as FAKE_CONFIG (a JSON file
// re-read on every request) says, so tests can make it fail, hang or exit.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// config is FAKE_CONFIG. Keys of the maps are function names (URL paths
// without the leading slash).
type config struct {
	// StartExitTimes makes the first N starts (counted in FAKE_STATE_DIR)
	// exit with StartExitCode before listening.
	StartExitTimes int `json:"startExitTimes"`
	StartExitCode  int `json:"startExitCode"`
	// StartDelay delays listening.
	StartDelay string `json:"startDelay"`
	// Status answers with this status code.
	Status map[string]int `json:"status"`
	// FailTimes answers 500 to the first N calls (per process).
	FailTimes map[string]int `json:"failTimes"`
	// Sleep waits before answering.
	Sleep map[string]string `json:"sleep"`
	// SleepFirst sleeps only in the first process generation (start 1).
	SleepFirst map[string]string `json:"sleepFirst"`
	// ContentType overrides application/json.
	ContentType map[string]string `json:"contentType"`
	// Body replaces the whole response body.
	Body map[string]string `json:"body"`
	// Exit exits the process with this code instead of answering.
	Exit map[string]int `json:"exit"`
}

type record struct {
	Kind    string            `json:"kind"` // "start" or "request"
	PID     int               `json:"pid"`
	Start   int               `json:"start"`
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path,omitempty"`
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	RawBody string            `json:"rawBody,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Cwd     string            `json:"cwd,omitempty"`
}

var (
	mu     sync.Mutex
	calls  = map[string]int{}
	starts int
)

func main() {
	cfg := load()
	starts = countStart()
	cwd, _ := os.Getwd()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FUNCTIONS_") || strings.HasPrefix(k, "APP_") || k == "AzureWebJobsStorage" || k == "SHELL_ONLY" {
			env[k] = v
		}
	}
	write(record{Kind: "start", PID: os.Getpid(), Start: starts, Env: env, Args: os.Args[1:], Cwd: cwd})
	fmt.Println("fakehandler starting")
	fmt.Fprintln(os.Stderr, "warning: this is a fake handler")
	if starts <= cfg.StartExitTimes {
		fmt.Fprintln(os.Stderr, "fakehandler: exiting at start as configured")
		os.Exit(cfg.StartExitCode)
	}
	if d, err := time.ParseDuration(cfg.StartDelay); err == nil {
		time.Sleep(d)
	}
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	http.HandleFunc("/", handle)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fakehandler:", err)
		os.Exit(2)
	}
}

func load() config {
	var c config
	if p := os.Getenv("FAKE_CONFIG"); p != "" {
		if raw, err := os.ReadFile(p); err == nil {
			_ = json.Unmarshal(raw, &c)
		}
	}
	return c
}

func countStart() int {
	dir := os.Getenv("FAKE_STATE_DIR")
	if dir == "" {
		return 1
	}
	p := filepath.Join(dir, "starts")
	raw, _ := os.ReadFile(p)
	n, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	n++
	_ = os.WriteFile(p, []byte(strconv.Itoa(n)), 0o644)
	return n
}

func write(r record) {
	p := os.Getenv("FAKE_RECORD")
	if p == "" {
		return
	}
	line, _ := json.Marshal(r)
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	cfg := load()
	name := strings.TrimPrefix(r.URL.Path, "/")
	body, _ := io.ReadAll(r.Body)
	rec := record{Kind: "request", PID: os.Getpid(), Start: starts, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: map[string]string{}}
	for k := range r.Header {
		rec.Headers[k] = r.Header.Get(k)
	}
	if json.Valid(body) && len(body) > 0 {
		rec.Body = body
	} else {
		rec.RawBody = string(body)
	}
	write(rec)

	if code, ok := cfg.Exit[name]; ok {
		os.Exit(code)
	}
	mu.Lock()
	calls[name]++
	n := calls[name]
	mu.Unlock()
	if d, err := time.ParseDuration(cfg.Sleep[name]); err == nil {
		time.Sleep(d)
	}
	if d, err := time.ParseDuration(cfg.SleepFirst[name]); err == nil && starts == 1 {
		time.Sleep(d)
	}
	if strings.HasPrefix(name, "api/") {
		// forwarded HTTP request: echo it
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Fake", "forwarded")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body), "invocationId": r.Header.Get("X-Azure-Functions-InvocationId")})
		return
	}
	ct := "application/json"
	if v, ok := cfg.ContentType[name]; ok {
		ct = v
	}
	w.Header().Set("Content-Type", ct)
	status := http.StatusOK
	if s, ok := cfg.Status[name]; ok {
		status = s
	}
	if n <= cfg.FailTimes[name] {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	if b, ok := cfg.Body[name]; ok {
		_, _ = io.WriteString(w, b)
		return
	}
	resp := map[string]any{
		"Outputs":     map[string]any{"res": map[string]any{"statusCode": 201, "body": "hello " + name, "headers": map[string]string{"X-From": "handler"}}},
		"Logs":        []string{"log from " + name},
		"ReturnValue": nil,
	}
	_ = json.NewEncoder(w).Encode(resp)
}
