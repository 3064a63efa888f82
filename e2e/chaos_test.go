package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// chaosPlan is one chaos run: how many files, how many of them get a
// second version while the run goes on, how many kills, and the pause
// between kills.
type chaosPlan struct {
	files, overwrites, kills int
	minPause, maxPause       time.Duration
	seeds                    []uint64
	// killAzurite kills Azurite with SIGKILL like the rest; otherwise it
	// is stopped with SIGTERM. Azurite keeps its metadata in memory and
	// saves it every 5 seconds, so a SIGKILL loses writes it acknowledged
	// (records go back in time, MP3s already reported vanish) and some
	// requests are only recovered by the lost-task and queued scans after
	// FFBATCH_ORPHAN_GRACE (at least 10 minutes): too long for CI.
	killAzurite bool
	// wait bounds the wait for the answers after the last kill.
	wait time.Duration
	// settings are app settings on top of fastSettings.
	settings map[string]string
}

// chaosCI fits CI on a 2-core machine; FFBATCH_SOAK=1 runs chaosSoak
// (make soak), with Azurite stopped by SIGTERM like in CI unless
// FFBATCH_SOAK_AZURITE_SIGKILL=1 also SIGKILLs it: that variant measures
// Azurite's durability as much as ffbatch's (MP3s reported after their
// copy was confirmed vanish with the writes Azurite had not saved yet;
// Azure Storage does not lose acknowledged writes).
var (
	chaosCI = chaosPlan{files: 100, overwrites: 10, kills: 6, minPause: 2 * time.Second, maxPause: 5 * time.Second,
		seeds: []uint64{1, 2, 3}, wait: 3 * time.Minute}
	chaosSoak = chaosPlan{files: 400, overwrites: 40, kills: 40, minPause: 2 * time.Second, maxPause: 8 * time.Second,
		seeds: []uint64{11, 12, 13}, wait: 25 * time.Minute,
		settings: map[string]string{"FFBATCH_ORPHAN_GRACE": "10m"}}
)

// chaosVictims are the processes the driver kills: each component of
// the stack.
var chaosVictims = []string{"handler", "funchost", "sbemu", "batchemu", "node"}

// TestChaos runs files through `ffbatch up` while a driver kills a random
// component every few seconds (kill -9) and restarts it the way a user
// would: the host stand-in restarts its handler itself; any other
// component's death stops `ffbatch up`, and the user runs `ffbatch up`
// again on the same state directory. Some files get a second version
// (another duration) during the run. At the end every request has exactly
// one result event, every success has its MP3 with the right duration,
// the MP3 of each file is its latest version's, and nothing of the stack
// runs after `ffbatch down`. Each seed gives another schedule.
func TestChaos(t *testing.T) {
	plan := chaosCI
	if os.Getenv("FFBATCH_SOAK") != "" {
		plan = chaosSoak
		plan.killAzurite = os.Getenv("FFBATCH_SOAK_AZURITE_SIGKILL") == "1"
	}
	for _, seed := range plan.seeds {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			start := time.Now()
			runChaos(t, plan, seed)
			t.Logf("seed %d: %d files, %d kills in %s", seed, plan.files, plan.kills, time.Since(start).Round(time.Second))
		})
	}
}

func runChaos(t *testing.T, plan chaosPlan, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	settings := maps.Clone(fastSettings)
	maps.Copy(settings, plan.settings)
	var args []string
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		args = append(args, "-set", k+"="+settings[k])
	}
	s := &upStack{t: t, state: t.TempDir(), args: args}
	s.start()
	// Later starts keep the ports, as a user's do (the defaults): tasks
	// queued before a restart still reach Azurite at their URLs.
	s.args = append(s.args, portFlags(t, s.ep)...)
	latest := map[string]time.Duration{} // blob -> duration of its latest version
	v1, v2 := sample(t, "tone1s.mp4"), sample(t, "tone2s.mp4")
	for i := range plan.files {
		name := fmt.Sprintf("chaos/f-%03d.mp4", i)
		s.upload(name, v1)
		latest[name] = time.Second
	}
	for k := range plan.kills {
		time.Sleep(plan.minPause + time.Duration(rng.Int64N(int64(plan.maxPause-plan.minPause)+1))) // the fault schedule, not a wait for a condition
		victim := chaosVictims[rng.IntN(len(chaosVictims))]
		t.Logf("kill %d: %s", k+1, victim)
		s.kill(victim, victim != "node" || plan.killAzurite)
		if k == plan.kills/2 {
			for i := range plan.overwrites {
				name := fmt.Sprintf("chaos/f-%03d.mp4", i*plan.files/plan.overwrites)
				s.upload(name, v2)
				latest[name] = 2 * time.Second
			}
		}
	}
	s.checkAnswers(latest, plan.wait)
	procs := tree(s.up.cmd.Process.Pid)
	if code, out, errs := ffbatchBinary(t, "-state", s.state, "down"); code != 0 {
		t.Fatalf("down: exit %d\n%s%s", code, out, errs)
	}
	if err := s.up.wait(t, time.Minute); err != nil {
		t.Errorf("ffbatch up stopped by down: %v", err)
	}
	if left := waitNoneRunning(procs, 15*time.Second); len(left) > 0 {
		t.Errorf("still running after down: %v", left)
	}
	if left := processesUsing(s.state); len(left) > 0 {
		t.Errorf("processes still using %s after down: %v", s.state, left)
	}
}

