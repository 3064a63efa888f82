package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
	"github.com/ffbatch/ffbatch/internal/ncrontab"
)

// schedule yields the next occurrence strictly after t.
type schedule interface {
	Next(t time.Time) time.Time
}

// constantSchedule is a TimeSpan schedule ("00:05:00"): every interval.
type constantSchedule struct{ every time.Duration }

func (c constantSchedule) Next(t time.Time) time.Time {
	return t.Truncate(time.Second).Add(c.every)
}

// parseSchedule accepts what the timer trigger accepts: a six-field NCRONTAB
// expression or a TimeSpan ("hh:mm:ss").
func parseSchedule(expr string) (schedule, error) {
	e := strings.TrimSpace(expr)
	if e == "" {
		return nil, errors.New("schedule is empty")
	}
	if strings.Contains(e, ":") && !strings.Contains(e, " ") {
		d, err := dotnettime.ParseTimeSpan(e)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", expr, err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("schedule %q: the interval must be positive", expr)
		}
		return constantSchedule{every: d}, nil
	}
	// The handler validates FFBATCH_SWEEP_SCHEDULE with the same parser.
	s, err := ncrontab.Parse(e)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	return s, nil
}

type timerConfig struct {
	Schedule     string
	sched        schedule
	RunOnStartup bool
	// Monitor is useMonitor, off for schedules firing more than once a minute.
	Monitor bool
}

func parseTimerTrigger(b binding) (*timerConfig, error) {
	expr := b.str("schedule")
	if expr == "" {
		return nil, errors.New("missing required property \"schedule\" (six-field NCRONTAB or %Setting%)")
	}
	sched, err := parseSchedule(expr)
	if err != nil {
		return nil, err
	}
	c := &timerConfig{Schedule: expr, sched: sched}
	if c.RunOnStartup, err = b.boolean("runonstartup", false); err != nil {
		return nil, err
	}
	if c.Monitor, err = b.boolean("usemonitor", true); err != nil {
		return nil, err
	}
	probe := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n1 := sched.Next(probe)
	if n1.IsZero() {
		return nil, fmt.Errorf("schedule %q never fires", expr)
	}
	if sched.Next(n1).Sub(n1) < time.Minute {
		c.Monitor = false
	}
	return c, nil
}

// scheduleStatus is what the real host keeps in
// azure-webjobs-hosts/timers/...; funchost keeps it under StateDir/timers.
type scheduleStatus struct {
	Last        time.Time `json:"last"`
	Next        time.Time `json:"next"`
	LastUpdated time.Time `json:"lastUpdated"`
}

// timerInfo is JObject.FromObject(TimerInfo) (functions-host.md §1.6.5).
type timerInfo struct {
	Schedule       timerInfoSchedule `json:"Schedule"`
	ScheduleStatus *timerInfoStatus  `json:"ScheduleStatus"`
	IsPastDue      bool              `json:"IsPastDue"`
}

type timerInfoSchedule struct {
	AdjustForDST bool `json:"AdjustForDST"`
}

type timerInfoStatus struct {
	Last        string `json:"Last"`
	Next        string `json:"Next"`
	LastUpdated string `json:"LastUpdated"`
}

func statusJSON(s *scheduleStatus) *timerInfoStatus {
	if s == nil {
		return nil
	}
	f := func(t time.Time) string {
		if t.IsZero() {
			return "0001-01-01T00:00:00" // DateTime.MinValue
		}
		return netOffset(t)
	}
	return &timerInfoStatus{Last: f(s.Last), Next: f(s.Next), LastUpdated: f(s.LastUpdated)}
}

// timerRunner runs one timer function.
type timerRunner struct {
	fn   *function
	h    *Host
	path string // status file; empty when not monitored

	// pastDue is set when the stored next occurrence passed while the host
	// was down; run then fires once at start with IsPastDue.
	pastDue bool

	mu     sync.Mutex // guards status
	status *scheduleStatus
}

