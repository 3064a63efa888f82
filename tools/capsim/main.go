// Command capsim runs the capacity model (tools/capsim/sim) for the
// scenarios of docs/capacity.md and prints its tables as Markdown:
//
//	go run ./tools/capsim                 # every scenario
//	go run ./tools/capsim -only burst     # scenarios whose name contains "burst"
//	go run ./tools/capsim -speed 30 -node-start 10m -preempt 0.1
//
// The flags change the model's estimates for every scenario, to see how
// sensitive the tables are to them.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/tools/capsim/sim"
)

func main() {
	only := flag.String("only", "", "run only scenarios whose name contains this")
	speed := flag.Float64("speed", 0, "transcode speed, audio seconds per slot-second (default: the model's)")
	nodeStart := flag.Duration("node-start", 0, "resize to node ready (default: the model's)")
	preempt := flag.Float64("preempt", -1, "Spot preemptions per node-hour (default: the model's)")
	submitRate := flag.Float64("submit-rate", 0, "arrivals/s one SubmitTasks instance records (default: the model's)")
	sasQueueing := flag.Duration("sas-queueing", 0, "FFBATCH_SAS_QUEUEING (default: the setting's default)")
	podcasts := flag.Float64("podcasts", 0.2, "share of 30-90 minute files")
	mbps := flag.Float64("mbps", 2, "MP4 bitrate in Mbit/s")
	flag.Parse()

	var results []*sim.Result
	for _, sc := range scenarios(*podcasts, *mbps) {
		if *only != "" && !strings.Contains(sc.w.Name, *only) {
			continue
		}
		p := sc.p
		if *speed > 0 {
			p.TranscodeSpeed = *speed
		}
		if *nodeStart > 0 {
			p.NodeStart = *nodeStart
		}
		if *preempt >= 0 {
			p.SpotPreemptPerHr = *preempt
		}
		if *submitRate > 0 {
			p.SubmitRate = *submitRate
		}
		if *sasQueueing > 0 {
			p.SASQueueing = *sasQueueing
		}
		r, err := sim.Run(p, sc.w)
		if err != nil {
			fmt.Fprintln(os.Stderr, "capsim:", err)
			os.Exit(1)
		}
		results = append(results, r)
	}
	write(os.Stdout, results)
}

type scenario struct {
	w sim.Workload
	p sim.Params
}

// scenarios are docs/capacity.md's: three daily volumes and a burst, each
// with the template's defaults and with the settings that move the first
// limit.
func scenarios(podcasts, mbps float64) []scenario {
	day := func(name string, files int) sim.Workload {
		return sim.Workload{Name: name, Files: files, Over: 24 * time.Hour, PodcastShare: podcasts, VideoMbps: mbps, Seed: 1}
	}
	burst := sim.Workload{Name: "burst 50k/10 min", Files: 50000, Over: 10 * time.Minute, PodcastShare: podcasts, VideoMbps: mbps, Seed: 2}
	def := sim.Defaults()
	with := func(f func(*sim.Params)) sim.Params {
		p := sim.Defaults()
		f(&p)
		return p
	}
	// Standard_F8s_v2: 8 vCPUs, 8 slots; prices in docs/capacity.md.
	f8 := func(spotMax, quota int) sim.Params {
		return with(func(p *sim.Params) {
			p.VMSize, p.TaskSlots, p.NodeMbps, p.SpotMax, p.SpotCores = "Standard_F8s_v2", 8, 4000, spotMax, quota
			p.SpotPricePerHr, p.DedicatedPricePerHr = 0.0677, 0.338
		})
	}
	named := func(w sim.Workload, name string) sim.Workload { w.Name = name; return w }
	return []scenario{
		{day("1k/day, defaults", 1000), def},
		{day("100k/day, defaults", 100000), def},
		{day("100k/day, spotMax 20", 100000), with(func(p *sim.Params) { p.SpotMax = 20 })},
		{day("1M/day, defaults", 1000000), def},
		{day("1M/day, F8s_v2 spotMax 50, default quota 100", 1000000), f8(50, 100)},
		{day("1M/day, F8s_v2 spotMax 50, quota 400", 1000000), f8(50, 400)},
		{burst, def},
		{named(burst, "burst 50k/10 min, managed, spotMax 50"), with(func(p *sim.Params) { p.Scaling, p.SpotMax = sim.ScalingManaged, 50 })},
		{named(burst, "burst 50k/10 min, 20 arrivals/s per instance, queue-length scaling"), with(func(p *sim.Params) {
			p.Scaling, p.SpotMax, p.SubmitRate = sim.ScalingManaged, 50, 20
		})},
		{named(burst, "burst 50k/10 min, 20 arrivals/s per instance, no Manage rights"), with(func(p *sim.Params) {
			p.Scaling, p.SpotMax, p.SubmitRate, p.ScaleByQueueLength = sim.ScalingManaged, 50, 20, false
		})},
	}
}

func write(w io.Writer, rs []*sim.Result) {
	fmt.Fprintln(w, "| Scenario | Files | Audio h | Succeeded / failed / unanswered | Latency p50 / p95 / max | Max nodes | Node-hours | First limit hit (time after first upload) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		first := "none"
		if hs := r.Hits(); len(hs) > 0 {
			first = fmt.Sprintf("%s (%s)", hs[0].Limit, short(hs[0].At))
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %d / %d / %d | %s / %s / %s | %d | %.0f | %s |\n",
			r.Workload.Name, r.Files, r.AudioHours, r.Answered, r.Failed, r.Unfinished,
			short(r.Percentile(0.5)), short(r.Percentile(0.95)), short(r.Percentile(1)),
			r.MaxNodes, r.SpotNodeHours+r.DedicatedNodeHours, first)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Scenario | Limits hit (first at, minutes holding work back) | Max queue | Max SubmitTasks instances | Max tasks waiting | Max task wait | Expired SAS / resubmits | Peak SB credits/s | Peak Batch calls/s | Peak storage req/s | Peak ingress / egress Gbps |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		var hits []string
		for _, h := range r.Hits() {
			hits = append(hits, fmt.Sprintf("%s (from %s, %d min)", h.Limit, short(h.At), h.Minutes))
		}
		if len(hits) == 0 {
			hits = []string{"none"}
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %s | %d / %d | %.0f | %.1f | %.0f | %.1f / %.1f |\n",
			r.Workload.Name, strings.Join(hits, "; "), r.MaxQueue, r.MaxInstances, r.MaxActive, short(r.MaxTaskWait),
			r.ExpiredSAS, r.Resubmits, r.PeakCreditsPerSecond(), r.PeakBatchCalls(), r.PeakStorageRequests(),
			r.PeakIngressGbps(), r.PeakEgressGbps())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Scenario | VM | Spot: nodes / other / total USD | Spot USD per audio h | Dedicated: total USD | Dedicated USD per audio h |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rs {
		s, d := r.Cost(false), r.Cost(true)
		other := s.Functions + s.ServiceBus + s.EventGrid + s.Storage
		fmt.Fprintf(w, "| %s | %s ×%d slots | %.2f / %.2f / %.2f | %.4f | %.2f | %.4f |\n",
			r.Workload.Name, r.Params.VMSize, r.Params.TaskSlots, s.SpotNodes+s.DedicatedNodes, other, s.Total(),
			r.PerAudioHour(s), d.Total(), r.PerAudioHour(d))
	}
}

// short prints a duration rounded for a table: 42s, 17m, 5h10m, 2d3h.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