// upStack is a stack run by `ffbatch up` on one state directory, with
// clients for its current endpoints (free ports: they change with every
// start).
type upStack struct {
	t     *testing.T
	state string
	args  []string
	up    *upProcess
	ep    localstack.Endpoints
	blobs *azblob.Client
	sb    *azservicebus.Client
}

// start runs `ffbatch up` and connects to what it started.
func (s *upStack) start() {
	s.t.Helper()
	s.up = startUp(s.t, s.state, s.args...)
	ep, err := localstack.LoadEndpoints(s.state)
	if err != nil {
		s.t.Fatal(err)
	}
	s.ep = ep
	if s.blobs, err = azblob.NewClientFromConnectionString(ep.StorageConnection, nil); err != nil {
		s.t.Fatal(err)
	}
	if s.sb != nil {
		_ = s.sb.Close(context.Background())
	}
	if s.sb, err = azservicebus.NewClientFromConnectionString(ep.ServiceBus, nil); err != nil {
		s.t.Fatal(err)
	}
	sb := s.sb
	s.t.Cleanup(func() { _ = sb.Close(context.Background()) })
}

// kill kills the process named victim under `ffbatch up` (kill -9, or
// SIGTERM unless hard). The host restarts a killed handler; any other
// death stops `ffbatch up`, which is then started again on the same state
// directory.
func (s *upStack) kill(victim string, hard bool) {
	s.t.Helper()
	var pid int
	for _, p := range tree(s.up.cmd.Process.Pid) {
		if p.name == victim {
			pid = p.pid
		}
	}
	if pid == 0 {
		s.t.Fatalf("no %s process under ffbatch up", victim)
	}
	sig := syscall.SIGKILL
	if !hard {
		sig = syscall.SIGTERM
	}
	if err := syscall.Kill(pid, sig); err != nil {
		s.t.Fatalf("kill %s: %v", victim, err)
	}
	if victim == "handler" {
		return
	}
	if err := s.up.wait(s.t, time.Minute); err == nil {
		s.t.Fatalf("ffbatch up exited 0 after %s was killed", victim)
	}
	s.start()
}

// portFlags are the `ffbatch up` flags that start a stack on ep's ports.
func portFlags(t *testing.T, ep localstack.Endpoints) []string {
	t.Helper()
	port := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || u.Port() == "" {
			t.Fatalf("no port in %q", raw)
		}
		return u.Port()
	}
	amqp := ""
	for _, kv := range strings.Split(ep.ServiceBus, ";") {
		if v, ok := strings.CutPrefix(kv, "Endpoint="); ok {
			amqp = port(v)
		}
	}
	return []string{"-blob-port", port(ep.BlobEndpoint), "-amqp-port", amqp, "-sb-http-port", port(ep.ServiceBusHTTP),
		"-batch-port", port(ep.BatchEndpoint), "-functions-port", port(ep.FunctionsURL)}
}

// upload puts data as name in the input container.
func (s *upStack) upload(name string, data []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if _, err := s.blobs.UploadBuffer(ctx, s.ep.InputContainer, name, data, nil); err != nil {
		s.t.Fatalf("upload %s: %v", name, err)
	}
}

// checkAnswers waits until every request has a result event and checks
// the run's invariants. The requests are the latest version of every file
// (its drop's request id) and every request a status record names.
func (s *upStack) checkAnswers(latest map[string]time.Duration, wait time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), wait+time.Minute)
	defer wcancel()
	var byID map[string][]results.Event
	var want map[string]string // request id -> blob
	for {
		want = s.requests(wctx, latest)
		byID = s.eventsByRequest(wctx)
		var missing []string
		for id, blob := range want {
			if len(byID[id]) == 0 {
				missing = append(missing, blob+" ("+id+")")
			}
		}
		if len(missing) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			slices.Sort(missing)
			dumpLogs(s.t, filepath.Join(s.state, "logs"))
			s.t.Fatalf("%d requests without an answer after %s: %s", len(missing), wait, strings.Join(missing, ", "))
		case <-time.After(time.Second):
		}
	}
	settle() // an answer published twice would show up by now
	byID = s.eventsByRequest(wctx)
	counts, failures := map[results.Status]int{}, map[string]int{}
	for id, evs := range byID {
		if len(evs) != 1 {
			s.t.Errorf("request %s (%s): %d result events, want exactly 1", id, want[id], len(evs))
		}
		counts[evs[0].Status]++
		if f := evs[0].Failure; f != nil {
			failures[string(f.Category)+"/"+f.Code]++
		}
	}
	s.t.Logf("%d requests answered: %v; failures by category/code: %v", len(byID), counts, failures)
	s.checkOutputs(wctx, latest, byID)
}

