package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdStart measures process start → first answer to GET / (the
// host's readiness probe) for the built handler with the local settings,
// and its resident memory when idle. The baseline, measured in the same
// run, is the same binary exiting at once (no port set): the cost of
// spawning a Go process, which the handler cannot avoid.
func BenchmarkColdStart(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "handler")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "local.settings.json.example"))
	if err != nil {
		b.Fatal(err)
	}
	var ls struct{ Values map[string]string }
	if err := json.Unmarshal(raw, &ls); err != nil {
		b.Fatal(err)
	}
	baseEnv := os.Environ()
	for k, v := range ls.Values {
		baseEnv = append(baseEnv, k+"="+v)
	}
	var ready, spawn time.Duration
	var rssKB int64
	client := &http.Client{Timeout: time.Second}
	for range b.N {
		// Baseline: spawn and exit.
		t0 := time.Now()
		_ = exec.Command(bin).Run() // fails fast: no port
		spawn += time.Since(t0)

		port := freePort(b)
		cmd := exec.Command(bin)
		cmd.Env = append(append([]string{}, baseEnv...), "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
		t1 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := t1.Add(10 * time.Second)
		for {
			resp, err := client.Get("http://127.0.0.1:" + port + "/")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				b.Fatalf("not ready after 10s: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
		ready += time.Since(t1)
		rssKB = max(rssKB, vmRSS(b, cmd.Process.Pid))
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	n := float64(b.N)
	b.ReportMetric(ready.Seconds()*1000/n, "ms-to-ready")
	b.ReportMetric(spawn.Seconds()*1000/n, "ms-spawn-baseline")
	b.ReportMetric(ready.Seconds()/spawn.Seconds(), "x-baseline")
	b.ReportMetric(float64(rssKB)/1024, "MB-RSS-idle")
}

func freePort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func vmRSS(b *testing.B, pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
