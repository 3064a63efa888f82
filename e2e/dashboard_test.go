package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
	"github.com/ffbatch/ffbatch/internal/statusapi"
	"github.com/ffbatch/ffbatch/internal/statusapi/schematest"
)

// chromiumPath is Debian's chromium, which make bootstrap installs.
const chromiumPath = "/usr/bin/chromium"

// dashboardSettings switch SweepPools' timer and TaskFinished off, so a
// task's answer is recorded only when the test runs a sweep (after the
// page has shown the files in flight: on a fast machine the whole path
// takes less than the page's two-second refresh), and keep a pool of two
// nodes for the heat map.
var dashboardSettings = map[string]string{
	"AzureWebJobs.SweepPools.Disabled":   "true",
	"AzureWebJobs.TaskFinished.Disabled": "true",
	"FFBATCH_POOL_IDLE_TIMEOUT":          "10m",
	"FFBATCH_DEDICATED_MIN_NODES":        "2",
	"FFBATCH_DEDICATED_MAX_NODES":        "2",
}

// TestDashboard drives the dashboard in real headless Chromium
// (tools/dashboard-test.mjs on playwright-core) against a local stack: it
// drops two MP4s and a text file named .mp4, sees the rows move to their
// answers without a reload, filters to the failed file and reads its
// reason, checks the markup and keyboard focus, and saves screenshots in
// .local/. It also checks the host's function keys on the two HTTP
// functions and validates the Status API and `ffbatch status --json`
// against docs/schemas/status.schema.json.
func TestDashboard(t *testing.T) {
	node := browserTools(t)
	p := startPipeline(t, dashboardSettings)
	checkKeys(t, p.ep)

	shots := filepath.Join(repoDir, ".local")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	good := []string{"dash/clip-a.mp4", "dash/clip-b.mp4"}
	bad := "dash/notes.mp4"
	arg, _ := json.Marshal(map[string]any{"url": p.ep.DashboardURL(), "good": good, "bad": bad,
		"screenshot": filepath.Join(shots, "dashboard.png"), "phoneScreenshot": filepath.Join(shots, "dashboard-phone.png")})

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(repoDir, "tools", "dashboard-test.mjs"), string(arg))
	cmd.Dir = filepath.Join(repoDir, "tools")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the browser driver: %v", err)
	}
	sweepCtx, stopSweeps := context.WithCancel(ctx)
	sweeping := make(chan struct{})
	lines := bufio.NewScanner(stdout)
	var out []string
	for lines.Scan() {
		line := lines.Text()
		out = append(out, line)
		switch line {
		case "READY":
			p.upload(good[0], sample(t, "tone2s.mp4"))
			p.upload(good[1], sample(t, "tone3s.mp4"))
			p.upload(bad, []byte("this is a text file, not a video"))
		case "IN-FLIGHT":
			go func() { defer close(sweeping); sweepEverySecond(sweepCtx, p.ep) }()
		}
	}
	err = cmd.Wait()
	stopSweeps()
	if slices.Contains(out, "IN-FLIGHT") {
		<-sweeping // no sweep is left running when the stack stops
	}
	if err != nil || len(out) == 0 || out[len(out)-1] != "PASS" {
		t.Fatalf("the browser test failed: %v\nstdout:\n%s\nstderr:\n%s", err, strings.Join(out, "\n"), stderr.String())
	}
	t.Logf("browser: %s; screenshots in %s", strings.Join(out, " | "), shots)

	t.Run("Status API answers the schema", func(t *testing.T) {
		body := getStatus(t, p.ep, "?state=failed")
		schematest.Validate(t, body)
		var page statusapi.Page
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Rows) != 1 || page.Rows[0].Blob != bad || !strings.Contains(page.Rows[0].Reason, "ffmpeg") {
			t.Errorf("failed rows = %+v, want %s with an ffmpeg reason", page.Rows, bad)
		}
		schematest.Validate(t, getStatus(t, p.ep, "?blob="+good[0]))
	})

	t.Run("ffbatch status --json", func(t *testing.T) {
		if err := localstack.SaveEndpoints(p.stack.Dir, p.ep); err != nil {
			t.Fatal(err)
		}
		code, stdout, errs := ffbatch(t, p.stack.Dir, "status", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		schematest.Validate(t, []byte(stdout))
		var page statusapi.Page
		if err := json.Unmarshal([]byte(stdout), &page); err != nil {
			t.Fatal(err)
		}
		states := map[string]results.State{}
		for _, r := range page.Rows {
			states[r.Blob] = r.State
		}
		if states[good[0]] != results.StateSucceeded || states[good[1]] != results.StateSucceeded || states[bad] != results.StateFailed {
			t.Errorf("rows by state = %v", states)
		}
		if !page.Queue.Known || page.Pool == nil || len(page.Pool.Nodes) == 0 || page.Activity.Totals.Succeeded != 2 || page.Activity.Totals.Failed != 1 {
			t.Errorf("queue %+v, pool %+v, activity %+v: want the emulator's queue depth, the pool's nodes, 2 successes and 1 failure", page.Queue, page.Pool, page.Activity.Totals)
		}
		// --all follows next: pages of one row, every row in one document.
		code, stdout, errs = ffbatch(t, p.stack.Dir, "status", "--json", "--all", "--limit", "1")
		if code != 0 {
			t.Fatalf("--all: exit %d: %s", code, errs)
		}
		schematest.Validate(t, []byte(stdout))
		var all statusapi.Page
		if err := json.Unmarshal([]byte(stdout), &all); err != nil {
			t.Fatal(err)
		}
		if len(all.Rows) != len(page.Rows) || all.Next != "" || all.Scan.Requests < len(page.Rows) {
			t.Errorf("--all --limit 1: %d rows, next %q, scan %+v; want the %d rows of the page, no next, a request per row", len(all.Rows), all.Next, all.Scan, len(page.Rows))
		}
	})
}

