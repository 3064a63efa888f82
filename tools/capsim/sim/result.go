package sim

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Limit names a limit the model can run into.
type Limit string

const (
	LimitServiceBus  Limit = "Service Bus Standard credits (1,000/s per namespace)"
	LimitInstances   Limit = "SubmitTasks at maximumInstanceCount"
	LimitNodeSetting Limit = "pool at spotMaxNodes/dedicatedMaxNodes (setting)"
	LimitCoreQuota   Limit = "pool at the Batch core quota"
	LimitSweep       Limit = "SweepPools at 5,000 tasks per run"
	LimitSAS         Limit = "task SAS expired (FFBATCH_SAS_QUEUEING exceeded)"
	LimitStorageReqs Limit = "storage account requests (20,000/s)"
	LimitIngress     Limit = "storage ingress (60 Gbps)"
	LimitEgress      Limit = "storage egress (200 Gbps)"
)

// published limits the peaks are compared with (docs/capacity.md).
const (
	storageRequestsPerSecond = 20000
	storageIngressGbps       = 60  // listed regions, e.g. West Europe; 25 elsewhere
	storageEgressGbps        = 200 // listed regions; 50 elsewhere
	downloadRequestBytes     = 8 << 20
	fixedStorageRequests     = 12 // estimate: BlobCreated 3, SubmitTasks 4, MP3 and logs 3, SweepPools 2
)

// Hit is a limit the run reached: first when, and for how many minutes it
// held work back.
type Hit struct {
	Limit   Limit
	At      time.Duration
	Minutes int
}

// Result is what one run measured.
type Result struct {
	Workload Workload
	Params   Params

	Files, Answered, Failed, Unfinished int
	AudioHours                          float64
	Latencies                           []time.Duration // upload to answer, answered files
	Finished                            time.Duration   // last answer

	MaxSBWait, MaxTaskWait                           time.Duration
	MaxQueue, MaxInstances, MaxActive, MaxNodes      int
	SpotNodeHours, DedicatedNodeHours                float64
	Pools, Preempted, ExpiredSAS, Resubmits, Timeout int
	FunctionSeconds                                  float64
	BatchCalls, SBCredits, StorageReads              float64
	StorageWrites                                    float64

	hits    map[Limit]time.Duration
	minutes map[Limit]map[int64]bool // minutes in which the limit held work back
	// per-minute buckets for peaks
	creditsPerMin, ingress, egress, requests, batch map[int64]float64
}

func newResult(p Params, w Workload) *Result {
	return &Result{Workload: w, Params: p, hits: map[Limit]time.Duration{}, minutes: map[Limit]map[int64]bool{},
		creditsPerMin: map[int64]float64{}, ingress: map[int64]float64{}, egress: map[int64]float64{},
		requests: map[int64]float64{}, batch: map[int64]float64{}}
}

func minute(t time.Duration) int64 { return int64(t / time.Minute) }

func (r *Result) limit(at time.Duration, l Limit) {
	if _, ok := r.hits[l]; !ok {
		r.hits[l] = at
		r.minutes[l] = map[int64]bool{}
	}
	r.minutes[l][minute(at)] = true
}

func (r *Result) upload(f *file) {
	r.Files++
	r.FunctionSeconds += r.Params.BlobCreatedTime.Seconds()
	r.AudioHours += f.audio.Hours()
	r.ingress[minute(f.uploaded)] += float64(f.size)
	r.requests[minute(f.uploaded)] += fixedStorageRequests
	r.StorageWrites += fixedStorageRequests / 2
	r.StorageReads += fixedStorageRequests / 2
}

func (r *Result) sbWait(d time.Duration)          { r.MaxSBWait = max(r.MaxSBWait, d) }
func (r *Result) queued(n int)                    { r.MaxQueue = max(r.MaxQueue, n) }
func (r *Result) instances(n int)                 { r.MaxInstances = max(r.MaxInstances, n) }
func (r *Result) activeTasks(n int)               { r.MaxActive = max(r.MaxActive, n) }
func (r *Result) nodes(n int)                     { r.MaxNodes = max(r.MaxNodes, n) }
func (r *Result) nodeReady()                      {}
func (r *Result) poolCreated()                    { r.Pools++ }
func (r *Result) preempted(n int)                 { r.Preempted += n }
func (r *Result) resubmitted()                    { r.Resubmits++ }
func (r *Result) timedOut()                       { r.Timeout++ }
func (r *Result) functionSeconds(d time.Duration) { r.FunctionSeconds += d.Seconds() }
func (r *Result) credits(at time.Duration, c float64) {
	r.SBCredits += c
	r.creditsPerMin[minute(at)] += c
}

func (r *Result) sbManagementCredits(at time.Duration, c float64) {
	r.SBCredits += c
	r.creditsPerMin[minute(at)] += c
}

func (r *Result) batchCalls(at time.Duration, n int) {
	r.BatchCalls += float64(n)
	r.batch[minute(at)] += float64(n)
}

// sweepCalls counts a sweep's Batch requests: a list page per 1,000
// tasks, a delete per task, the job and its task counts.
func (r *Result) sweepCalls(at time.Duration, settled int) {
	n := float64(settled + (settled+999)/1000 + 2)
	r.BatchCalls += n
	r.batch[minute(at)] += n
}

