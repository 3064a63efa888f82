package sbemu_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus/admin"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

// envServiceBus is the real-namespace harness's one setting
// (docs/emulator-fidelity.md, "Running the conformance suites against Azure").
const envServiceBus = "FFBATCH_CONFORMANCE_SERVICEBUS_CONNECTION_STRING"

// errNoNamespace means the harness is not configured: the test skips.
var errNoNamespace = errors.New(envServiceBus + " is not set: set it to a Standard-tier namespace's connection string " +
	"(Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…, a key with Manage rights) " +
	"to run the Service Bus conformance suite against Azure")

// namespace is a real Service Bus namespace to test.
type namespace struct {
	connString string // with SharedAccessKey
	host       string // <namespace>.servicebus.windows.net
	prefix     string // unique per run, so runs never collide
}

// TestAzureServiceBus runs the conformance suite against a real namespace.
// Each test creates the testConfig entities it uses, named
// sbct<random>-<test>-<name>, and deletes them when it ends, also on
// failure.
func TestAzureServiceBus(t *testing.T) {
	ns, err := namespaceFromEnv(os.LookupEnv)
	if errors.Is(err, errNoNamespace) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := broker.LoadConfig([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	runConformance(t, func(t *testing.T) *env {
		return newAzureEnv(t, ns, cfg, fmt.Sprintf("%s-%d", ns.prefix, n.Add(1)))
	})
}

// namespaceFromEnv reads the harness's configuration (lookup is
// os.LookupEnv) and picks the run's random prefix.
func namespaceFromEnv(lookup func(string) (string, bool)) (namespace, error) {
	cs, _ := lookup(envServiceBus)
	cs = strings.TrimSpace(cs)
	if cs == "" {
		return namespace{}, errNoNamespace
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	host := strings.Trim(strings.TrimPrefix(fields["endpoint"], "sb://"), "/")
	switch {
	case host == "" || !strings.HasPrefix(fields["endpoint"], "sb://"):
		return namespace{}, fmt.Errorf("%s: no Endpoint=sb://<namespace>.servicebus.windows.net/", envServiceBus)
	case fields["sharedaccesskeyname"] == "" || fields["sharedaccesskey"] == "":
		return namespace{}, fmt.Errorf("%s: want SharedAccessKeyName and SharedAccessKey (the suite creates entities and checks a wrong key)", envServiceBus)
	case strings.EqualFold(fields["usedevelopmentemulator"], "true"):
		return namespace{}, fmt.Errorf("%s names an emulator; TestConformance covers the emulator", envServiceBus)
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return namespace{}, err
	}
	return namespace{connString: cs, host: host, prefix: "sbct" + hex.EncodeToString(b)}, nil
}

// withKey returns the connection string with its SharedAccessKey replaced.
func (ns namespace) withKey(key string) string {
	parts := strings.Split(ns.connString, ";")
	for i, kv := range parts {
		if k, _, ok := strings.Cut(kv, "="); ok && strings.EqualFold(strings.TrimSpace(k), "SharedAccessKey") {
			parts[i] = "SharedAccessKey=" + key
		}
	}
	return strings.Join(parts, ";")
}

// newAzureEnv returns an env on the real namespace whose entities are the
// testConfig entities named prefix-<name>, each created on first use and
// deleted when the test ends.
func newAzureEnv(t *testing.T, ns namespace, cfg *broker.Config, prefix string) *env {
	t.Helper()
	ac, err := admin.NewClientFromConnectionString(ns.connString, nil)
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	var mu sync.Mutex
	created := map[string]bool{}
	e := &env{addr: ns.host, conn: ns.withKey}
	e.entity = func(t testing.TB, path string) string {
		t.Helper()
		top, rest, _ := strings.Cut(path, "/")
		name := prefix + "-" + top
		if rest != "" {
			rest = "/" + rest
		}
		mu.Lock()
		defer mu.Unlock()
		if created[top] {
			return name + rest
		}
		plan, ok := planEntity(cfg, top)
		if !ok {
			return name + rest // not in testConfig: a path that does not exist
		}
		created[top] = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		t.Cleanup(func() { deleteEntity(t, ac, plan, name) })
		if err := createEntity(ctx, ac, plan, name); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return name + rest
	}
	e.client = e.newClient(t, keyOf(ns.connString))
	return e
}

func keyOf(cs string) string {
	for _, kv := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.EqualFold(strings.TrimSpace(k), "SharedAccessKey") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// entityPlan is what to create on a real namespace for one testConfig
// queue or topic.
type entityPlan struct {
	queue         *admin.QueueProperties
	topic         *admin.TopicProperties
	subscriptions map[string]*admin.SubscriptionProperties // by name; DefaultRule set from the first rule
	moreRules     map[string][]admin.RuleProperties        // rules after the first, by subscription
}

// planEntity translates the testConfig entity named name into admin
// properties, so the real namespace gets exactly the emulator's settings.
func planEntity(cfg *broker.Config, name string) (entityPlan, bool) {
	for _, q := range cfg.Queues {
		if q.Name == name {
			p := q.Properties
			return entityPlan{queue: &admin.QueueProperties{
				LockDuration:                        iso(p.LockDuration),
				MaxDeliveryCount:                    ptr(int32(p.MaxDeliveryCount)),
				DefaultMessageTimeToLive:            iso(p.DefaultMessageTimeToLive),
				DeadLetteringOnMessageExpiration:    ptr(p.DeadLetteringOnMessageExpiration),
				RequiresDuplicateDetection:          ptr(p.RequiresDuplicateDetection),
				DuplicateDetectionHistoryTimeWindow: iso(p.DuplicateDetectionHistoryTimeWindow),
			}}, true
		}
	}
	for _, tc := range cfg.Topics {
		if tc.Name != name {
			continue
		}
		p := tc.Properties
		plan := entityPlan{topic: &admin.TopicProperties{
			DefaultMessageTimeToLive:            iso(p.DefaultMessageTimeToLive),
			RequiresDuplicateDetection:          ptr(p.RequiresDuplicateDetection),
			DuplicateDetectionHistoryTimeWindow: iso(p.DuplicateDetectionHistoryTimeWindow),
		}, subscriptions: map[string]*admin.SubscriptionProperties{}, moreRules: map[string][]admin.RuleProperties{}}
		for _, sc := range tc.Subscriptions {
			sp := sc.Properties
			props := &admin.SubscriptionProperties{
				LockDuration:                     iso(sp.LockDuration),
				MaxDeliveryCount:                 ptr(int32(sp.MaxDeliveryCount)),
				DefaultMessageTimeToLive:         iso(sp.DefaultMessageTimeToLive),
				DeadLetteringOnMessageExpiration: ptr(sp.DeadLetteringOnMessageExpiration),
			}
			for i, rc := range sc.Rules {
				if i == 0 {
					props.DefaultRule = ptr(rule(rc))
					continue
				}
				plan.moreRules[sc.Name] = append(plan.moreRules[sc.Name], rule(rc))
			}
			plan.subscriptions[sc.Name] = props
		}
		return plan, true
	}
	return entityPlan{}, false
}

func iso(d time.Duration) *string {
	if d == 0 {
		return nil // the service's default
	}
	return ptr(dotnettime.FormatDuration(d))
}

// rule translates a testConfig rule.
func rule(rc broker.RuleConfig) admin.RuleProperties {
	r := admin.RuleProperties{Name: rc.Name, Filter: &admin.TrueFilter{}}
	switch {
	case rc.FilterType == broker.FilterSQL:
		r.Filter = &admin.SQLFilter{Expression: rc.SQL}
	case rc.FilterType == broker.FilterCorrelation && rc.Correlation != nil:
		c := rc.Correlation
		opt := func(s string) *string {
			if s == "" {
				return nil
			}
			return &s
		}
		r.Filter = &admin.CorrelationFilter{ApplicationProperties: c.Properties, ContentType: opt(c.ContentType),
			CorrelationID: opt(c.CorrelationID), MessageID: opt(c.MessageID), ReplyTo: opt(c.ReplyTo),
			ReplyToSessionID: opt(c.ReplyToSessionID), SessionID: opt(c.SessionID), Subject: opt(c.Label), To: opt(c.To)}
	}
	if rc.Action != "" {
		r.Action = &admin.SQLAction{Expression: rc.Action}
	}
	return r
}

func createEntity(ctx context.Context, ac *admin.Client, plan entityPlan, name string) error {
	if plan.queue != nil {
		_, err := ac.CreateQueue(ctx, name, &admin.CreateQueueOptions{Properties: plan.queue})
		return err
	}
	if _, err := ac.CreateTopic(ctx, name, &admin.CreateTopicOptions{Properties: plan.topic}); err != nil {
		return err
	}
	for sub, props := range plan.subscriptions {
		if _, err := ac.CreateSubscription(ctx, name, sub, &admin.CreateSubscriptionOptions{Properties: props}); err != nil {
			return fmt.Errorf("subscription %s: %w", sub, err)
		}
		for _, r := range plan.moreRules[sub] {
			if _, err := ac.CreateRule(ctx, name, sub, &admin.CreateRuleOptions{Name: &r.Name, Filter: r.Filter, Action: r.Action}); err != nil {
				return fmt.Errorf("subscription %s rule %s: %w", sub, r.Name, err)
			}
		}
	}
	return nil
}

// deleteEntity removes what createEntity made (a topic takes its
// subscriptions with it); it runs also when the test or the creation
// failed.
func deleteEntity(t testing.TB, ac *admin.Client, plan entityPlan, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if plan.queue != nil {
		_, err = ac.DeleteQueue(ctx, name, nil)
	} else {
		_, err = ac.DeleteTopic(ctx, name, nil)
	}
	var re *azcore.ResponseError
	if err != nil && !(errors.As(err, &re) && re.StatusCode == 404) { // 404: creation failed early
		t.Errorf("cleanup: delete %s: %v (delete it by hand)", name, err)
	}
}

// TestAzureServiceBusFromEnv is the harness's dry run, part of make test:
// the configuration it builds from the environment and the entities it
// would create, without network.
func TestAzureServiceBusFromEnv(t *testing.T) {
	const cs = "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2VjcmV0"
	t.Run("not configured", func(t *testing.T) {
		t.Setenv(envServiceBus, "")
		if _, err := namespaceFromEnv(os.LookupEnv); !errors.Is(err, errNoNamespace) || !strings.Contains(err.Error(), envServiceBus) {
			t.Fatalf("namespaceFromEnv() error = %v, want the skip message naming %s", err, envServiceBus)
		}
	})
	for name, bad := range map[string]string{
		"no key":      "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey",
		"no endpoint": "SharedAccessKeyName=k;SharedAccessKey=v",
		"emulator":    connString("127.0.0.1:5672", "SAS_KEY_VALUE"),
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Setenv(envServiceBus, bad)
			if _, err := namespaceFromEnv(os.LookupEnv); err == nil || errors.Is(err, errNoNamespace) {
				t.Fatalf("namespaceFromEnv() error = %v, want a configuration error", err)
			}
		})
	}
	t.Setenv(envServiceBus, cs)
	ns, err := namespaceFromEnv(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := namespaceFromEnv(os.LookupEnv)
	if ns.host != "ns1.servicebus.windows.net" || ns.connString != cs || !strings.HasPrefix(ns.prefix, "sbct") || ns.prefix == other.prefix {
		t.Errorf("namespace = %+v (next run's prefix %q), want host ns1.servicebus.windows.net and a fresh sbct prefix", ns, other.prefix)
	}
	if got, want := ns.withKey("WRONG_KEY"), strings.Replace(cs, "c2VjcmV0", "WRONG_KEY", 1); got != want || keyOf(cs) != "c2VjcmV0" {
		t.Errorf("withKey = %q, keyOf = %q", got, keyOf(cs))
	}

	cfg, err := broker.LoadConfig([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	q1, ok := planEntity(cfg, "q1")
	if !ok || q1.queue == nil || *q1.queue.LockDuration != "PT5S" || *q1.queue.MaxDeliveryCount != 3 || *q1.queue.DefaultMessageTimeToLive != "PT1H" {
		t.Errorf("plan for q1 = %+v, want lock PT5S, 3 deliveries, TTL PT1H", q1.queue)
	}
	dedup, _ := planEntity(cfg, "dedup")
	if dedup.queue == nil || !*dedup.queue.RequiresDuplicateDetection || *dedup.queue.DuplicateDetectionHistoryTimeWindow != "PT1M" {
		t.Errorf("plan for dedup = %+v, want duplicate detection over PT1M", dedup.queue)
	}
	t1, ok := planEntity(cfg, "t1")
	red := t1.subscriptions["red"]
	if !ok || t1.topic == nil || len(t1.subscriptions) != 2 || t1.subscriptions["all"] == nil || t1.subscriptions["all"].DefaultRule != nil ||
		red == nil || red.DefaultRule == nil || red.DefaultRule.Name != "red" {
		t.Fatalf("plan for t1 = %+v, want subscriptions all (default rule) and red", t1)
	}
	if f, ok := red.DefaultRule.Filter.(*admin.CorrelationFilter); !ok || f.ApplicationProperties["color"] != "red" {
		t.Errorf("red's rule filter = %#v, want a correlation filter on color=red", red.DefaultRule.Filter)
	}
	if _, ok := planEntity(cfg, "no-such-queue"); ok {
		t.Error("planEntity(no-such-queue) found a plan; unknown names must not be created")
	}
}
