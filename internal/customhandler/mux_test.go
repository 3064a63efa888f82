package customhandler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := NewMux(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	mux.Handle("Echo", HandlerFunc(func(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
		ev, err := req.EventGrid("event")
		if err != nil {
			return nil, err
		}
		resp := &InvokeResponse{}
		resp.Logf("got %s for %s", ev.EventType, InvocationID(ctx))
		return resp, nil
	}))
	mux.Handle("Fail", HandlerFunc(func(context.Context, *InvokeRequest) (*InvokeResponse, error) {
		return nil, errors.New("transient batch failure")
	}))
	mux.Handle("Panic", HandlerFunc(func(context.Context, *InvokeRequest) (*InvokeResponse, error) {
		panic("boom")
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestMux(t *testing.T) {
	srv := newTestServer(t)
	fixture, err := os.ReadFile(filepath.Join("testdata", "eventgrid_blobcreated_object.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantLog    string
	}{
		{"readiness", http.MethodGet, "/", "", http.StatusOK, ""},
		{"invoke", http.MethodPost, "/Echo", string(fixture), http.StatusOK, "got Microsoft.Storage.BlobCreated for inv-1"},
		{"handler error is 500", http.MethodPost, "/Fail", `{"Data":{},"Metadata":{}}`, http.StatusInternalServerError, "transient batch failure"},
		{"panic is 500", http.MethodPost, "/Panic", `{"Data":{},"Metadata":{}}`, http.StatusInternalServerError, "handler panic: boom"},
		{"bad body is 400", http.MethodPost, "/Echo", `{"Data":`, http.StatusBadRequest, "invalid invocation body"},
		{"decode error is 500", http.MethodPost, "/Echo", `{"Data":{"event":"hello"}}`, http.StatusInternalServerError, "event grid trigger"},
		{"unknown function", http.MethodPost, "/Nope", `{}`, http.StatusNotFound, ""},
		{"GET on a function", http.MethodGet, "/Echo", "", http.StatusMethodNotAllowed, ""},
		{"api prefix is not a route", http.MethodPost, "/api/Echo", `{}`, http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("X-Azure-Functions-InvocationId", "inv-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if resp.StatusCode >= 404 && resp.StatusCode != http.StatusInternalServerError {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if tc.wantLog == "" {
				return
			}
			var out InvokeResponse
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatalf("decode response: %v", err)
			}
			if len(out.Logs) == 0 || !strings.Contains(out.Logs[0], tc.wantLog) {
				t.Errorf("Logs = %q, want containing %q", out.Logs, tc.wantLog)
			}
			if out.Outputs == nil {
				t.Errorf("Outputs is null; the host expects an object")
			}
		})
	}
}
