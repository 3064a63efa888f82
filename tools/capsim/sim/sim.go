package sim

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ffbatch/ffbatch/internal/plan"
)

// file is one upload and, after a resubmission, the same file again.
type file struct {
	uploaded  time.Duration
	audio     time.Duration
	size      int64
	resubmits int
}

// task is one Batch task: a file's work with the URLs signed when it was
// added.
type task struct {
	f        *file
	added    time.Duration // when SubmitTasks added it and signed its URLs
	lifetime time.Duration // plan.URLLifetime
	wall     time.Duration // plan.WallClock
	retries  int           // plan.Retries
	attempts int
	node     *node
	expired  bool // an attempt outlived the URLs
	timedOut bool // an attempt reached the wall-clock limit
	done     time.Duration
	gen      int // attempt number the pending completion event belongs to
}

// node is a pool node. running holds its tasks.
type node struct {
	spot     bool
	ready    bool
	draining bool // leaves once its tasks complete (taskcompletion)
	removed  bool
	since    time.Duration // billed from the resize that asked for it
	running  []*task
	inFree   bool
}

// instance is one SubmitTasks instance.
type instance struct {
	busy    bool
	removed bool
}

type kind int

const (
	evArrive  kind = iota // BlobCreated (or SweepPools) sends an arrival message
	evEnqueue             // the Service Bus credit budget admitted it: it is on the queue
	evInstanceReady
	evBatchDone
	evScale
	evAutoscale
	evSample
	evNodeReady
	evTaskDone
	evPreempt
	evSweep
)

type event struct {
	at   time.Duration
	seq  int64
	kind kind
	f    *file
	fs   []*file
	inst *instance
	node *node
	task *task
	gen  int // pool generation (autoscale, sample) or attempt (task done)
}