// sweepEverySecond runs SweepPools through the host's admin API until ctx
// ends (its timer is off in this test).
func sweepEverySecond(ctx context.Context, ep localstack.Endpoints) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.FunctionsURL+"/admin/functions/SweepPools", strings.NewReader(`{"input": ""}`))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-functions-key", ep.FunctionsMasterKey)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// browserTools returns node, failing (not skipping) when the browser test's
// tools are missing.
func browserTools(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Debian's chromium is not installed at %s: run make bootstrap (it installs the chromium package)", chromiumPath)
	}
	if _, err := os.Stat(filepath.Join(repoDir, "tools", "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed in tools/node_modules: run make bootstrap")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: run make bootstrap (Node.js 20+ is required)")
	}
	return node
}

// checkKeys: both HTTP functions refuse requests without their key, as the
// real host does, and serve the dashboard with it.
func checkKeys(t *testing.T, ep localstack.Endpoints) {
	t.Helper()
	if ep.FunctionsKey == "" || ep.DashboardKey == "" || ep.FunctionsKey == ep.DashboardKey {
		t.Fatalf("stack endpoints lack distinct keys: host %t, dashboard %t", ep.FunctionsKey != "", ep.DashboardKey != "")
	}
	tests := []struct {
		name, url string
		want      int
	}{
		{"dashboard without a key", ep.FunctionsURL + "/api/dashboard", http.StatusUnauthorized},
		{"dashboard with a wrong key", ep.FunctionsURL + "/api/dashboard?code=nope", http.StatusUnauthorized},
		{"status with the dashboard's key", ep.FunctionsURL + "/api/status?code=" + ep.DashboardKey, http.StatusUnauthorized},
		{"status without a key", ep.FunctionsURL + "/api/status", http.StatusUnauthorized},
		{"dashboard data without a key", ep.FunctionsURL + "/api/dashboard/status", http.StatusUnauthorized},
		{"dashboard data with its key", ep.FunctionsURL + "/api/dashboard/status?code=" + ep.DashboardKey, http.StatusOK},
		{"dashboard with its key", ep.DashboardURL(), http.StatusOK},
	}
	for _, tc := range tests {
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.url == ep.DashboardURL() && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: Content-Type %q", tc.name, resp.Header.Get("Content-Type"))
		}
	}
}

// getStatus calls the Status function with the host key in the header.
func getStatus(t *testing.T, ep localstack.Endpoints, query string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ep.FunctionsURL+"/api/status"+query, nil)
	req.Header.Set("x-functions-key", ep.FunctionsKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/status%s: %d %s", query, resp.StatusCode, body)
	}
	return body
}
