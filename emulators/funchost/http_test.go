package funchost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const itemsFunction = `{"bindings": [
  {"name": "req", "type": "httpTrigger", "direction": "in", "authLevel": "function", "methods": ["get", "post"], "route": "items/{id}"},
  {"name": "res", "type": "http", "direction": "out"}]}`

func TestHTTPTriggerEnvelope(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Items": itemsFunction}, nil)
	opts := testOptions(a, newLogCapture())
	opts.Now = fixedClock(testNow)
	h := startHost(t, opts)

	req, _ := http.NewRequest(http.MethodPost, "http://"+h.Addr()+"/api/items/42?size=large&tag=a&tag=b", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom", "v1")
	resp, err := keyClient(h).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || string(body) != "hello Items" || resp.Header.Get("X-From") != "handler" {
		t.Errorf("response = %d %q (X-From %q), want 201 \"hello Items\" from Outputs.res", resp.StatusCode, body, resp.Header.Get("X-From"))
	}
	reqs := a.requests(t, "/Items")
	if len(reqs) != 1 {
		t.Fatalf("handler got %d requests on /Items, want 1", len(reqs))
	}
	// Drop headers Go's client adds that vary by version.
	var env map[string]any
	if err := json.Unmarshal(reqs[0].Body, &env); err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"Data", "Metadata"} {
		m := env[part].(map[string]any)
		if part == "Data" {
			m = m["req"].(map[string]any)
		}
		hdr := m["Headers"].(map[string]any)
		for k := range hdr {
			if k == "User-Agent" || k == "Accept-Encoding" || k == "Content-Length" || k == "X-Functions-Key" {
				delete(hdr, k)
			}
		}
	}
	cleaned, _ := json.Marshal(env)
	checkGolden(t, "http_envelope", cleaned)
	checkInvocationHeaders(t, reqs)
}

func TestHTTPTriggerRouting(t *testing.T) {
	fns := map[string]string{
		"Items":  itemsFunction,
		"Status": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in", "methods": ["GET"]}, {"name": "$return", "type": "http", "direction": "out"}]}`,
		"Fail":   `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "res", "type": "http", "direction": "out"}]}`,
		"Text":   `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "res", "type": "http", "direction": "out"}]}`,
	}
	a := newTestApp(t, basicHostJSON, fns, nil)
	a.setConfig(t, `{"status": {"Fail": 500}, "contentType": {"Text": "text/plain"},
	  "body": {"Status": "{\"ReturnValue\": {\"status\": \"202\", \"body\": {\"state\": \"queued\"}}}"}}`)
	logs := newLogCapture()
	h := startHost(t, testOptions(a, logs))
	base := "http://" + h.Addr()
	tests := []struct {
		name     string
		method   string
		path     string
		status   int
		wantBody string
	}{
		{name: "route with parameter", method: http.MethodGet, path: "/api/items/7", status: http.StatusCreated, wantBody: "hello Items"},
		{name: "route is case-insensitive", method: http.MethodGet, path: "/API/Items/7", status: http.StatusCreated, wantBody: "hello Items"},
		{name: "method not allowed", method: http.MethodDelete, path: "/api/items/7", status: http.StatusNotFound},
		{name: "default route is the function name", method: http.MethodGet, path: "/api/Status", status: http.StatusAccepted, wantBody: `{"state":"queued"}`},
		{name: "no route prefix", method: http.MethodGet, path: "/Status", status: http.StatusNotFound},
		{name: "unknown route", method: http.MethodGet, path: "/api/nothing", status: http.StatusNotFound},
		{name: "handler 500 fails the invocation", method: http.MethodGet, path: "/api/Fail", status: http.StatusInternalServerError},
		{name: "non-JSON reply fails the invocation", method: http.MethodGet, path: "/api/Text", status: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, nil)
			resp, err := keyClient(h).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
	if got := logs.find("log from Items"); len(got) == 0 {
		t.Errorf("Logs of a successful invocation not echoed; logs:\n%s", logs.dump())
	}
	if got := logs.find("log from Fail"); len(got) != 0 {
		t.Errorf("Logs of a failed (non-2xx) invocation were echoed: %q", got)
	}
	if got := logs.find("Executed 'Functions.Fail' (Failed", "response status code does not indicate success: 500"); len(got) == 0 {
		t.Errorf("failure of Fail not logged; logs:\n%s", logs.dump())
	}
	if got := logs.find("Executed 'Functions.Text' (Failed", "is not JSON"); len(got) == 0 {
		t.Errorf("failure of Text not logged; logs:\n%s", logs.dump())
	}
}

func TestHTTPForwarding(t *testing.T) {
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}, "enableForwardingHttpRequest": true}}`
	fns := map[string]string{
		"Echo": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in", "route": "echo/{*rest}"}, {"name": "res", "type": "http", "direction": "out"}]}`,
		// Without an http output the function is not "HTTP in and out": no forwarding.
		"NoOut": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}]}`,
	}
	a := newTestApp(t, hostJSON, fns, nil)
	h := startHost(t, testOptions(a, newLogCapture()))
	resp, err := keyClient(h).Post("http://"+h.Addr()+"/api/echo/a/b?q=1", "text/plain", strings.NewReader("raw body"))
	if err != nil {
		t.Fatal(err)
	}
	var echo map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Fake") != "forwarded" {
		t.Errorf("response %d X-Fake=%q, want the handler's raw 201 response", resp.StatusCode, resp.Header.Get("X-Fake"))
	}
	want := map[string]string{"method": "POST", "path": "/api/echo/a/b", "query": "q=1", "body": "raw body"}
	for k, v := range want {
		if echo[k] != v {
			t.Errorf("forwarded %s = %q, want %q", k, echo[k], v)
		}
	}
	if !uuidPattern.MatchString(echo["invocationId"]) {
		t.Errorf("forwarded request has invocation id %q, want a UUID", echo["invocationId"])
	}

	resp, err = keyClient(h).Get("http://" + h.Addr() + "/api/NoOut")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("GET /api/NoOut = %d, want 204 (enveloped, no http output)", resp.StatusCode)
	}
	if n := len(a.requests(t, "/NoOut")); n != 1 {
		t.Errorf("handler got %d enveloped requests on /NoOut, want 1", n)
	}
}

func TestHostStatus(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	h := startHost(t, testOptions(a, newLogCapture()))
	resp, err := keyClient(h).Get("http://" + h.Addr() + "/admin/host/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st hostStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || st.State != "Running" {
		t.Errorf("status = %d %+v, want 200 Running", resp.StatusCode, st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.RunFunction(ctx, "Nope"); err == nil {
		t.Error("RunFunction of an unknown function succeeded")
	}
}

func TestHTTPMaxConcurrentRequests(t *testing.T) {
	t.Parallel()
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"http": {"maxConcurrentRequests": 1}}}`
	fn := `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "res", "type": "http", "direction": "out"}]}`
	a := newTestApp(t, hostJSON, map[string]string{"Slow": fn}, nil)
	a.setConfig(t, `{"sleep": {"Slow": "200ms"}}`)
	h := startHost(t, testOptions(a, newLogCapture()))
	start := time.Now()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			resp, err := keyClient(h).Get("http://" + h.Addr() + "/api/Slow")
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// One at a time: three 200ms invocations take at least 600ms.
	if elapsed := time.Since(start); elapsed < 600*time.Millisecond {
		t.Errorf("three requests took %s with maxConcurrentRequests 1, want at least 600ms", elapsed)
	}
}
