package batch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
)

func TestNewClientEndpointValidation(t *testing.T) {
	cred, _ := NewSharedKeyCredential(fakeAccount, fakeKey)
	allowHTTP := &ClientOptions{ClientOptions: azcore.ClientOptions{InsecureAllowCredentialWithHTTP: true}}
	tests := []struct {
		name     string
		endpoint string
		opts     *ClientOptions
		want     string // endpoint, when no error
		wantErr  string
	}{
		{name: "https", endpoint: "https://acct.westeurope.batch.azure.com/", want: "https://acct.westeurope.batch.azure.com"},
		{name: "http allowed", endpoint: "http://127.0.0.1:8080", opts: allowHTTP, want: "http://127.0.0.1:8080"},
		{name: "http refused by default", endpoint: "http://127.0.0.1:8080", wantErr: "InsecureAllowCredentialWithHTTP"},
		{name: "empty", endpoint: "", wantErr: "endpoint is empty"},
		{name: "no scheme", endpoint: "acct.batch.azure.com", wantErr: "scheme must be https"},
		{name: "no host", endpoint: "https://", wantErr: "has no host"},
		{name: "query", endpoint: "https://a.b?x=1", wantErr: "query or fragment"},
		{name: "user info", endpoint: "https://u:p@a.b", wantErr: "user information"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewSharedKeyClient(tt.endpoint, cred, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), ":p@") {
					t.Errorf("error %q leaks the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint() != tt.want {
				t.Errorf("endpoint = %q, want %q", c.Endpoint(), tt.want)
			}
		})
	}
	if _, err := NewSharedKeyClient("https://a.b", nil, nil); err == nil {
		t.Error("nil credential: want an error")
	}
	if _, err := NewClient("https://a.b", nil, nil); err == nil {
		t.Error("nil token credential: want an error")
	}
}

// fakeToken is a hand-written azcore.TokenCredential that records scopes.
type fakeToken struct{ scopes []string }

