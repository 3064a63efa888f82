package batchemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/auth"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

// capturedRequest is one request recorded from @azure/batch 10.2.0 or
// azure-batch 13.0.1 (testdata/captures, signed with account "devaccount"
// and key base64("secretkey0123456789")).
type capturedRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func loadCaptures(t *testing.T) map[string][]capturedRequest {
	t.Helper()
	files, err := filepath.Glob("testdata/captures/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures found: %v", err)
	}
	out := map[string][]capturedRequest{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var reqs []capturedRequest
		if err := json.Unmarshal(b, &reqs); err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		out[filepath.Base(f)] = reqs
	}
	return out
}

func (c capturedRequest) httpRequest(t *testing.T) *http.Request {
	t.Helper()
	r, err := http.NewRequest(c.Method, "http://127.0.0.1"+c.URL, strings.NewReader(c.Body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	// Server-side view: the header map exactly as received.
	r.Header = http.Header{}
	for k, v := range c.Headers {
		r.Header.Set(k, v)
	}
	return r
}

func TestSharedKeyCaptures(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("secretkey0123456789"))
	good, err := auth.New("devaccount", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := auth.New("devaccount", base64.StdEncoding.EncodeToString([]byte("another-key")), nil)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for file, reqs := range loadCaptures(t) {
		for i, c := range reqs {
			t.Run(file+"/"+c.Method+c.URL, func(t *testing.T) {
				date, err := http.ParseTime(c.Headers["ocp-date"])
				if err != nil {
					t.Fatalf("capture %d has no ocp-date: %v", i, err)
				}
				if e := good.Check(c.httpRequest(t), date.Add(time.Minute)); e != nil {
					t.Errorf("valid signature rejected: %v", e.Values)
				}
				if e := wrongKey.Check(c.httpRequest(t), date); e == nil || e.Code != wireerr.CodeAuthenticationFailed {
					t.Errorf("wrong key: got %v, want AuthenticationFailed", e)
				}
				if e := good.Check(c.httpRequest(t), date.Add(16*time.Minute)); e == nil || e.Code != wireerr.CodeAuthenticationFailed {
					t.Errorf("skewed date: got %v, want AuthenticationFailed", e)
				}
				tampered := c.httpRequest(t)
				tampered.URL.Path += "x"
				tampered.URL.RawPath = ""
				if e := good.Check(tampered, date); e == nil {
					t.Errorf("tampered path accepted")
				}
			})
			total++
		}
	}
	if total < 17 {
		t.Errorf("verified %d captured requests, want at least 17", total)
	}
}

func TestAuthOverHTTP(t *testing.T) {
	env := startServer(t, nil)
	tests := []struct {
		name       string
		hdr        map[string]string
		wantStatus int
	}{
		{"signed", nil, http.StatusOK},
		{"bearer token refused without a token key", map[string]string{"Authorization": "Bearer eyJhbGciOi.x.y"}, http.StatusForbidden},
		{"any bearer string refused", map[string]string{"Authorization": "Bearer emulator"}, http.StatusForbidden},
		{"missing authorization", map[string]string{"Authorization": "-"}, http.StatusForbidden},
		{"wrong signature", map[string]string{"Authorization": "SharedKey devbatch:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, http.StatusForbidden},
		{"wrong account", map[string]string{"Authorization": "SharedKey other:AAAA"}, http.StatusForbidden},
		{"unknown scheme", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.callWith("GET", "/pools", nil, tc.hdr)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus == http.StatusForbidden {
				if r.code() != wireerr.CodeAuthenticationFailed {
					t.Errorf("code %q, want AuthenticationFailed", r.code())
				}
				m := r.json(t)
				if !strings.Contains(m["odata.metadata"].(string), "Container.errors/@Element") {
					t.Errorf("odata.metadata = %v", m["odata.metadata"])
				}
				msg := m["message"].(map[string]any)
				if msg["lang"] != "en-US" || !strings.Contains(msg["value"].(string), "\nRequestId:") {
					t.Errorf("message = %v", msg)
				}
			}
		})
	}
}

func TestAuthRejectsSkewedDate(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	env := startServer(t, &Options{Now: clock.Now})
	env.now = func() time.Time { return clock.Now().Add(-20 * time.Minute) }
	r := env.call("GET", "/pools", nil)
	if r.status != http.StatusForbidden || r.code() != wireerr.CodeAuthenticationFailed {
		t.Fatalf("got %d %s, want 403 AuthenticationFailed", r.status, r.code())
	}
}

func TestAPIVersion(t *testing.T) {
	env := startServer(t, nil)
	tests := []struct {
		name     string
		query    string
		status   int
		wantCode string
	}{
		{"2018", "api-version=2018-12-01.8.0", 200, ""},
		{"2022", "api-version=2022-10-01.16.0", 200, ""},
		{"2023", "api-version=2023-05-01.17.0", 200, ""},
		{"2024-02", "api-version=2024-02-01.19.0", 200, ""},
		{"2024-07 with timeOut", "api-version=2024-07-01.20.0&timeOut=30", 200, ""},
		{"2025", "api-version=2025-06-01&timeout=60", 200, ""},
		{"missing", "maxresults=5&api-version=", 400, wireerr.CodeMissingRequiredQueryParameter},
		{"unknown", "api-version=2099-01-01.99.0", 400, wireerr.CodeUnsupportedRequestVersion},
		{"bad timeout", "api-version=2025-06-01&timeout=abc", 400, wireerr.CodeInvalidQueryParameterValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.call("GET", "/pools?"+tc.query, nil)
			if r.status != tc.status || r.code() != tc.wantCode {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.code(), tc.status, tc.wantCode, r.body)
			}
		})
	}
}

// TestBearerTokens: with a token key the emulator accepts the local token
// issuer's tokens for the Batch audience and refuses everything else;
// Shared Key keeps working.
func TestBearerTokens(t *testing.T) {
	key := localtoken.NewKey()
	env := startServer(t, &Options{TokenKey: key})
	issuer, err := localtoken.New(key, env.now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := localtoken.New(localtoken.NewKey(), env.now)
	bearer := func(iss *localtoken.Issuer, aud string, ttl time.Duration) map[string]string {
		tok, _ := iss.Issue(aud, ttl)
		return map[string]string{"Authorization": "Bearer " + tok}
	}
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"shared key", nil, http.StatusOK},
		{"issued token", bearer(issuer, localtoken.AudienceBatch, time.Hour), http.StatusOK},
		{"token of another key", bearer(other, localtoken.AudienceBatch, time.Hour), http.StatusForbidden},
		{"expired token", bearer(issuer, localtoken.AudienceBatch, -time.Hour), http.StatusForbidden},
		{"Service Bus audience", bearer(issuer, localtoken.AudienceServiceBus, time.Hour), http.StatusForbidden},
		{"any string", map[string]string{"Authorization": "Bearer emulator"}, http.StatusForbidden},
		{"empty token", map[string]string{"Authorization": "Bearer "}, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.callWith("GET", "/pools", nil, tc.hdr)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if tc.want == http.StatusForbidden && r.code() != wireerr.CodeAuthenticationFailed {
				t.Errorf("code %q, want AuthenticationFailed", r.code())
			}
		})
	}
	if _, err := NewServer(&Options{TokenKey: []byte("short")}); err == nil {
		t.Error("NewServer accepted a 5-byte token key")
	}
}