type events []*event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if e[i].at != e[j].at {
		return e[i].at < e[j].at
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(*event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// model is one run. Only Run touches it.
type model struct {
	p   Params
	w   Workload
	now time.Duration
	ev  events
	seq int64
	rng *rand.Rand
	r   *Result

	sbFree        time.Duration // when the credit budget admits the next file
	queue         []*file       // arrivals waiting for SubmitTasks
	instances     []*instance
	starting      int
	lastIncrement time.Duration // the incremental scaler's last new instance

	pool       bool
	poolGen    int
	poolSince  time.Duration
	idleSince  time.Duration // zero when the job had work at the last sweep
	nodes      []*node
	free       []*node // ready nodes with a free slot
	active     []*task // waiting for a slot, FIFO
	running    int
	samples    []sample
	completed  []*task
	sweepUntil time.Duration

	outstanding int // files not yet answered
	lastUpload  time.Duration
}

type sample struct {
	at      time.Duration
	pending int
}

// Run models w on a deployment described by p.
func Run(p Params, w Workload) (*Result, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	m := &model{p: p, w: w, rng: rand.New(rand.NewPCG(uint64(w.Seed), 0x66666261)), r: newResult(p, w)}
	for _, f := range m.workload() {
		m.outstanding++
		m.lastUpload = max(m.lastUpload, f.uploaded)
		m.r.upload(f)
		m.at(f.uploaded+p.EventGridDelay+p.BlobCreatedTime, &event{kind: evArrive, f: f})
	}
	m.at(p.ScaleInterval, &event{kind: evScale})
	m.at(p.SweepEvery, &event{kind: evSweep})
	end := m.lastUpload + p.Horizon
	for len(m.ev) > 0 && m.outstanding > 0 {
		e := heap.Pop(&m.ev).(*event)
		if e.at > end {
			break
		}
		m.now = e.at
		m.handle(e)
	}
	m.finish()
	return m.r, nil
}

// workload draws the uploads: times uniform over w.Over, durations and
// sizes from the mix.
func (m *model) workload() []*file {
	fs := make([]*file, m.w.Files)
	for i := range fs {
		minutes := 1 + 4*m.rng.Float64()
		if m.rng.Float64() < m.w.PodcastShare {
			minutes = 30 + 60*m.rng.Float64()
		}
		audio := time.Duration(minutes * float64(time.Minute))
		fs[i] = &file{
			uploaded: time.Duration(m.rng.Float64() * float64(m.w.Over)),
			audio:    audio,
			size:     int64(audio.Seconds() * m.w.VideoMbps * 1e6 / 8),
		}
	}
	return fs
}

func (m *model) at(t time.Duration, e *event) {
	e.at, e.seq = t, m.seq
	m.seq++
	heap.Push(&m.ev, e)
}

func (m *model) handle(e *event) {
	switch e.kind {
	case evArrive:
		m.admit(e.f)
	case evEnqueue:
		m.enqueue(e.f)
	case evInstanceReady:
		m.starting--
		m.instances = append(m.instances, e.inst)
		m.r.instances(len(m.instances))
		m.work(e.inst)
	case evBatchDone:
		m.batchDone(e.inst, e.fs)
	case evScale:
		m.scale()
		m.at(m.now+m.p.ScaleInterval, &event{kind: evScale})
	case evAutoscale:
		if m.pool && e.gen == m.poolGen {
			m.autoscale()
			m.at(m.now+m.p.AutoscaleInterval, &event{kind: evAutoscale, gen: e.gen})
		}
	case evSample:
		if m.pool && e.gen == m.poolGen {
			m.samples = append(m.samples, sample{m.now, len(m.active) + m.running})
			m.at(m.now+30*time.Second, &event{kind: evSample, gen: e.gen})
		}
	case evNodeReady:
		if !e.node.removed {
			e.node.ready = true
			m.release(e.node)
			m.preemptLater(e.node)
			m.dispatch()
		}
	case evTaskDone:
		if e.task.gen == e.gen && e.task.node != nil {
			m.taskDone(e.task)
		}
	case evPreempt:
		m.preempt(e.node)
	case evSweep:
		m.sweep()
		m.at(m.now+m.p.SweepEvery, &event{kind: evSweep})
	}
}

// admit passes a file's Service Bus operations through the namespace's
// credit budget; it lands on the queue when the budget allows.
func (m *model) admit(f *file) {
	per := time.Duration(m.p.SBCreditsPerFile / m.p.SBCreditsPerSecond * float64(time.Second))
	at := max(m.sbFree, m.now)
	m.sbFree = at + per
	if at-m.now > time.Second {
		m.r.limit(m.now, LimitServiceBus)
	}
	m.r.sbWait(at - m.now)
	m.r.credits(at, m.p.SBCreditsPerFile)
	if at > m.now {
		m.at(at, &event{kind: evEnqueue, f: f})
		return
	}
	m.enqueue(f)
}

func (m *model) enqueue(f *file) {
	m.queue = append(m.queue, f)
	m.r.queued(len(m.queue))
	for _, in := range m.instances {
		if !in.busy && len(m.queue) > 0 {
			m.work(in)
		}
	}
}

// work gives an idle instance the next batch.
func (m *model) work(in *instance) {
	if in.busy || in.removed || len(m.queue) == 0 {
		return
	}
	n := min(len(m.queue), m.p.BatchSize)
	batch := append([]*file(nil), m.queue[:n]...)
	m.queue = m.queue[n:]
	in.busy = true
	calls := (n + 99) / 100
	d := time.Duration(float64(n)/m.p.SubmitRate*float64(time.Second)) + time.Duration((calls+3)/4)*m.p.AddTasksLatency
	m.r.functionSeconds(d)
	m.r.batchCalls(m.now+d, calls)
	m.at(m.now+d, &event{kind: evBatchDone, inst: in, fs: batch})
}

// batchDone adds the batch's tasks (creating the pool first, as
// ensurePool does) and takes the next batch.
func (m *model) batchDone(in *instance, fs []*file) {
	in.busy = false
	if !m.pool {
		m.createPool()
	}
	o := m.p.taskOptions()
	for _, f := range fs {
		t := &task{f: f, added: m.now,
			lifetime: plan.URLLifetime(f.size, m.p.SASQueueing, o),
			wall:     plan.WallClock(f.size, m.p.MinWallClock, m.p.WallClockPerGiB),
			retries:  plan.Retries(f.size, m.p.MaxTaskRetries)}
		m.active = append(m.active, t)
	}
	m.r.activeTasks(len(m.active))
	if m.p.Scaling == ScalingManaged {
		m.resizeAtLeast(len(m.active) + m.running)
	}
	m.dispatch()
	if in.removed {
		return
	}
	m.work(in)
}

// scale is the scale controller: the target scaler asks for
// ceil(queue / batch size) instances at each check. Without Manage rights
// the scaler sees at most one message and scales incrementally, at most
// one new instance every 30 s for a non-HTTP trigger, while messages wait.
// Idle instances above the target leave.
func (m *model) scale() {
	m.r.sbManagementCredits(m.now, m.p.SBScalerCredits)
	have := len(m.instances) + m.starting
	target := m.busy()
	switch {
	case len(m.queue) == 0:
	case m.p.ScaleByQueueLength:
		target = max(target, (len(m.queue)+m.p.BatchSize-1)/m.p.BatchSize)
	case m.now-m.lastIncrement >= 30*time.Second:
		target = max(target, have+1)
		m.lastIncrement = m.now
	default:
		target = max(target, have)
	}
	if target > m.p.MaxInstances {
		target = m.p.MaxInstances
		if len(m.queue) > 0 {
			m.r.limit(m.now, LimitInstances)
		}
	}
	for ; have < target; have++ {
		m.starting++
		m.at(m.now+m.p.InstanceColdStart, &event{kind: evInstanceReady, inst: &instance{}})
	}
	surplus := have - target
	kept := m.instances[:0]
	for _, in := range m.instances {
		if surplus > 0 && !in.busy {
			in.removed = true
			surplus--
			continue
		}
		kept = append(kept, in)
	}
	m.instances = kept
}

func (m *model) busy() int {
	n := 0
	for _, in := range m.instances {
		if in.busy {
			n++
		}
	}
	return n
}

func (m *model) createPool() {
	m.pool, m.poolSince, m.idleSince = true, m.now, 0
	m.poolGen++
	m.samples = nil
	m.r.poolCreated()
	if m.p.Scaling == ScalingAutoscale {
		// Batch evaluates the formula when the pool is created and then
		// every interval; $PendingTasks is sampled every 30 s.
		m.at(m.now, &event{kind: evAutoscale, gen: m.poolGen})
		m.at(m.now, &event{kind: evSample, gen: m.poolGen})
	}
}

// autoscale evaluates plan.AutoscaleFormula's arithmetic: pending is the
// latest sample, or the larger of it and the 5-minute average once 70% of
// that window's samples exist; nodes = ceil(pending / slots), dedicated
// first.
func (m *model) autoscale() {
	window := m.now - 5*time.Minute
	var latest, sum, n int
	for _, s := range m.samples {
		if s.at > window {
			sum += s.pending
			n++
		}
		latest = s.pending
	}
	pending := latest
	if float64(n) >= 0.7*10 && float64(sum)/float64(n) > float64(latest) {
		pending = int(math.Ceil(float64(sum) / float64(n)))
	}
	m.resize(pending)
}

// resizeAtLeast is managed mode's growManagedPool: grow to what pending
// tasks need, never shrink.
func (m *model) resizeAtLeast(pending int) {
	ded, spot := plan.ManagedTargets(m.p.poolOptions(), pending)
	d, s := m.count()
	if ded > d || spot > s {
		m.resize(pending)
	}
}

// resize sets the node targets for pending tasks: new nodes start after
// NodeStart; surplus idle nodes leave at once and busy ones once their
// tasks complete (taskcompletion).
func (m *model) resize(pending int) {
	o := m.p.poolOptions()
	ded, spot := plan.ManagedTargets(o, pending)
	need := (pending + m.p.TaskSlots - 1) / m.p.TaskSlots
	if need > ded+spot {
		if o.SpotMax < m.p.SpotMax || o.DedicatedMax < m.p.DedicatedMax {
			m.r.limit(m.now, LimitCoreQuota)
		} else {
			m.r.limit(m.now, LimitNodeSetting)
		}
	}
	d, s := m.count()
	m.adjust(true, s, spot)
	m.adjust(false, d, ded)
	m.r.nodes(m.live())
}

func (m *model) count() (dedicated, spot int) {
	for _, n := range m.nodes {
		if n.removed || n.draining {
			continue
		}
		if n.spot {
			spot++
		} else {
			dedicated++
		}
	}
	return dedicated, spot
}

func (m *model) live() int {
	c := 0
	for _, n := range m.nodes {
		if !n.removed {
			c++
		}
	}
	return c
}

func (m *model) adjust(spot bool, have, want int) {
	for ; have < want; have++ {
		n := &node{spot: spot, since: m.now}
		m.nodes = append(m.nodes, n)
		m.at(m.now+m.p.NodeStart, &event{kind: evNodeReady, node: n})
	}
	// Leave: nodes still starting first, then idle ones, then busy ones
	// after their tasks.
	for pass := 0; pass < 3 && have > want; pass++ {
		for _, n := range m.nodes {
			if have == want {
				break
			}
			if n.spot != spot || n.removed || n.draining {
				continue
			}
			switch {
			case pass == 0 && !n.ready, pass == 1 && n.ready && len(n.running) == 0:
				m.remove(n)
				have--
			case pass == 2:
				n.draining = true
				have--
			}
		}
	}
}

func (m *model) remove(n *node) {
	if n.removed {
		return
	}
	n.removed = true
	m.r.nodeHours(n.spot, m.now-n.since)
	m.compactNodes()
}

// compactNodes drops removed nodes from the list now and then.
func (m *model) compactNodes() {
	if len(m.nodes) < 64 {
		return
	}
	live := 0
	for _, n := range m.nodes {
		if !n.removed {
			live++
		}
	}
	if live*2 > len(m.nodes) {
		return
	}
	kept := m.nodes[:0]
	for _, n := range m.nodes {
		if !n.removed {
			kept = append(kept, n)
		}
	}
	m.nodes = kept
}

// release offers a node's free slots to the dispatcher.
func (m *model) release(n *node) {
	if n.ready && !n.removed && !n.draining && !n.inFree && len(n.running) < m.p.TaskSlots {
		n.inFree = true
		m.free = append(m.free, n)
	}
}

// dispatch starts waiting tasks on free slots, filling a node before the
// next (nodeFillType pack).
func (m *model) dispatch() {
	for len(m.active) > 0 && len(m.free) > 0 {
		n := m.free[len(m.free)-1]
		if n.removed || n.draining || len(n.running) >= m.p.TaskSlots {
			n.inFree = false
			m.free = m.free[:len(m.free)-1]
			continue
		}
		t := m.active[0]
		m.active = m.active[1:]
		m.start(t, n)
	}
}

// start runs one attempt of t on n. Its URLs fail it if they expire
// before the download (at the start) or the upload (at the end).
func (m *model) start(t *task, n *node) {
	t.node, t.attempts = n, t.attempts+1
	t.gen++
	n.running = append(n.running, t)
	m.running++
	perSlot := m.p.NodeMbps * 1e6 / 8 / float64(m.p.TaskSlots) // bytes/s
	mp3 := t.f.audio.Seconds() * 192e3 / 8
	d := m.p.TaskOverhead +
		time.Duration((float64(t.f.size)+mp3)/perSlot*float64(time.Second)) +
		time.Duration(t.f.audio.Seconds()/m.p.TranscodeSpeed*float64(time.Second))
	expiry := t.added + t.lifetime
	t.expired, t.timedOut = false, false
	switch {
	case m.now > expiry:
		d, t.expired = m.p.TaskOverhead, true
	case d > t.wall:
		d, t.timedOut = t.wall, true
	case m.now+d > expiry:
		t.expired = true
	}
	if t.expired {
		m.r.limit(m.now, LimitSAS)
	}
	m.r.download(m.now, t.f.size)
	m.r.waited(m.now - t.added)
	m.at(m.now+d, &event{kind: evTaskDone, task: t, gen: t.gen})
}

// taskDone frees the slot; a timed-out attempt is retried by Batch, any
// other ending waits for SweepPools.
func (m *model) taskDone(t *task) {
	n := t.node
	m.detach(t)
	m.running--
	if t.timedOut && t.attempts <= t.retries {
		m.active = append(m.active, t)
	} else {
		t.done = m.now
		m.completed = append(m.completed, t)
	}
	if n.draining && len(n.running) == 0 {
		m.remove(n)
	}
	m.release(n)
	m.dispatch()
}

func (m *model) detach(t *task) {
	n := t.node
	for i, r := range n.running {
		if r == t {
			n.running = append(n.running[:i], n.running[i+1:]...)
			break
		}
	}
	t.node = nil
}

func (m *model) preemptLater(n *node) {
	if !n.spot || m.p.SpotPreemptPerHr <= 0 {
		return
	}
	after := time.Duration(m.rng.ExpFloat64() / m.p.SpotPreemptPerHr * float64(time.Hour))
	m.at(m.now+after, &event{kind: evPreempt, node: n})
}

// preempt takes a Spot node away: its running tasks go back to the front
// of the job (requeued, not retried); the formula asks for a replacement.
func (m *model) preempt(n *node) {
	if n.removed {
		return
	}
	m.r.preempted(len(n.running))
	back := append([]*task(nil), n.running...)
	for _, t := range back {
		m.detach(t)
		m.running--
		t.attempts--
		t.gen++
	}
	m.active = append(back, m.active...)
	m.remove(n)
	if m.p.Scaling == ScalingManaged {
		m.resizeAtLeast(len(m.active) + m.running)
	}
	m.dispatch()
}

// sweep is SweepPools: settle up to MaxSweepTasks completed tasks with
// SweepWorkers at a time (answers go out as each is settled), schedule
// resubmissions, size a managed pool and delete an idle one. A run still
// going when the timer fires again makes that run skip.
func (m *model) sweep() {
	if m.now < m.sweepUntil {
		m.r.limit(m.now, LimitSweep)
		return
	}
	n := min(len(m.completed), m.p.MaxSweepTasks)
	if len(m.completed) > m.p.MaxSweepTasks {
		m.r.limit(m.now, LimitSweep)
	}
	for i, t := range m.completed[:n] {
		at := m.now + time.Duration(i/m.p.SweepWorkers+1)*m.p.SettleTime
		m.settle(t, at)
	}
	m.completed = m.completed[n:]
	d := time.Duration((n+m.p.SweepWorkers-1)/m.p.SweepWorkers) * m.p.SettleTime
	m.sweepUntil = m.now + d
	m.r.functionSeconds(d + 500*time.Millisecond)
	m.r.sweepCalls(m.now, n)
	if !m.pool {
		return
	}
	if m.p.Scaling == ScalingManaged {
		m.resize(len(m.active) + m.running)
	}
	if len(m.active)+m.running+len(m.completed) > 0 || len(m.queue) > 0 {
		m.idleSince = 0
		return
	}
	if m.idleSince == 0 {
		m.idleSince = m.now
		return
	}
	if m.now-m.idleSince >= m.p.PoolIdleTimeout {
		for _, nd := range m.nodes {
			m.remove(nd)
		}
		m.nodes, m.free, m.pool = nil, nil, false
		m.r.nodes(0)
	}
}

func (m *model) settle(t *task, at time.Duration) {
	f := t.f
	if t.timedOut { // out of retries at the wall-clock limit: permanent
		m.r.timedOut()
		m.r.answered(f, at, false)
		m.outstanding--
		return
	}
	if !t.expired {
		m.r.answered(f, at, true)
		m.outstanding--
		return
	}
	m.r.expiredSAS()
	if f.resubmits >= m.p.MaxResubmits {
		m.r.answered(f, at, false)
		m.outstanding--
		return
	}
	f.resubmits++
	m.r.resubmitted()
	backoff := m.p.ResubmitBackoff << (f.resubmits - 1)
	m.at(at+backoff, &event{kind: evArrive, f: f})
}

// finish bills the nodes still up and records what was left unanswered.
func (m *model) finish() {
	for _, n := range m.nodes {
		if !n.removed {
			m.r.nodeHours(n.spot, m.now-n.since)
		}
	}
	m.r.end(m.outstanding)
}