// requests returns the request ids that must be answered: the drop of
// each file's latest version and every request in the files' records.
func (s *upStack) requests(ctx context.Context, latest map[string]time.Duration) map[string]string {
	s.t.Helper()
	status := lifecycle.NewStore(s.blobs.ServiceClient().NewContainerClient(s.ep.StatusContainer), nil)
	want := map[string]string{}
	for blob := range latest {
		if etag := s.etag(ctx, blob); etag != "" {
			v := request.Version{Container: s.ep.InputContainer, Blob: blob, ETag: etag}
			want[arrival.Arrival{Version: v}.ID()] = blob
		}
		rec, err := status.Get(ctx, s.ep.InputContainer, blob)
		if err != nil {
			continue // not recorded yet
		}
		for _, e := range rec.Requests {
			want[e.ID] = blob
		}
	}
	return want
}

// eventsByRequest reads every result event, by request id.
func (s *upStack) eventsByRequest(ctx context.Context) map[string][]results.Event {
	s.t.Helper()
	got, err := localstack.PeekResults(ctx, s.sb, s.ep, "all", 100000)
	if err != nil {
		s.t.Fatalf("peek results: %v", err)
	}
	for _, err := range got.Undecodable {
		s.t.Error(err)
	}
	by := map[string][]results.Event{}
	for _, ev := range got.Events {
		if ev.Request == nil {
			s.t.Errorf("result event %s names no request", ev.ID)
			continue
		}
		by[ev.Request.ID] = append(by[ev.Request.ID], ev)
	}
	return by
}

// checkOutputs checks that every success names an MP3 that exists, and
// that the MP3 of each file's latest version has that version's duration
// (an MP3 of an older version would be 1 s long instead of 2 s).
func (s *upStack) checkOutputs(ctx context.Context, latest map[string]time.Duration, byID map[string][]results.Event) {
	s.t.Helper()
	outs := s.outputNames(ctx)
	for _, evs := range byID {
		ev := evs[0]
		if ev.Status != results.StatusSucceeded {
			continue
		}
		if ev.Output == nil || !outs[ev.Output.Blob] {
			s.t.Errorf("request %s (%s) succeeded, but its MP3 %v is not in the output container", ev.Request.ID, ev.File.Blob, ev.Output)
			continue
		}
		if ev.File == nil || latest[ev.File.Blob] == 0 {
			continue
		}
		if want := latest[ev.File.Blob]; ev.File.ETag == s.etag(ctx, ev.File.Blob) {
			s.checkDuration(ctx, ev.Output.Blob, want)
		}
	}
}

// outputNames lists the output container's MP3s.
func (s *upStack) outputNames(ctx context.Context) map[string]bool {
	s.t.Helper()
	out := map[string]bool{}
	pager := s.blobs.NewListBlobsFlatPager(s.ep.OutputContainer, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			s.t.Fatalf("list outputs: %v", err)
		}
		for _, b := range page.Segment.BlobItems {
			out[*b.Name] = true
		}
	}
	return out
}

// etag is the ETag of the input blob, or "" when it is gone (an upload
// Azurite lost to a kill -9).
func (s *upStack) etag(ctx context.Context, blob string) string {
	s.t.Helper()
	props, err := s.blobs.ServiceClient().NewContainerClient(s.ep.InputContainer).NewBlobClient(blob).GetProperties(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		s.t.Logf("%s is gone from the input container", blob)
		return ""
	}
	if err != nil {
		s.t.Fatalf("properties of %s: %v", blob, err)
	}
	return arrival.NormalizeETag(string(*props.ETag))
}

// checkDuration probes an output MP3 (ffprobe) for its duration.
func (s *upStack) checkDuration(ctx context.Context, name string, want time.Duration) {
	s.t.Helper()
	path := filepath.Join(s.t.TempDir(), strconv.Itoa(len(name))+".mp3")
	f, err := os.Create(path)
	if err != nil {
		s.t.Fatal(err)
	}
	_, err = s.blobs.DownloadFile(ctx, s.ep.OutputContainer, name, f, nil)
	f.Close()
	if err != nil {
		s.t.Fatalf("download %s: %v", name, err)
	}
	info, err := media.Probe(ctx, path)
	if err != nil {
		s.t.Fatalf("probe %s: %v", name, err)
	}
	if d := info.Duration - want; info.AudioCodec() != "mp3" || d < -300*time.Millisecond || d > 300*time.Millisecond {
		s.t.Errorf("%s: %s audio of %s, want an MP3 of about %s (the latest version's)", name, info.AudioCodec(), info.Duration, want)
	}
}
