package broker

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigEmulatorFormat(t *testing.T) {
	data, err := os.ReadFile("testdata/emulator-format.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(data)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.Namespace != "sbemulatorns" || cfg.Logging != "File" || len(cfg.Queues) != 3 || len(cfg.Topics) != 1 {
		t.Fatalf("parsed %+v", cfg)
	}
	q := cfg.Queues[0].Properties
	want := EntityProperties{
		DeadLetteringOnMessageExpiration:    true,
		DefaultMessageTimeToLive:            30 * time.Minute,
		DuplicateDetectionHistoryTimeWindow: time.Minute,
		LockDuration:                        45 * time.Second,
		MaxDeliveryCount:                    5,
		RequiresDuplicateDetection:          true,
	}
	if q != want {
		t.Errorf("orders.in properties = %+v, want %+v", q, want)
	}
	if got := cfg.Queues[2].Properties; got != DefaultProperties() {
		t.Errorf("defaults-only properties = %+v, want the emulator defaults %+v", got, DefaultProperties())
	}
	if f := cfg.Queues[1].Properties; f.ForwardTo != "Orders.In" || f.ForwardDeadLetteredMessagesTo != "audit" {
		t.Errorf("forwarding = %+v", f)
	}
	subs := cfg.Topics[0].Subscriptions
	if len(subs) != 3 || len(subs[0].Rules) != 2 || len(subs[1].Rules) != 0 || subs[2].Rules[0].Action != "SET sys.To = 'audited'" {
		t.Fatalf("subscriptions = %+v", subs)
	}
	corr := subs[0].Rules[1].Correlation
	if corr.Label != "audit" || corr.Properties["region"] != "eu" || corr.Properties["level"] != int64(3) {
		t.Errorf("correlation filter = %+v", corr)
	}

	// The configuration runs: correlation, default and SQL rules with an
	// action, and forwarding through a queue.
	b, _ := newTestBroker(t, cfg, "")
	mustSend(t, b, "audit",
		&Message{MessageID: "m-1", ContentType: "application/json", ApplicationProperties: map[string]any{"region": "eu"}},
		&Message{MessageID: "m-2", Subject: "audit", ApplicationProperties: map[string]any{"region": "eu", "level": int32(3)}},
	)
	for path, want := range map[string][]string{
		"audit/subscriptions/by-correlation": {"m-1", "m-2"},
		"audit/subscriptions/everything":     {"m-1", "m-2"},
		"audit/subscriptions/by-sql":         {"m-1"},
	} {
		got := mustAcquire(t, b, path, ReceiveAndDelete, 10)
		if strings.Join(ids(got), ",") != strings.Join(want, ",") {
			t.Errorf("%s got %v, want %v", path, ids(got), want)
		}
		if path == "audit/subscriptions/by-sql" && got[0].To != "audited" {
			t.Errorf("action did not set To: %+v", got[0])
		}
	}
	mustSend(t, b, "orders_forwarded", msg("f"))
	acquireOne(t, b, "orders.in", "f")
}

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()
	if len(cfg.Queues) != 1 || cfg.Queues[0].Name != "arrivals" {
		t.Fatalf("queues = %+v, want arrivals", cfg.Queues)
	}
	want := EntityProperties{
		DeadLetteringOnMessageExpiration:    true,
		DefaultMessageTimeToLive:            time.Hour,
		DuplicateDetectionHistoryTimeWindow: time.Hour, // as infra/modules/servicebus.bicep (duplicateDetectionWindow)
		LockDuration:                        5 * time.Minute,
		MaxDeliveryCount:                    10,
		RequiresDuplicateDetection:          true,
	}
	if got := cfg.Queues[0].Properties; got != want {
		t.Errorf("arrivals = %+v, want %+v", got, want)
	}
	if len(cfg.Topics) != 1 || cfg.Topics[0].Name != "results" {
		t.Fatalf("topics = %+v, want results", cfg.Topics)
	}
	var subs []string
	for _, s := range cfg.Topics[0].Subscriptions {
		subs = append(subs, s.Name)
	}
	// "all" for users' subscribers (and the end-to-end tests), "cli" for
	// `ffbatch results`: each gets every event.
	if !slices.Equal(subs, []string{"all", "cli"}) {
		t.Fatalf("results subscriptions = %q, want all and cli", subs)
	}
	b, _ := newTestBroker(t, nil, "")
	mustSend(t, b, "results", &Message{MessageID: "r", ApplicationProperties: map[string]any{"anything": true}})
	for _, sub := range subs {
		acquireOne(t, b, "results/subscriptions/"+sub, "r")
	}
}

