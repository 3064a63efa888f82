package funchost

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 12, 3, 10, 123456700, time.UTC)

func TestTimerPayloadGolden(t *testing.T) {
	fn := `{"bindings": [{"name": "myTimer", "type": "timerTrigger", "direction": "in", "schedule": "0 */5 * * * *", "runOnStartup": true}]}`
	a := newTestApp(t, basicHostJSON, map[string]string{"Sweeper": fn}, nil)
	opts := testOptions(a, newLogCapture())
	opts.Now = fixedClock(testNow)
	h := startHost(t, opts)
	waitFor(t, "the startup run", 5*time.Second, func() bool { return len(a.requests(t, "/Sweeper")) == 1 })
	waitFor(t, "the stored status", 5*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(a.state, "timers", "Sweeper", "status.json"))
		return err == nil
	})
	if err := h.RunFunction(context.Background(), "Sweeper"); err != nil {
		t.Fatal(err)
	}
	reqs := a.requests(t, "/Sweeper")
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	// The startup run: no previous run (Last and LastUpdated are DateTime.MinValue).
	checkGolden(t, "timer_first", reqs[0].Body)
	// The manual run after it: Last is the startup run.
	checkGolden(t, "timer_second", reqs[1].Body)
	checkInvocationHeaders(t, reqs)
}

// checkInvocationHeaders checks the host headers and that every invocation
// has its own id.
func checkInvocationHeaders(t *testing.T, reqs []fakeRecord) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range reqs {
		id := r.Headers["X-Azure-Functions-Invocationid"]
		if !uuidPattern.MatchString(id) {
			t.Errorf("X-Azure-Functions-InvocationId = %q, want a UUID", id)
		}
		if seen[id] {
			t.Errorf("invocation id %s reused", id)
		}
		seen[id] = true
		if got := r.Headers["Content-Type"]; got != "application/json; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := r.Headers["User-Agent"]; !strings.HasPrefix(got, "Azure-Functions-Host/") {
			t.Errorf("User-Agent = %q", got)
		}
		if r.Headers["X-Azure-Functions-Hostversion"] == "" {
			t.Errorf("no X-Azure-Functions-HostVersion header")
		}
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
	}
}

func TestTimerRunOnStartup(t *testing.T) {
	fn := `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "0 0 0 1 1 *", "runOnStartup": true}]}`
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": fn}, nil)
	startHost(t, testOptions(a, newLogCapture()))
	waitFor(t, "the startup run", 5*time.Second, func() bool { return len(a.requests(t, "/Tick")) == 1 })
	var body struct {
		Data struct {
			T timerInfo `json:"t"`
		}
	}
	if err := json.Unmarshal(a.requests(t, "/Tick")[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Data.T.IsPastDue {
		t.Errorf("IsPastDue = true on a runOnStartup run")
	}
}

func TestTimerPastDueAfterDowntime(t *testing.T) {
	fn := `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "0 0 * * * *"}]}`
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": fn}, nil)
	// A status left behind by an earlier run whose next occurrence passed.
	status := scheduleStatus{Last: testNow.Add(-2 * time.Hour), Next: testNow.Add(-time.Hour), LastUpdated: testNow.Add(-2 * time.Hour)}
	if err := writeJSONFile(filepath.Join(a.state, "timers", "Tick", "status.json"), status); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(a, newLogCapture())
	opts.Now = fixedClock(testNow)
	startHost(t, opts)
	waitFor(t, "the past-due run", 5*time.Second, func() bool { return len(a.requests(t, "/Tick")) == 1 })
	checkGolden(t, "timer_past_due", a.requests(t, "/Tick")[0].Body)
	raw, err := os.ReadFile(filepath.Join(a.state, "timers", "Tick", "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	var after scheduleStatus
	if err := json.Unmarshal(raw, &after); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC); !after.Next.Equal(want) || !after.Last.Equal(testNow) {
		t.Errorf("status after the run = %+v, want Last %s and Next %s", after, testNow, want)
	}
}

func TestTimerFiresOnSchedule(t *testing.T) {
	t.Parallel()
	fn := `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "* * * * * *"}]}`
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": fn}, nil)
	startHost(t, testOptions(a, newLogCapture()))
	waitFor(t, "a scheduled run", 3*time.Second, func() bool { return len(a.requests(t, "/Tick")) >= 1 })
	var body struct {
		Data struct {
			T map[string]any `json:"t"`
		}
	}
	if err := json.Unmarshal(a.requests(t, "/Tick")[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	// Schedules firing more often than once a minute are not monitored.
	if v, ok := body.Data.T["ScheduleStatus"]; !ok || v != nil {
		t.Errorf("ScheduleStatus = %v (present %v), want null", v, ok)
	}
}

func TestAdminInvoke(t *testing.T) {
	fns := map[string]string{
		"Tick":  timerFunction,
		"Hello": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "res", "type": "http", "direction": "out"}]}`,
	}
	a := newTestApp(t, basicHostJSON, fns, nil)
	h := startHost(t, testOptions(a, newLogCapture()))
	base := "http://" + h.Addr()
	tests := []struct {
		name   string
		path   string
		body   string
		status int
	}{
		{name: "timer runs", path: "/admin/functions/Tick", body: `{"input": ""}`, status: http.StatusAccepted},
		{name: "case-insensitive name", path: "/admin/functions/tick", body: `{}`, status: http.StatusAccepted},
		{name: "unknown function", path: "/admin/functions/Nope", body: `{"input": ""}`, status: http.StatusNotFound},
		{name: "body not JSON", path: "/admin/functions/Tick", body: `input`, status: http.StatusBadRequest},
		{name: "http function", path: "/admin/functions/Hello", body: `{"input": ""}`, status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := keyClient(h).Post(base+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("POST %s = %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
		})
	}
	waitFor(t, "two admin runs", 5*time.Second, func() bool { return len(a.requests(t, "/Tick")) == 2 })
}

func TestDisabledFunctionsAndAllowList(t *testing.T) {
	hostJSON := `{"version": "2.0", "functions": ["Tick", "Hello"], "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`
	startup := `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "0 0 0 1 1 *", "runOnStartup": true}]}`
	fns := map[string]string{
		"Tick":    startup,
		"Hello":   `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "res", "type": "http", "direction": "out"}], "disabled": true}`,
		"Ignored": startup,
	}
	a := newTestApp(t, hostJSON, fns, map[string]string{"AzureWebJobs.Tick.Disabled": "true"})
	h := startHost(t, testOptions(a, newLogCapture()))
	if got := h.Functions(); len(got) != 2 || got[0] != "Hello" || got[1] != "Tick" {
		t.Errorf("Functions() = %q, want only the host.json allow-list", got)
	}
	resp, err := keyClient(h).Get("http://" + h.Addr() + "/api/Hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET a disabled HTTP function = %d, want 404", resp.StatusCode)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(a.requests(t, "/Tick")) + len(a.requests(t, "/Ignored")); n != 0 {
		t.Errorf("%d runOnStartup invocations of disabled or unlisted timers, want 0", n)
	}
	// A disabled function can still be run by hand, as in Azure.
	if err := h.RunFunction(context.Background(), "Tick"); err != nil {
		t.Fatalf("RunFunction of a disabled timer: %v", err)
	}
}
