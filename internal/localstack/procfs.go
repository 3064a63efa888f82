package localstack

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ProcessRef names one process of a stack by its pid and its start time
// (clock ticks after boot, /proc/<pid>/stat field 22), so a pid that the
// kernel has since given to another process is never mistaken for it.
type ProcessRef struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

func (r ProcessRef) String() string { return fmt.Sprintf("%s (pid %d)", r.Name, r.PID) }

// procStat is what identify and alive need from /proc/<pid>/stat.
type procStat struct {
	state byte
	start uint64
}

// readStat parses /proc/<pid>/stat (Linux). The command name is in
// parentheses and may itself contain spaces and parentheses, so the fields
// are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseStat(string(b))
}

func parseStat(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("parse /proc stat: no command name")
	}
	// Fields after the name start at field 3 (state); starttime is field 22.
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc stat: %d fields after the name, want at least 20", len(f))
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat: starttime: %w", err)
	}
	return procStat{state: f[0][0], start: start}, nil
}

// identify returns the ProcessRef of a running process.
func identify(pid int) (ProcessRef, error) {
	st, err := readStat(pid)
	if err != nil {
		return ProcessRef{}, err
	}
	return ProcessRef{Name: processName(pid), PID: pid, Start: st.start}, nil
}

// Alive reports whether the process still runs: its pid exists, is not a
// zombie, and started at the recorded time (a Start of 0 matches any).
func (r ProcessRef) Alive() bool {
	if r.PID <= 0 {
		return false
	}
	st, err := readStat(r.PID)
	if err != nil || st.state == 'Z' || st.state == 'X' {
		return false
	}
	return r.Start == 0 || st.start == r.Start
}

// descendants returns the live processes below pid, children first
// (Linux /proc/<pid>/task/*/children).
func descendants(pid int) []ProcessRef {
	var out []ProcessRef
	kids, _ := childPIDs(pid)
	for _, k := range kids {
		if ref, err := identify(k); err == nil {
			out = append(out, ref)
			out = append(out, descendants(k)...)
		}
	}
	return out
}

// childPIDs lists the direct children of pid from /proc (Linux).
func childPIDs(pid int) ([]int, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("list children of %d: %w", pid, err)
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue // the thread ended
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// processName is the command name of pid from /proc (Linux).
func processName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// signal sends sig to r if it is still the recorded process; group also
// signals its process group (the stack's children lead their own groups).
func (r ProcessRef) signal(sig syscall.Signal, group bool) {
	if !r.Alive() {
		return
	}
	if group {
		_ = syscall.Kill(-r.PID, sig)
	}
	_ = syscall.Kill(r.PID, sig)
}