// newTimerRunner loads the stored schedule status of a monitored timer and
// notes whether an occurrence was missed while the host was down.
func newTimerRunner(h *Host, fn *function) *timerRunner {
	r := &timerRunner{fn: fn, h: h}
	now := h.now()
	if fn.Timer.Monitor {
		r.path = filepath.Join(h.stateDir, "timers", fn.Name, "status.json")
		if err := r.load(); err != nil {
			h.log.Error("timer status unreadable; starting fresh", slog.String("function", fn.Name), slog.Any("error", err))
		}
		r.pastDue = r.status != nil && !r.status.Next.IsZero() && r.status.Next.Before(now)
	}
	if r.status == nil {
		// As TimerListener: Last and LastUpdated are DateTime.MinValue until
		// the first run, and nothing is stored before it.
		r.status = &scheduleStatus{Next: fn.Timer.sched.Next(now.UTC())}
	}
	return r
}

func (r *timerRunner) load() error {
	if r.path == "" {
		return nil
	}
	raw, err := os.ReadFile(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read timer status of %s: %w", r.fn.Name, err)
	}
	var s scheduleStatus
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("parse timer status %s: %w", r.path, err)
	}
	r.status = &s
	return nil
}

// run waits for each occurrence and invokes the function; a timer has no
// retries, the next run happens on schedule.
func (r *timerRunner) run(ctx context.Context) {
	log := r.h.log.With(slog.String("function", r.fn.Name))
	switch {
	case r.pastDue:
		log.Info(fmt.Sprintf("Trigger for function '%s' is past due", r.fn.Name))
		_ = r.fire(ctx, firePastDue)
	case r.fn.Timer.RunOnStartup:
		_ = r.fire(ctx, fireStartup)
	}
	for {
		// Wait for the recorded next occurrence; one that passed while the
		// previous run was still going fires at once (GetNextTimerInterval).
		r.mu.Lock()
		next := r.status.Next
		r.mu.Unlock()
		if next.IsZero() {
			log.Warn("the timer schedule has no further occurrence", slog.String("schedule", r.fn.Timer.Schedule))
			return
		}
		log.Debug("next timer occurrence", slog.Time("next", next))
		t := time.NewTimer(next.Sub(r.h.now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		_ = r.fire(ctx, fireScheduled)
	}
}

// fireKind says why a timer function runs.
type fireKind int

const (
	fireScheduled fireKind = iota
	firePastDue
	fireStartup
	fireManual
)

// fire invokes the function once with the current status. Runs from the
// listener (not manual ones, which bypass it in the real host) then record
// the run as the new status. Errors are logged by the invoker and returned
// for RunFunction.
func (r *timerRunner) fire(ctx context.Context, kind fireKind) error {
	now := r.h.now()
	r.mu.Lock()
	info := timerInfo{Schedule: timerInfoSchedule{AdjustForDST: true}, IsPastDue: kind == firePastDue}
	if r.path != "" {
		info.ScheduleStatus = statusJSON(r.status)
	}
	r.mu.Unlock()
	reason := map[fireKind]string{
		fireScheduled: "Timer fired at " + netOffset(now),
		firePastDue:   "Timer fired at " + netOffset(now) + " (past due)",
		fireStartup:   "RunOnStartup",
		fireManual:    "This function was programmatically called via the host APIs.",
	}[kind]
	req := &invocationRequest{
		Data:     map[string]any{r.fn.Trigger.Name: info},
		Metadata: map[string]any{"sys": newSys(r.fn.Name, now)},
	}
	_, err := r.h.invoker.invoke(ctx, newInvocation(r.fn, reason), req)
	if kind == fireManual {
		return err
	}
	// Last and LastUpdated are the invocation time; a scheduled run that
	// fired just before its occurrence counts as that occurrence.
	r.mu.Lock()
	defer r.mu.Unlock()
	at := now
	if kind == fireScheduled && r.status != nil && r.status.Next.After(at) {
		at = r.status.Next
	}
	r.status = &scheduleStatus{Last: at, Next: r.fn.Timer.sched.Next(at.UTC()), LastUpdated: at}
	if r.path != "" {
		r.saveLocked(r.h.log.With(slog.String("function", r.fn.Name)))
	}
	return err
}

func (r *timerRunner) saveLocked(log *slog.Logger) {
	if err := writeJSONFile(r.path, r.status); err != nil {
		log.Error("save timer status", slog.Any("error", err))
	}
}

// writeJSONFile writes v atomically (temporary file and rename).
func writeJSONFile(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