// base is a valid configuration that the invalid cases modify.
const base = `{"UserConfig":{"Namespaces":[{"Name":"sbemulatorns","Queues":[%Q%],"Topics":[%T%]}],"Logging":{"Type":"File"}}}`

func cfgJSON(queues, topics string) string {
	return strings.NewReplacer("%Q%", queues, "%T%", topics).Replace(base)
}

func TestLoadConfigInvalid(t *testing.T) {
	topic := func(subs string) string { return `{"Name":"t","Subscriptions":[` + subs + `]}` }
	tests := []struct {
		name      string
		json      string
		wantField string // "" when the JSON decoder rejects it
		wantText  string
	}{
		{"not JSON", `{"UserConfig":`, "", "parse JSON"},
		{"trailing data", cfgJSON("", "") + "{}", "", "after the top-level object"},
		{"unterminated comment", `/* {"UserConfig":{}}`, "", "unterminated"},
		{"unknown property", cfgJSON(`{"Name":"q","Properties":{"LockDurations":"PT1M"}}`, ""), "", `unknown field "LockDurations"`},
		{"wrong type", cfgJSON(`{"Name":"q","Properties":{"MaxDeliveryCount":"3"}}`, ""), "", "MaxDeliveryCount"},
		{"subscription has no duplicate detection", cfgJSON("", topic(`{"Name":"s","Properties":{"RequiresDuplicateDetection":true}}`)), "", "unknown field"},
		{"no UserConfig", `{}`, "UserConfig", "required"},
		{"two namespaces", `{"UserConfig":{"Namespaces":[{"Name":"sbemulatorns"},{"Name":"sbemulatorns"}]}}`, "UserConfig.Namespaces", "exactly one"},
		{"wrong namespace", strings.Replace(cfgJSON("", ""), "sbemulatorns", "mine", 1), "UserConfig.Namespaces[0].Name", "sbemulatorns"},
		{"bad logging type", strings.Replace(cfgJSON("", ""), `"File"`, `"Syslog"`, 1), "UserConfig.Logging.Type", "Syslog"},
		{"bad duration", cfgJSON(`{"Name":"q","Properties":{"LockDuration":"1 minute"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.LockDuration", "ISO 8601"},
		{"bad duration designator", cfgJSON(`{"Name":"q","Properties":{"DefaultMessageTimeToLive":"PT1X"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.DefaultMessageTimeToLive", "designator"},
		{"topic bad duration", cfgJSON("", `{"Name":"t","Properties":{"DefaultMessageTimeToLive":"P"},"Subscriptions":[{"Name":"s"}]}`), "UserConfig.Namespaces[0].Topics[0].Properties.DefaultMessageTimeToLive", "ISO 8601"},
		{"lock too long", cfgJSON(`{"Name":"q","Properties":{"LockDuration":"PT6M"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.LockDuration", "PT5S..PT5M"},
		{"lock too short", cfgJSON("", topic(`{"Name":"s","Properties":{"LockDuration":"PT1S"}}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Properties.LockDuration", "PT5S..PT5M"},
		{"max delivery count zero", cfgJSON(`{"Name":"q","Properties":{"MaxDeliveryCount":0}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.MaxDeliveryCount", "1..2000"},
		{"dup window too short", cfgJSON(`{"Name":"q","Properties":{"DuplicateDetectionHistoryTimeWindow":"PT1S"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.DuplicateDetectionHistoryTimeWindow", "PT5S..P7D"},
		{"missing queue name", cfgJSON(`{"Properties":{}}`, ""), "UserConfig.Namespaces[0].Queues[0].Name", "required"},
		{"invalid queue name", cfgJSON(`{"Name":"-bad"}`, ""), "UserConfig.Namespaces[0].Queues[0].Name", "must start and end"},
		{"invalid characters", cfgJSON(`{"Name":"a b"}`, ""), "UserConfig.Namespaces[0].Queues[0].Name", "must start and end"},
		{"reserved segment", cfgJSON(`{"Name":"a/$deadletterqueue/b"}`, ""), "UserConfig.Namespaces[0].Queues[0].Name", "must start and end"},
		{"slash in subscription", cfgJSON("", topic(`{"Name":"a/b"}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Name", "must not contain '/'"},
		{"duplicate queue case-insensitive", cfgJSON(`{"Name":"q"},{"Name":"Q"}`, ""), "UserConfig.Namespaces[0].Queues[1].Name", "duplicate entity name"},
		{"queue and topic share a name", cfgJSON(`{"Name":"t"}`, topic(`{"Name":"s"}`)), "UserConfig.Namespaces[0].Topics[0].Name", "duplicate entity name"},
		{"duplicate subscription", cfgJSON("", topic(`{"Name":"s"},{"Name":"S"}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[1].Name", "duplicate subscription"},
		{"topic without subscriptions", cfgJSON("", `{"Name":"t"}`), "UserConfig.Namespaces[0].Topics[0].Subscriptions", "required"},
		{"unknown ForwardTo", cfgJSON(`{"Name":"q","Properties":{"ForwardTo":"ghost"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.ForwardTo", `"ghost" is not a queue or topic`},
		{"unknown ForwardDeadLetteredMessagesTo", cfgJSON("", topic(`{"Name":"s","Properties":{"ForwardDeadLetteredMessagesTo":"ghost"}}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Properties.ForwardDeadLetteredMessagesTo", "ghost"},
		{"forward to itself", cfgJSON(`{"Name":"q","Properties":{"ForwardTo":"Q"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Properties.ForwardTo", "itself"},
		{"forwarding cycle", cfgJSON(`{"Name":"a","Properties":{"ForwardTo":"b"}},{"Name":"b","Properties":{"ForwardTo":"a"}}`, ""), "UserConfig.Namespaces[0].Queues[0].Name", "cycle"},
		{"forwarding chain too long", cfgJSON(`{"Name":"a","Properties":{"ForwardTo":"b"}},{"Name":"b","Properties":{"ForwardTo":"c"}},{"Name":"c","Properties":{"ForwardTo":"d"}},{"Name":"d","Properties":{"ForwardTo":"e"}},{"Name":"e","Properties":{"ForwardTo":"f"}},{"Name":"f"}`, ""), "UserConfig.Namespaces[0].Queues[0].Name", "longer than 4 hops"},
		{"forwarding cycle through a topic", cfgJSON(`{"Name":"q","Properties":{"ForwardTo":"t"}}`, `{"Name":"t","Subscriptions":[{"Name":"s","Properties":{"ForwardTo":"q"}}]}`), "UserConfig.Namespaces[0].Queues[0].Name", "cycle"},
		{"rule without properties", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r"}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties", "required"},
		{"unknown filter type", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Boolean"}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.FilterType", "Boolean"},
		{"correlation without filter", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Correlation"}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.CorrelationFilter", "required"},
		{"empty correlation filter", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Correlation","CorrelationFilter":{}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.CorrelationFilter", "at least one"},
		{"correlation property object", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Correlation","CorrelationFilter":{"Properties":{"k":{}}}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.CorrelationFilter.Properties.k", "string, number or boolean"},
		{"sql without expression", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.SqlFilter.SqlExpression", "required"},
		{"sql syntax error", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"a = "}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.SqlFilter.SqlExpression", "expected a property or a literal"},
		{"sql arithmetic unsupported", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"a + 1 = 2"}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.SqlFilter.SqlExpression", "arithmetic is not supported"},
		{"sql unknown system property", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"sys.EnqueuedTimeUtc > 1"}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.SqlFilter.SqlExpression", "sys.EnqueuedTimeUtc is not supported"},
		{"remove action unsupported", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"1=1"},"Action":{"SqlExpression":"REMOVE a"}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[0].Properties.Action.SqlExpression", "REMOVE"},
		{"duplicate rule", cfgJSON("", topic(`{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"1=1"}}},{"Name":"R","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"1=1"}}}]}`)), "UserConfig.Namespaces[0].Topics[0].Subscriptions[0].Rules[1].Name", "duplicate rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig([]byte(tt.json))
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			var verr *ValidationError
			if tt.wantField == "" {
				return
			}
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			for _, p := range verr.Problems {
				if p.Field == tt.wantField && strings.Contains(p.Problem, tt.wantText) {
					return
				}
			}
			t.Errorf("problems %v: none on field %s mentioning %q", verr.Problems, tt.wantField, tt.wantText)
		})
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := LoadConfig([]byte(cfgJSON(`{"Name":"q","Properties":{"LockDuration":"PT0S","MaxDeliveryCount":0}}`, "")))
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 2 {
		t.Fatalf("err = %v, want two problems", err)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cfg := testConfig()
	cfg.Queues[0].Properties.MaxDeliveryCount = 0
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "MaxDeliveryCount") {
		t.Fatalf("New = %v, want a MaxDeliveryCount error", err)
	}
}