func (r *Result) download(at time.Duration, size int64) {
	reqs := float64((size + downloadRequestBytes - 1) / downloadRequestBytes)
	r.egress[minute(at)] += float64(size)
	r.requests[minute(at)] += reqs
	r.StorageReads += reqs
}

func (r *Result) waited(d time.Duration) {
	r.MaxTaskWait = max(r.MaxTaskWait, d)
}

func (r *Result) expiredSAS() {
	r.ExpiredSAS++
}

func (r *Result) nodeHours(spot bool, d time.Duration) {
	if spot {
		r.SpotNodeHours += d.Hours()
	} else {
		r.DedicatedNodeHours += d.Hours()
	}
}

func (r *Result) answered(f *file, at time.Duration, ok bool) {
	r.Finished = max(r.Finished, at)
	if !ok {
		r.Failed++
		return
	}
	r.Answered++
	r.Latencies = append(r.Latencies, at-f.uploaded)
	r.ingress[minute(at)] += f.audio.Seconds() * 192e3 / 8
}

func (r *Result) end(outstanding int) {
	r.Unfinished = outstanding
	r.peakLimit(r.requests, storageRequestsPerSecond*60, LimitStorageReqs)
	r.peakLimit(r.ingress, storageIngressGbps*1e9/8*60, LimitIngress)
	r.peakLimit(r.egress, storageEgressGbps*1e9/8*60, LimitEgress)
	slices.Sort(r.Latencies)
}

func (r *Result) peakLimit(b map[int64]float64, perMinute float64, l Limit) {
	for _, m := range sortedMinutes(b) {
		if b[m] > perMinute {
			r.limit(time.Duration(m)*time.Minute, l)
			return
		}
	}
}

func sortedMinutes(b map[int64]float64) []int64 {
	ms := make([]int64, 0, len(b))
	for m := range b {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return ms
}

// Hits returns the limits reached, earliest first.
func (r *Result) Hits() []Hit {
	hs := make([]Hit, 0, len(r.hits))
	for l, at := range r.hits {
		hs = append(hs, Hit{l, at, len(r.minutes[l])})
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].At != hs[j].At {
			return hs[i].At < hs[j].At
		}
		return hs[i].Limit < hs[j].Limit
	})
	return hs
}

// Percentile returns the q-quantile (0–1) of the answered files' latency.
func (r *Result) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(r.Latencies)))) - 1
	return r.Latencies[max(0, min(i, len(r.Latencies)-1))]
}

func peak(b map[int64]float64) float64 {
	m := 0.0
	for _, v := range b {
		m = max(m, v)
	}
	return m
}

// PeakCreditsPerSecond is the busiest minute's Service Bus credits per
// second.
func (r *Result) PeakCreditsPerSecond() float64 { return peak(r.creditsPerMin) / 60 }

// PeakStorageRequests is the busiest minute's storage requests per second.
func (r *Result) PeakStorageRequests() float64 { return peak(r.requests) / 60 }

// PeakIngressGbps and PeakEgressGbps are the busiest minutes' data rates.
func (r *Result) PeakIngressGbps() float64 { return peak(r.ingress) * 8 / 60 / 1e9 }
func (r *Result) PeakEgressGbps() float64  { return peak(r.egress) * 8 / 60 / 1e9 }

// PeakBatchCalls is the busiest minute's Batch requests per second.
func (r *Result) PeakBatchCalls() float64 { return peak(r.batch) / 60 }

// Cost is the run's cost in USD by item.
type Cost struct {
	SpotNodes, DedicatedNodes, Functions, ServiceBus, EventGrid, Storage float64
}

// Cost prices the run; dedicated reprices the same node-hours at the
// dedicated rate (the model's Spot nodes without preemption do the same
// work a dedicated node would).
func (r *Result) Cost(dedicated bool) Cost {
	p := r.Params
	c := Cost{
		Functions:  r.FunctionSeconds*p.FlexMemoryGB*p.FlexPerGBs + float64(r.Files)*3/1e6*p.FlexPerMillion,
		ServiceBus: r.Finished.Hours()*p.SBBasePerHr + r.SBCredits/1e6*p.SBPerMillionOps,
		EventGrid:  float64(r.Files) / 1e6 * p.EventGridPerMillion,
		Storage:    r.StorageWrites/1e4*p.StoragePer10kWrites + r.StorageReads/1e4*p.StoragePer10kReads,
	}
	nodeHours := r.SpotNodeHours + r.DedicatedNodeHours
	if dedicated {
		c.DedicatedNodes = nodeHours * p.DedicatedPricePerHr
	} else {
		c.SpotNodes = r.SpotNodeHours * p.SpotPricePerHr
		c.DedicatedNodes = r.DedicatedNodeHours * p.DedicatedPricePerHr
	}
	return c
}

// Total is the sum of the items.
func (c Cost) Total() float64 {
	return c.SpotNodes + c.DedicatedNodes + c.Functions + c.ServiceBus + c.EventGrid + c.Storage
}

// PerAudioHour divides the total by the audio hours answered.
func (r *Result) PerAudioHour(c Cost) float64 {
	done := r.AudioHours * float64(r.Answered) / float64(max(r.Files, 1))
	if done == 0 {
		return 0
	}
	return c.Total() / done
}
