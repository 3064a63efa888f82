package batch

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
)

type capturedRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// TestSignCapturedRequests recomputes the signatures of the requests the
// JS and Python SDKs sent (testdata/captures, copied from the team's
// reference captures) and compares them with what those SDKs sent.
func TestSignCapturedRequests(t *testing.T) {
	files, err := filepath.Glob("testdata/captures/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no capture files: %v", err)
	}
	cred, err := NewSharedKeyCredential(fakeAccount, fakeKey)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var reqs []capturedRequest
		if err := json.Unmarshal(b, &reqs); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, c := range reqs {
			t.Run(filepath.Base(file)+"/"+strconv.Itoa(i)+"_"+c.Method, func(t *testing.T) {
				r, err := http.NewRequest(c.Method, "http://127.0.0.1"+c.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range c.Headers {
					if k != "authorization" {
						r.Header.Set(k, v)
					}
				}
				if cl := c.Headers["content-length"]; cl != "" {
					r.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
				}
				want := strings.TrimPrefix(c.Headers["authorization"], "SharedKey "+fakeAccount+":")
				sts := stringToSign(fakeAccount, r)
				if got := cred.sign(sts); got != want {
					t.Errorf("signature = %s, want %s\nstring to sign: %q", got, want, sts)
				}
			})
			n++
		}
	}
	if n < 17 {
		t.Errorf("checked %d captured requests, want at least 17", n)
	}
}