func (f *fakeToken) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.scopes = append(f.scopes, o.Scopes...)
	return azcore.AccessToken{Token: "tok", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestEntraClient(t *testing.T) {
	tr := &scriptedTransport{}
	cred := &fakeToken{}
	c, err := NewClient("https://acct.region.batch.azure.com", cred, &ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport:  tr,
		APIVersion: "2025-06-01",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DisableAutoScale(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	if len(cred.scopes) != 1 || cred.scopes[0] != "https://batch.core.windows.net//.default" {
		t.Errorf("scopes = %q, want the Batch scope with a double slash", cred.scopes)
	}
	r := tr.seen[0]
	if got := r.Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.URL.Query().Get("api-version"); got != "2025-06-01" {
		t.Errorf("api-version = %q, want the configured 2025-06-01", got)
	}
}

func TestEntraClientHTTPNeedsOption(t *testing.T) {
	if _, err := NewClient("http://127.0.0.1:1", &fakeToken{}, nil); err == nil {
		t.Fatal("plain HTTP without the option: want an error")
	}
	tr := &scriptedTransport{}
	c, err := NewClient("http://127.0.0.1:1", &fakeToken{}, &ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: tr, InsecureAllowCredentialWithHTTP: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DisableAutoScale(context.Background(), "p1"); err != nil {
		t.Fatalf("with the option: %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	c := newEmulated(t).client(t, batchemu.DefaultAccountKey)
	ctx := context.Background()
	if err := c.CreatePool(ctx, emulatedPool("p1")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		run          func() error
		wantCode     string
		wantStatus   int
		wantOp       string
		wantValueKey string // key of the first error detail ("": none)
	}{
		{"pool exists", func() error { return c.CreatePool(ctx, emulatedPool("P1")) }, CodePoolExists, 409, "create pool P1", ""},
		{"pool not found", func() error { _, err := c.GetPool(ctx, "nope", nil); return err }, CodePoolNotFound, 404, "get pool nope", ""},
		{"job not found", func() error { _, err := c.GetJob(ctx, "nope", nil); return err }, CodeJobNotFound, 404, "get job nope", ""},
		{"invalid id", func() error { return c.CreatePool(ctx, emulatedPool("no spaces")) },
			CodeInvalidPropertyValue, 400, "create pool no spaces", "PropertyName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !HasCode(err, tt.wantCode) {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", StatusCode(err), tt.wantStatus)
			}
			if !strings.HasPrefix(err.Error(), tt.wantOp) {
				t.Errorf("error %q does not start with the operation %q", err, tt.wantOp)
			}
			be, ok := AsError(err)
			if !ok || be.Code != tt.wantCode || !strings.Contains(be.MessageText(), "RequestId:") {
				t.Errorf("AsError = %+v, %v", be, ok)
			}
			if got := firstValueKey(be); got != tt.wantValueKey {
				t.Errorf("first error detail key = %q, want %q (details %+v)", got, tt.wantValueKey, be.Values)
			}
		})
	}
	if HasCode(errors.New("x"), CodePoolExists) || HasCode(nil, CodePoolExists) {
		t.Error("HasCode on a non-response error must be false")
	}
	if _, ok := AsError(errors.New("x")); ok {
		t.Error("AsError on a non-response error must be false")
	}
}

func TestEmptyIDsRejected(t *testing.T) {
	f := newFakeBatch(t)
	c := f.client(t, fakeKey)
	ctx := context.Background()
	checks := map[string]error{
		"create pool": c.CreatePool(ctx, PoolAddParameter{}),
		"get pool":    func() error { _, err := c.GetPool(ctx, "", nil); return err }(),
		"delete job":  c.DeleteJob(ctx, ""),
		"get task":    func() error { _, err := c.GetTask(ctx, "j", "", nil); return err }(),
		"terminate":   c.TerminateTask(ctx, "", "t"),
		"collection":  func() error { _, err := c.AddTaskCollection(ctx, "j", nil); return err }(),
		"list nodes":  func() error { _, err := c.NewListNodesPager("", nil).NextPage(ctx); return err }(),
		"list tasks":  func() error { _, err := c.NewListTasksPager("", nil).NextPage(ctx); return err }(),
	}
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s: want an error for an empty id", name)
		}
	}
	if reqs := f.recorded(); len(reqs) != 0 {
		t.Errorf("%d requests reached the service, want none: %+v", len(reqs), reqs)
	}
}

func firstValueKey(e *Error) string {
	if e == nil || len(e.Values) == 0 {
		return ""
	}
	return e.Values[0].Key
}

func TestPoolExists(t *testing.T) {
	emu := newEmulated(t)
	c := emu.client(t, batchemu.DefaultAccountKey)
	ctx := context.Background()
	if ok, err := c.PoolExists(ctx, "p1"); err != nil || ok {
		t.Fatalf("before create: %v, %v; want false, nil", ok, err)
	}
	if err := c.CreatePool(ctx, emulatedPool("p1")); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.PoolExists(ctx, "p1"); err != nil || !ok {
		t.Fatalf("after create: %v, %v; want true, nil", ok, err)
	}
	bad := emu.client(t, "d3JvbmdrZXk=")
	if _, err := bad.PoolExists(ctx, "p1"); StatusCode(err) != http.StatusForbidden {
		t.Fatalf("wrong key: err = %v, want a 403 error", err)
	}
}

func TestReadModelsDecode(t *testing.T) {
	f := newFakeBatch(t)
	c := f.client(t, fakeKey)
	ctx := context.Background()
	in := PoolAddParameter{ID: "p1", VMSize: "standard_a1_v2", TargetDedicatedNodes: ptr[int32](0), TargetLowPriorityNodes: ptr[int32](5),
		ResizeTimeout: ptr(Duration(15 * time.Minute)),
		StartTask: &StartTask{CommandLine: "/bin/sh -c true", WaitForSuccess: ptr(true),
			UserIdentity: &UserIdentity{AutoUser: &AutoUserSpecification{Scope: AutoUserScopePool, ElevationLevel: ElevationLevelAdmin}}}}
	if err := c.CreatePool(ctx, in); err != nil {
		t.Fatal(err)
	}
	body := f.recorded()[0].Body
	for _, want := range []string{`"targetDedicatedNodes":0`, `"targetLowPriorityNodes":5`, `"resizeTimeout":"PT15M"`, `"waitForSuccess":true`, `"scope":"pool"`} {
		if !strings.Contains(body, want) {
			t.Errorf("create body %s lacks %s", body, want)
		}
	}
	p, err := c.GetPool(ctx, "p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != PoolStateActive || p.AllocationState != PoolAllocationStateSteady || p.TargetLowPriorityNodes != 5 ||
		p.CreationTime.Nanosecond() != 123456700 || p.ResizeTimeout == nil || *p.ResizeTimeout != Duration(15*time.Minute) {
		t.Errorf("pool = %+v", p)
	}
	run, err := c.EvaluateAutoScale(ctx, "p1", "$TargetDedicatedNodes=2;")
	if err != nil {
		t.Fatal(err)
	}
	if run.Results != "$TargetDedicatedNodes=2;$NodeDeallocationOption=requeue" || run.Timestamp.IsZero() {
		t.Errorf("autoscale run = %+v", run)
	}
	if _, err := c.EvaluateAutoScale(ctx, "p1", ""); err == nil {
		t.Error("empty formula: want an error")
	}
}

func ptr[T any](v T) *T { return &v }
