package sim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func clips(name string, files int, over time.Duration) Workload {
	return Workload{Name: name, Files: files, Over: over, PodcastShare: 0, VideoMbps: 2, Seed: 7}
}

func run(t *testing.T, p Params, w Workload) *Result {
	t.Helper()
	r, err := Run(p, w)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.Answered+r.Failed+r.Unfinished != r.Files {
		t.Fatalf("%d answered + %d failed + %d unfinished != %d files", r.Answered, r.Failed, r.Unfinished, r.Files)
	}
	return r
}

func hit(r *Result, l Limit) (Hit, bool) {
	for _, h := range r.Hits() {
		if h.Limit == l {
			return h, true
		}
	}
	return Hit{}, false
}

// TestFirstNodeWaitsForTheFormula: with autoscale the formula's first run
// (at pool creation) sees no pending task, so the first file waits for
// the next evaluation plus the node start; managed mode resizes at once.
func TestFirstNodeWaitsForTheFormula(t *testing.T) {
	p := Defaults()
	w := clips("one file", 1, time.Second)
	auto := run(t, p, w)
	if got, min := auto.Percentile(1), p.AutoscaleInterval+p.NodeStart; got < min || got > min+5*time.Minute {
		t.Errorf("autoscale: first file answered after %v, want between %v and %v", got, min, min+5*time.Minute)
	}
	p.Scaling = ScalingManaged
	managed := run(t, p, w)
	if got := managed.Percentile(1); got < p.NodeStart || got >= p.AutoscaleInterval+p.NodeStart {
		t.Errorf("managed: first file answered after %v, want at least the node start %v and less than the autoscale path", got, p.NodeStart)
	}
}

// TestThroughputBoundedBySlots: a fixed pool of one slot cannot answer
// faster than the files' transcode time end to end.
func TestThroughputBoundedBySlots(t *testing.T) {
	p := Defaults()
	p.Scaling, p.SpotMax, p.TaskSlots, p.SASQueueing = ScalingManaged, 1, 1, 7*24*time.Hour
	w := clips("200 clips at once", 200, time.Second)
	r := run(t, p, w)
	if r.Answered != w.Files {
		t.Fatalf("answered %d of %d", r.Answered, w.Files)
	}
	transcode := time.Duration(r.AudioHours * float64(time.Hour) / p.TranscodeSpeed)
	busy := transcode + time.Duration(w.Files)*p.TaskOverhead
	if r.Finished < busy {
		t.Errorf("finished after %v, but one slot needs at least %v", r.Finished, busy)
	}
	if r.MaxNodes != 1 {
		t.Errorf("max nodes %d, want the setting's 1", r.MaxNodes)
	}
	if _, ok := hit(r, LimitNodeSetting); !ok {
		t.Errorf("pool setting limit not reported; hits %v", r.Hits())
	}
}

// TestSASExpiresInABacklog: tasks that wait longer than their URLs last
// fail and are resubmitted with new URLs; a long enough queueing
// allowance avoids it. This is plan.URLLifetime at work.
func TestSASExpiresInABacklog(t *testing.T) {
	p := Defaults()
	p.Scaling, p.SpotMax, p.TaskSlots, p.SASQueueing = ScalingManaged, 1, 1, 5*time.Minute
	w := Workload{Name: "backlog", Files: 300, Over: time.Second, PodcastShare: 0.5, VideoMbps: 2, Seed: 3}
	short := run(t, p, w)
	if short.ExpiredSAS == 0 || short.Resubmits == 0 {
		t.Errorf("no expired SAS (%d) or resubmission (%d) with a 5-minute allowance and hours of backlog", short.ExpiredSAS, short.Resubmits)
	}
	if _, ok := hit(short, LimitSAS); !ok {
		t.Errorf("SAS limit not reported; hits %v", short.Hits())
	}
	p.SASQueueing = 7 * 24 * time.Hour
	long := run(t, p, w)
	if long.ExpiredSAS != 0 || long.Answered != w.Files {
		t.Errorf("with a 7-day allowance: %d expired, %d of %d answered", long.ExpiredSAS, long.Answered, w.Files)
	}
}

func TestCoreQuotaCapsThePool(t *testing.T) {
	p := Defaults()
	p.Scaling, p.SpotMax, p.SpotCores = ScalingManaged, 100, 10 // 5 Standard_D2s_v3 nodes
	r := run(t, p, clips("many", 2000, time.Minute))
	if r.MaxNodes != 5 {
		t.Errorf("max nodes %d, want 5 (10 cores / 2)", r.MaxNodes)
	}
	if _, ok := hit(r, LimitCoreQuota); !ok {
		t.Errorf("core quota not reported; hits %v", r.Hits())
	}
}

func TestServiceBusCreditsThrottle(t *testing.T) {
	p := Defaults()
	p.SBCreditsPerFile = 100 // 10 files/s
	r := run(t, p, clips("fast arrivals", 3000, time.Minute))
	if r.MaxSBWait < 4*time.Minute {
		t.Errorf("max wait for credits %v, want minutes (3,000 files at 10/s)", r.MaxSBWait)
	}
	if _, ok := hit(r, LimitServiceBus); !ok {
		t.Errorf("Service Bus limit not reported; hits %v", r.Hits())
	}
}

func TestSweepSettlesAtMost5000PerRun(t *testing.T) {
	p := Defaults()
	p.Scaling, p.SpotMax, p.SpotCores, p.TaskSlots = ScalingManaged, 1000, 2000, 8
	p.VMSize = "Standard_D2s_v3"
	r := run(t, p, clips("many small", 30000, time.Minute))
	if _, ok := hit(r, LimitSweep); !ok {
		t.Errorf("sweep limit not reported with 30,000 completions; hits %v", r.Hits())
	}
}

func TestRunRefusesSlotsAboveTheVMLimit(t *testing.T) {
	p := Defaults()
	p.TaskSlots = 9 // Standard_D2s_v3: at most 8
	if _, err := Run(p, clips("x", 1, time.Second)); err == nil || !strings.Contains(err.Error(), "at most 8") {
		t.Errorf("Run = %v, want the slot limit refused", err)
	}
}

func TestDeterministic(t *testing.T) {
	w := Workload{Name: "mix", Files: 2000, Over: time.Hour, PodcastShare: 0.2, VideoMbps: 2, Seed: 11}
	a, b := run(t, Defaults(), w), run(t, Defaults(), w)
	if a.Finished != b.Finished || a.SpotNodeHours != b.SpotNodeHours || !slices.Equal(a.Latencies, b.Latencies) {
		t.Errorf("two runs of the same workload differ: %v/%v, %v/%v", a.Finished, b.Finished, a.SpotNodeHours, b.SpotNodeHours)
	}
}
