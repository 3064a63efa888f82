package funchost

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestParseSchedule(t *testing.T) {
	from := time.Date(2026, 11, 27, 12, 3, 10, 0, time.UTC) // a Friday
	tests := []struct {
		name    string
		expr    string
		want    time.Time
		wantErr string
	}{
		{name: "every five minutes", expr: "0 */5 * * * *", want: time.Date(2026, 11, 27, 12, 5, 0, 0, time.UTC)},
		{name: "every second", expr: "* * * * * *", want: from.Add(time.Second)},
		{name: "weekdays at 9:30", expr: "0 30 9 * * 1-5", want: time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)},
		{name: "named day", expr: "0 0 0 * * SUN", want: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)},
		{name: "timespan", expr: "00:10:00", want: from.Add(10 * time.Minute)},
		{name: "five fields", expr: "*/5 * * * *", wantErr: "six fields"},
		{name: "seven fields", expr: "0 0 0 * * * 2026", wantErr: "six fields"},
		{name: "descriptor", expr: "@hourly", wantErr: "descriptors"},
		{name: "bad minute", expr: "0 61 * * * *", wantErr: "schedule"},
		{name: "empty", expr: " ", wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSchedule(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSchedule(%q) error = %v, want it to contain %q", tt.expr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSchedule(%q): %v", tt.expr, err)
			}
			if got := s.Next(from); !got.Equal(tt.want) {
				t.Errorf("Next(%s) = %s, want %s", from, got, tt.want)
			}
		})
	}
}

func TestTimerMonitorOffForSubMinuteSchedules(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		want     bool
	}{
		{name: "every minute", schedule: "0 * * * * *", want: true},
		{name: "every ten seconds", schedule: "*/10 * * * * *", want: false},
		{name: "hourly", schedule: "0 0 * * * *", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseTimerTrigger(binding{Type: typeTimerTrigger, props: map[string]any{"schedule": tt.schedule}})
			if err != nil {
				t.Fatal(err)
			}
			if c.Monitor != tt.want {
				t.Errorf("Monitor = %v, want %v", c.Monitor, tt.want)
			}
		})
	}
}

const timerFunction = `{"bindings": [{"name": "myTimer", "type": "timerTrigger", "direction": "in", "schedule": "0 0 0 1 1 *"}]}`