// TestStringToSignWorkedExamples checks the worked examples of the
// reference notes (batch-rest.md §4).
func TestStringToSignWorkedExamples(t *testing.T) {
	const date = "Fri, 27 Nov 2026 10:48:55 GMT"
	tests := []struct {
		name   string
		method string
		url    string
		header map[string]string
		length int64
		want   string
	}{
		{
			name:   "post with body",
			method: http.MethodPost,
			url:    "/pools?api-version=2022-10-01.16.0",
			header: map[string]string{"Content-Type": "application/json; odata=minimalmetadata; charset=utf-8", "ocp-date": date},
			length: 450,
			want:   "POST\n\n\n450\n\napplication/json; odata=minimalmetadata; charset=utf-8\n\n\n\n\n\n\nocp-date:" + date + "\n/devaccount/pools\napi-version:2022-10-01.16.0",
		},
		{
			name:   "get with filter and select",
			method: http.MethodGet,
			url:    "/jobs/j1/tasks?api-version=2022-10-01.16.0&$filter=state%20eq%20%27completed%27&$select=id%2Cstate&maxresults=10",
			header: map[string]string{"Content-Type": "application/json; charset=utf-8", "ocp-date": date},
			want:   "GET\n\n\n\n\napplication/json; charset=utf-8\n\n\n\n\n\n\nocp-date:" + date + "\n/devaccount/jobs/j1/tasks\n$filter:state eq 'completed'\n$select:id,state\napi-version:2022-10-01.16.0\nmaxresults:10",
		},
		{
			name:   "body-less post signs zero length",
			method: http.MethodPost,
			url:    "/pools/p1/disableautoscale?api-version=2024-07-01.20.0",
			header: map[string]string{"ocp-date": date},
			want:   "POST\n\n\n0\n\n\n\n\n\n\n\n\nocp-date:" + date + "\n/devaccount/pools/p1/disableautoscale\napi-version:2024-07-01.20.0",
		},
		{
			name:   "delete signs empty length; mixed-case query names are lowercased",
			method: http.MethodDelete,
			url:    "/jobs/j1?timeOut=30&api-version=2024-07-01.20.0",
			header: map[string]string{"ocp-date": date},
			want:   "DELETE\n\n\n\n\n\n\n\n\n\n\n\nocp-date:" + date + "\n/devaccount/jobs/j1\napi-version:2024-07-01.20.0\ntimeout:30",
		},
		{
			name:   "date slot used without ocp-date; ocp headers sorted",
			method: http.MethodGet,
			url:    "/pools",
			header: map[string]string{"Date": date, "Ocp-Zeta": "z", "ocp-alpha": "a", "If-Match": "etag"},
			want:   "GET\n\n\n\n\n\n" + date + "\n\netag\n\n\n\nocp-alpha:a\nocp-zeta:z\n/devaccount/pools",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, "http://127.0.0.1"+tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			r.ContentLength = tt.length
			if got := stringToSign(fakeAccount, r); got != tt.want {
				t.Errorf("string to sign:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNewSharedKeyCredentialErrors(t *testing.T) {
	tests := []struct {
		name, account, key, wantErr string
	}{
		{"empty account", "", fakeKey, "account name is empty"},
		{"empty key", "a", "", "account key is empty"},
		{"not base64", "a", "not base64!", "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSharedKeyCredential(tt.account, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.key) && tt.key != "" {
				t.Errorf("error %q quotes the key", err)
			}
		})
	}
}

// TestSharedKeyOnTheWire sends every kind of request through the real
// pipeline to a server that verifies the signature from the headers as
// received, so Content-Length/Content-Type are checked as net/http sends
// them.
func TestSharedKeyOnTheWire(t *testing.T) {
	emu := newEmulated(t)
	c := emu.client(t, batchemu.DefaultAccountKey)
	ctx := context.Background()
	steps := []struct {
		name string
		run  func() error
	}{
		{"post with body", func() error { return c.CreatePool(ctx, emulatedPool("p1")) }},
		{"get", func() error { _, err := c.GetPool(ctx, "p1", &GetOptions{Select: "id,state"}); return err }},
		{"head", func() error { _, err := c.PoolExists(ctx, "p1"); return err }},
		{"body-less post", func() error { return c.DisableAutoScale(ctx, "p1") }},
		{"post job", func() error { return c.CreateJob(ctx, JobAddParameter{ID: "j1", PoolInfo: PoolInfo{PoolID: "p1"}}) }},
		{"delete", func() error { return c.DeletePool(ctx, "p1") }},
		{"patch", func() error {
			return c.PatchJob(ctx, "j1", JobPatchParameter{OnAllTasksComplete: OnAllTasksCompleteTerminateJob})
		}},
		{"list with odata query", func() error {
			_, err := c.NewListTasksPager("j1", &ListOptions{Filter: "state eq 'completed' and startswith(id,'x')", Select: "id,state", MaxResults: 10}).NextPage(ctx)
			return err
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		})
	}
	for _, r := range emu.requests() {
		if r.Method == http.MethodPost && r.ContentLength == "" {
			t.Errorf("%s %s sent no Content-Length", r.Method, r.Path)
		}
	}
}

func TestSharedKeyWrongKey(t *testing.T) {
	c := newEmulated(t).client(t, "d3JvbmdrZXk=") // base64("wrongkey")
	err := c.CreatePool(context.Background(), PoolAddParameter{ID: "p1", VMSize: "x"})
	if !HasCode(err, CodeAuthenticationFailed) || StatusCode(err) != http.StatusForbidden {
		t.Fatalf("err = %v, want 403 %s", err, CodeAuthenticationFailed)
	}
}

// scriptedTransport answers each request with the next status and keeps
// the requests it saw.
type scriptedTransport struct {
	statuses []int
	seen     []*http.Request
}

func (s *scriptedTransport) Do(r *http.Request) (*http.Response, error) {
	s.seen = append(s.seen, r.Clone(r.Context()))
	status := http.StatusOK
	if len(s.seen) <= len(s.statuses) {
		status = s.statuses[len(s.seen)-1]
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// TestSharedKeyPolicySignsEachTry checks that a retried request gets a new
// ocp-date from the injected clock and a signature that matches it.
func TestSharedKeyPolicySignsEachTry(t *testing.T) {
	cred, err := NewSharedKeyCredential(fakeAccount, fakeKey)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 27, 10, 48, 55, 0, time.FixedZone("CET", 3600))
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	tr := &scriptedTransport{statuses: []int{http.StatusServiceUnavailable, http.StatusOK}}
	c, err := newClient("https://acct.region.batch.azure.com", newSharedKeyPolicy(cred, now), ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DisableAutoScale(context.Background(), "p1"); err != nil {
		t.Fatalf("DisableAutoScale: %v", err)
	}
	if len(tr.seen) != 2 {
		t.Fatalf("saw %d tries, want 2", len(tr.seen))
	}
	wantDates := []string{"Fri, 27 Nov 2026 09:48:56 GMT", "Fri, 27 Nov 2026 09:48:57 GMT"}
	for i, r := range tr.seen {
		if got := r.Header.Get("ocp-date"); got != wantDates[i] {
			t.Errorf("try %d: ocp-date = %q, want %q", i, got, wantDates[i])
		}
		want := "SharedKey " + fakeAccount + ":" + cred.sign(stringToSign(fakeAccount, r))
		if got := r.Header.Get("Authorization"); got != want {
			t.Errorf("try %d: Authorization = %q, want %q", i, got, want)
		}
		if got := r.URL.Query().Get("api-version"); got != DefaultAPIVersion {
			t.Errorf("try %d: api-version = %q, want %q", i, got, DefaultAPIVersion)
		}
	}
}
