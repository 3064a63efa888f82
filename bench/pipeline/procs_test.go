package pipeline

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// buildCLI builds cmd/ffbatch once per test binary, next to the stack's
// binaries.
func buildCLI(b *testing.B) string {
	b.Helper()
	bin, repo := binaries(b)
	cliOnce.Do(func() {
		cliPath = filepath.Join(bin, "ffbatch")
		build := exec.Command("go", "build", "-o", cliPath, "./cmd/ffbatch")
		build.Dir = repo
		if out, err := build.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("build ffbatch: %w\n%s", err, out)
		}
	})
	if cliErr != nil {
		b.Fatal(cliErr)
	}
	return cliPath
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times (100 on
// every Linux this runs on).
const clockTicks = 100

// stackProc is one process of the local stack.
type stackProc struct {
	name string
	pid  int
}

// stackProcs returns the stack's processes: Azurite, the three emulators
// and the custom handler under the Functions host. Task processes
// (ffmpeg) are children of the Batch emulator and are not among them.
func stackProcs(b *testing.B, st *localstack.Stack) []stackProc {
	b.Helper()
	var out []stackProc
	for _, n := range []string{localstack.Azurite, localstack.ServiceBus, localstack.Batch, localstack.Functions} {
		pid, err := st.PID(n)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, stackProc{n, pid})
	}
	pid, err := st.HandlerPID()
	if err != nil {
		b.Fatal(err)
	}
	return append(out, stackProc{"handler", pid})
}

// cpuSeconds is the user + system CPU time of the process itself
// (/proc/<pid>/stat utime and stime: not its children's, so not the
// ffmpeg processes the Batch emulator runs).
func cpuSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command, which is in parentheses and may hold spaces.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64) // field 14
	stime, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// peakRSSMiB is the process's peak resident set size (VmHWM) in MiB.
func peakRSSMiB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// cpuOf returns the CPU seconds of each process, by name.
func cpuOf(b *testing.B, procs []stackProc) map[string]float64 {
	b.Helper()
	out := map[string]float64{}
	for _, p := range procs {
		s, err := cpuSeconds(p.pid)
		if err != nil {
			b.Fatal(err)
		}
		out[p.name] = s
	}
	return out
}
