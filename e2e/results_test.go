package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
	"github.com/ffbatch/ffbatch/internal/syncbuf"
)

// userConfig writes the Service Bus emulator's built-in Config.json with
// the results topic's subscriptions changed by edit, as a user's own
// --sb-config file.
func userConfig(t *testing.T, edit func(subs []any) []any) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "sbemu"), "--print-default-config").Output()
	if err != nil {
		t.Fatalf("sbemu --print-default-config: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	ns := cfg["UserConfig"].(map[string]any)["Namespaces"].([]any)[0].(map[string]any)
	for _, tp := range ns["Topics"].([]any) {
		topic := tp.(map[string]any)
		if topic["Name"] == "results" {
			topic["Subscriptions"] = edit(topic["Subscriptions"].([]any))
		}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "Config.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// consume receives and completes every message on a subscription until
// ctx ends, as a user's subscriber would, and collects the events' blobs.
type consumer struct {
	mu    sync.Mutex // guards blobs
	blobs []string
}

func (c *consumer) run(ctx context.Context, t *testing.T, r *azservicebus.Receiver) {
	for ctx.Err() == nil {
		msgs, err := r.ReceiveMessages(ctx, 10, nil)
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("receive: %v", err)
			}
			return
		}
		for _, m := range msgs {
			var ev results.Event
			if err := json.Unmarshal(m.Body, &ev); err != nil || ev.File == nil {
				t.Errorf("not a result event with a file: %v: %s", err, m.Body)
			} else {
				c.mu.Lock()
				c.blobs = append(c.blobs, ev.File.Blob)
				c.mu.Unlock()
			}
			if err := r.CompleteMessage(ctx, m, nil); err != nil && ctx.Err() == nil {
				t.Errorf("complete: %v", err)
			}
		}
	}
}

func (c *consumer) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.blobs)
	sort.Strings(out)
	return out
}

// TestResultsConsumers: with a user's own Service Bus config (`up
// --sb-config`) that adds a subscription "mine", two subscribers of the
// user's, one on "mine" and one on "all", receive and complete every event,
// and `ffbatch results`, which peeks its own subscription "cli", still
// lists every event: none of them takes events from another.
func TestResultsConsumers(t *testing.T) {
	cfg := userConfig(t, func(subs []any) []any {
		return append(subs, map[string]any{"Name": "mine"})
	})
	p := startPipeline(t, nil, func(o *localstack.Options) { o.ServiceBusConfig = cfg })
	if err := p.stack.WriteRecord(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	users := map[string]*consumer{"mine": {}, "all": {}}
	for sub, c := range users {
		r, err := p.sb.NewReceiverForSubscription(p.ep.ResultsTopic, sub, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); defer r.Close(context.Background()); c.run(ctx, t, r) }()
	}

	want := []string{"consumers/a.mp4", "consumers/b.mp4", "consumers/c.mp4"}
	for _, name := range want {
		p.upload(name, sample(t, "tone2s.mp4"))
	}
	deadline := time.Now().Add(waitTimeout)
	for sub, c := range users {
		for !slices.Equal(c.got(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the subscriber on %q got %q after %s, want %q", sub, c.got(), waitTimeout, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Both subscribers have completed their copies; the CLI still sees
	// every event on its own subscription.
	code, out, errs := ffbatch(t, p.stack.Dir, "results", "--json")
	if code != 0 {
		t.Fatalf("ffbatch results: exit %d: %s", code, errs)
	}
	var cli []string
	for _, line := range strings.Fields(out) {
		var ev results.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.File == nil {
			t.Fatalf("results --json line %q: %v", line, err)
		}
		cli = append(cli, ev.File.Blob)
	}
	sort.Strings(cli)
	if !slices.Equal(cli, want) {
		t.Errorf("ffbatch results (subscription cli) = %q, want %q", cli, want)
	}
	for sub, c := range users {
		if got := c.got(); !slices.Equal(got, want) {
			t.Errorf("the subscriber on %q got %q in the end, want each event once: %q", sub, got, want)
		}
	}
}

// TestResultsSubscriptionMissing: a user's --sb-config without the CLI's
// subscription starts, with a warning that names it, and `ffbatch
// results` then says which subscription is missing and how to add it.
func TestResultsSubscriptionMissing(t *testing.T) {
	cfg := userConfig(t, func(subs []any) []any {
		return slices.DeleteFunc(subs, func(s any) bool { return s.(map[string]any)["Name"] == localstack.CLISubscription })
	})
	var warnings syncbuf.Buffer
	p := startPipeline(t, nil, func(o *localstack.Options) {
		o.ServiceBusConfig = cfg
		o.Logger = slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	if err := p.stack.WriteRecord(); err != nil {
		t.Fatal(err)
	}
	if want := `lacks subscription \"cli\" of topic \"results\"`; !strings.Contains(warnings.String(), want) {
		t.Errorf("start warnings %q lack %q", warnings.String(), want)
	}
	code, _, errs := ffbatch(t, p.stack.Dir, "results")
	if code != 1 {
		t.Fatalf("results without its subscription: exit %d, want 1: %s", code, errs)
	}
	for _, want := range []string{`has no subscription "cli"`, `add {"Name": "cli"} to the topic's Subscriptions`, "--subscription NAME"} {
		if !strings.Contains(errs, want) {
			t.Errorf("results error lacks %q: %s", want, errs)
		}
	}
	// Reading another subscription still works.
	if code, out, errs := ffbatch(t, p.stack.Dir, "results", "--subscription", "all"); code != 0 || !strings.Contains(out, "0 result(s)") {
		t.Errorf("results --subscription all: exit %d: %s%s", code, out, errs)
	}
}