func TestNewRejectsBadLayouts(t *testing.T) {
	tests := []struct {
		name      string
		hostJSON  string
		functions map[string]string
		values    map[string]string
		settings  string // replaces local.settings.json when set
		mutate    func(t *testing.T, a *testApp)
		wantErr   string
	}{
		{name: "missing version", hostJSON: `{"customHandler": {"description": {"defaultExecutablePath": "handler"}}}`, wantErr: "'version' property is missing"},
		{name: "old version", hostJSON: `{"version": "1.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`, wantErr: `version "1.0" is not supported`},
		{name: "no custom handler", hostJSON: `{"version": "2.0"}`, wantErr: "no customHandler section"},
		{name: "no description", hostJSON: `{"version": "2.0", "customHandler": {}}`, wantErr: "missing worker description"},
		{name: "host.json not JSON", hostJSON: `{"version": `, wantErr: "parse"},
		{name: "bad function timeout", hostJSON: `{"version": "2.0", "functionTimeout": "ten minutes", "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`, wantErr: "functionTimeout"},
		{name: "missing executable", hostJSON: `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "nope-not-here"}}}`, wantErr: `defaultExecutablePath "nope-not-here": not found`},
		{name: "bad batch size", hostJSON: `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"serviceBus": {"maxMessageBatchSize": 0}}}`, wantErr: "maxMessageBatchSize must be at least 1"},
		{name: "bad retry mode", hostJSON: `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"serviceBus": {"clientRetryOptions": {"mode": "linear"}}}}`, wantErr: `mode "linear" must be exponential or fixed`},
		{name: "bad retry delay", hostJSON: `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"serviceBus": {"clientRetryOptions": {"delay": "soon"}}}}`, wantErr: `delay "soon" must be a non-negative timespan`},
		{name: "bad batch wait", hostJSON: `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}}, "extensions": {"serviceBus": {"maxBatchWaitTime": "00:05:00"}}}`, wantErr: "maxBatchWaitTime"},
		{name: "unknown trigger", functions: map[string]string{"F": `{"bindings": [{"name": "q", "type": "queueTrigger", "direction": "in", "queueName": "x"}]}`}, wantErr: `unknown trigger type "queueTrigger"`},
		{name: "no bindings", functions: map[string]string{"F": `{"bindings": []}`}, wantErr: "no bindings"},
		{name: "two triggers", functions: map[string]string{"F": `{"bindings": [{"name": "a", "type": "timerTrigger", "direction": "in", "schedule": "0 0 0 1 1 *"}, {"name": "b", "type": "httpTrigger", "direction": "in"}]}`}, wantErr: "found 2 trigger bindings"},
		{name: "missing name", functions: map[string]string{"F": `{"bindings": [{"type": "timerTrigger", "direction": "in", "schedule": "0 0 0 1 1 *"}]}`}, wantErr: `missing required property "name"`},
		{name: "missing schedule", functions: map[string]string{"F": `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in"}]}`}, wantErr: `missing required property "schedule"`},
		{name: "five field schedule", functions: map[string]string{"F": `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "*/5 * * * *"}]}`}, wantErr: "NCRONTAB needs six fields"},
		{name: "unresolved setting", functions: map[string]string{"F": `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "%NO_SUCH_SCHEDULE%"}]}`}, wantErr: "'%NO_SUCH_SCHEDULE%' does not resolve to a value"},
		{name: "output binding", functions: map[string]string{"F": `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "0 0 0 1 1 *"}, {"name": "o", "type": "queue", "direction": "out", "queueName": "x"}]}`}, wantErr: `output binding type "queue" is not supported`},
		{name: "batch without dataType", functions: map[string]string{"F": `{"bindings": [{"name": "m", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "SB", "cardinality": "many"}]}`}, values: map[string]string{"SB": "Endpoint=sb://localhost/;SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0"}, wantErr: "cardinality many needs"},
		{name: "queue and topic", functions: map[string]string{"F": `{"bindings": [{"name": "m", "type": "serviceBusTrigger", "direction": "in", "queueName": "a", "topicName": "t", "subscriptionName": "s", "connection": "SB"}]}`}, wantErr: "either queueName or topicName"},
		{name: "missing service bus connection", functions: map[string]string{"F": `{"bindings": [{"name": "m", "type": "serviceBusTrigger", "direction": "in", "queueName": "a", "connection": "NoSuchConnection"}]}`}, wantErr: "no app setting NoSuchConnection"},
		{name: "bad http method", functions: map[string]string{"F": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in", "methods": ["FETCH"]}]}`}, wantErr: `unknown HTTP method "FETCH"`},
		{name: "bad folder name", functions: map[string]string{"1F": timerFunction}, wantErr: "invalid function name"},
		{name: "no functions", functions: map[string]string{}, wantErr: "no functions found"},
		{name: "encrypted settings", settings: `{"IsEncrypted": true, "Values": {}}`, wantErr: "IsEncrypted must be false"},
		{name: "IsEncrypted omitted", settings: `{"Values": {}}`, wantErr: "IsEncrypted must be false"},
		{name: "object setting", settings: `{"IsEncrypted": false, "Values": {"X": {"a": 1}}}`, wantErr: "Values.X: must be a string"},
		{name: "other worker runtime", values: map[string]string{"FUNCTIONS_WORKER_RUNTIME": "node"}, wantErr: `FUNCTIONS_WORKER_RUNTIME is "node"`},
		{name: "event grid source for a timer", values: map[string]string{"FUNCHOST_EVENTGRID_BLOBS": "Tick=input"}, wantErr: "not an eventGridTrigger"},
		{name: "event grid source without connection", functions: map[string]string{"OnBlob": `{"bindings": [{"name": "event", "type": "eventGridTrigger", "direction": "in"}]}`}, values: map[string]string{"FUNCHOST_EVENTGRID_BLOBS": "OnBlob=Missing:input"}, wantErr: "no app setting Missing"},
		{name: "executable without run bit", mutate: func(t *testing.T, a *testApp) {
			p := filepath.Join(a.dir, "handler")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, p, "not a program")
		}, wantErr: "not an executable file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hj := tt.hostJSON
			if hj == "" {
				hj = basicHostJSON
			}
			fns := tt.functions
			if fns == nil {
				fns = map[string]string{"Tick": timerFunction}
			}
			a := newTestApp(t, hj, fns, tt.values)
			if tt.settings != "" {
				mustWrite(t, filepath.Join(a.dir, "local.settings.json"), tt.settings)
			}
			if tt.mutate != nil {
				tt.mutate(t, a)
			}
			_, err := New(testOptions(a, newLogCapture()))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewMissingSettingsFile(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	opts := testOptions(a, newLogCapture())
	opts.SettingsFile = filepath.Join(a.dir, "nope.json")
	if _, err := New(opts); err == nil || !strings.Contains(err.Error(), "read local settings") {
		t.Fatalf("New error = %v, want a read local settings error", err)
	}
	// Without an explicit file a missing local.settings.json is fine.
	if err := os.Remove(filepath.Join(a.dir, "local.settings.json")); err != nil {
		t.Fatal(err)
	}
	opts.SettingsFile = ""
	if _, err := New(opts); err != nil {
		t.Fatalf("New without local.settings.json: %v", err)
	}
}

func TestSettingExpansionInBindings(t *testing.T) {
	fns := map[string]string{
		"Tick":  `{"bindings": [{"name": "t", "type": "timerTrigger", "direction": "in", "schedule": "%SWEEP_SCHEDULE%", "runOnStartup": false}]}`,
		"Items": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in", "route": "%ROUTE_BASE%/{id}"}, {"name": "res", "type": "http", "direction": "out"}]}`,
		"Sub":   `{"bindings": [{"name": "m", "type": "serviceBusTrigger", "direction": "in", "topicName": "%TOPIC%", "subscriptionName": "all", "connection": "SB", "cardinality": "many", "dataType": "string"}]}`,
	}
	values := map[string]string{
		"SWEEP_SCHEDULE": "0 */5 * * * *",
		"ROUTE_BASE":     "items",
		"TOPIC":          "results",
		"SB":             "Endpoint=sb://localhost/;SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0",
	}
	a := newTestApp(t, basicHostJSON, fns, values)
	h, err := New(testOptions(a, newLogCapture()))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.function("Tick").Timer.Schedule; got != "0 */5 * * * *" {
		t.Errorf("schedule = %q, want the setting's value", got)
	}
	if got := h.function("Items").HTTP.route.raw; got != "items/{id}" {
		t.Errorf("route = %q, want items/{id}", got)
	}
	if got := h.function("Sub").ServiceBus.Topic; got != "results" {
		t.Errorf("topic = %q, want results", got)
	}
}

func TestHostJSONServiceBusSettings(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "host.json"), `{"version": "2.0", "functionTimeout": "00:10:00",
	  "customHandler": {"description": {"defaultExecutablePath": "handler"}, "enableForwardingHttpRequest": true},
	  "extensions": {"serviceBus": {"maxMessageBatchSize": 50, "minMessageBatchSize": 5, "maxBatchWaitTime": "00:00:02", "maxConcurrentCalls": 4, "autoCompleteMessages": false,
	                                "clientRetryOptions": {"mode": "fixed", "tryTimeout": "00:01:00", "delay": "00:00:00.50", "maxDelay": "00:01:00", "maxRetries": 5}},
	                 "http": {"routePrefix": ""}, "blobs": {"poisonBlobThreshold": 3}}}`)
	cfg, err := loadHostJSON(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := serviceBusHostConfig{AutoCompleteMessages: false, MaxAutoLockRenewal: 5 * time.Minute, MaxConcurrentCalls: 4, MaxMessageBatchSize: 50, MinMessageBatchSize: 5, MaxBatchWaitTime: 2 * time.Second,
		Retry: azservicebus.RetryOptions{MaxRetries: 5, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 500 * time.Millisecond}}
	if cfg.ServiceBus != want {
		t.Errorf("service bus = %+v, want %+v", cfg.ServiceBus, want)
	}
	if cfg.FunctionTimeout != 10*time.Minute || !cfg.Handler.EnableForwarding || cfg.RoutePrefix != "" || cfg.PoisonThreshold != 3 || cfg.BlobParallelism != 16 {
		t.Errorf("config = %+v", cfg)
	}
}

func TestIdentityConnectionsAreAccepted(t *testing.T) {
	fns := map[string]string{
		"OnArrivals": `{"bindings": [{"name": "m", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection"}]}`,
		"OnBlob":     eventGridFunction,
	}
	a := newTestApp(t, basicHostJSON, fns, map[string]string{
		"ServiceBusConnection__fullyQualifiedNamespace": "ffbatch.servicebus.windows.net",
		"ServiceBusConnection__credential":              "managedidentity",
		"ServiceBusConnection__clientId":                "00000000-0000-0000-0000-000000000001",
		"InputStorage__accountName":                     "ffbatchinput",
		"FUNCHOST_EVENTGRID_BLOBS":                      "OnBlob=InputStorage:%INPUT_CONTAINER%",
		"INPUT_CONTAINER":                               "input",
	})
	h, err := New(testOptions(a, newLogCapture()))
	if err != nil {
		t.Fatalf("New with identity-based connections: %v", err)
	}
	if len(h.sources) != 1 || h.sources[0].Container != "input" || h.sources[0].Connection != "InputStorage" {
		t.Errorf("sources = %+v", h.sources)
	}
	if _, ns, err := serviceBusClient(h.settings, "ServiceBusConnection", nil); err != nil || ns != "ffbatch.servicebus.windows.net" {
		t.Errorf("serviceBusClient = %q, %v", ns, err)
	}
}

func TestParseEventGridBlobSources(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []EventGridBlobSource
		wantErr bool
	}{
		{name: "default connection", in: "BlobCreated=input", want: []EventGridBlobSource{{Function: "BlobCreated", Container: "input"}}},
		{name: "named connection", in: "BlobCreated=InputStorage:input", want: []EventGridBlobSource{{Function: "BlobCreated", Connection: "InputStorage", Container: "input"}}},
		{name: "several", in: "A=x; B=Conn:y", want: []EventGridBlobSource{{Function: "A", Container: "x"}, {Function: "B", Connection: "Conn", Container: "y"}}},
		{name: "prefix filter", in: "A=Conn:out/logs/", want: []EventGridBlobSource{{Function: "A", Connection: "Conn", Container: "out", Prefix: "logs/"}}},
		{name: "prefix and suffix", in: "A=out/logs/*/stderr.txt", want: []EventGridBlobSource{{Function: "A", Container: "out", Prefix: "logs/", Suffix: "/stderr.txt"}}},
		{name: "suffix only", in: "A=in/*.mp4", want: []EventGridBlobSource{{Function: "A", Container: "in", Suffix: ".mp4"}}},
		{name: "two stars", in: "A=out/a*b*c", wantErr: true},
		{name: "filter without container", in: "A=Conn:/logs/", wantErr: true},
		{name: "no function", in: "=input", wantErr: true},
		{name: "no container", in: "A=Conn:", wantErr: true},
		{name: "no equals", in: "input", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEventGridBlobSources(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDevelopmentStorageConnection(t *testing.T) {
	s := newAppSettings(nil, map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true"}, slog.New(slog.DiscardHandler))
	c, err := containerClient(s, EventGridBlobSource{Function: "F", Container: "input"})
	if err != nil {
		t.Fatalf("containerClient(UseDevelopmentStorage=true): %v", err)
	}
	if got, want := c.URL(), "http://127.0.0.1:10000/devstoreaccount1/input"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got := accountName(c.URL()); got != "devstoreaccount1" {
		t.Errorf("accountName = %q, want devstoreaccount1", got)
	}
}
