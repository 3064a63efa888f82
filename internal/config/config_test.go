package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/plan"
)

// clearEnv unsets every setting for the test (t.Setenv restores them).
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range Settings() {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
}

func setAll(t *testing.T, vals map[string]string) {
	t.Helper()
	for k, v := range vals {
		t.Setenv(k, v)
	}
}

const fakeKey = "c2VjcmV0LWtleS12YWx1ZQ=="

func localEnv() map[string]string {
	return map[string]string{
		"FFBATCH_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + fakeKey + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
		"ServiceBusConnection":              "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=" + fakeKey + ";UseDevelopmentEmulator=true;",
		"FFBATCH_BATCH_ENDPOINT":            "http://127.0.0.1:10200",
		"FFBATCH_BATCH_AUTH":                "sharedkey",
		"FFBATCH_BATCH_ACCOUNT_NAME":        "devbatch",
		"FFBATCH_BATCH_ACCOUNT_KEY":         fakeKey,
	}
}

func TestLoadLocalDefaults(t *testing.T) {
	clearEnv(t)
	setAll(t, localEnv())
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"input container", c.InputContainer, "input"},
		{"service bus from host setting", strings.HasPrefix(c.ServiceBusConn, "Endpoint=sb://127.0.0.1:5672"), true},
		{"batch auth", c.BatchAuth, BatchAuthSharedKey},
		{"scaling", c.Scaling, ScalingAutoscale},
		{"autoscale interval", c.AutoscaleInterval, 5 * time.Minute},
		{"slots", c.TaskSlotsPerNode, 2},
		{"spot max", c.SpotMax, 4},
		{"node agent", c.NodeAgentSKU, "batch.node.ubuntu 24.04"},
		{"image", c.ImageOffer + "/" + c.ImageSKU, "ubuntu-24_04-lts/server"},
		{"preset", c.DefaultPreset, "mp3-192k-cbr"},
		{"preset is plan's default", c.DefaultPreset, plan.DefaultPresetName},
		{"sas lifetime", c.SASLifetime, 2 * time.Hour},
		{"log level", c.LogLevel, slog.LevelInfo},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLoadAzure(t *testing.T) {
	clearEnv(t)
	setAll(t, map[string]string{
		"FFBATCH_STORAGE_ACCOUNT_URL":                   "https://acct.blob.core.windows.net",
		"ServiceBusConnection__fullyQualifiedNamespace": "ns.servicebus.windows.net",
		"FFBATCH_BATCH_ENDPOINT":                        "https://acct.westeurope.batch.azure.com",
		"FFBATCH_SCALING_MODE":                          "Managed",
		"FFBATCH_LOG_LEVEL":                             "debug",
	})
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.ServiceBusNamespace != "ns.servicebus.windows.net" || c.BatchAuth != BatchAuthEntra || c.Scaling != ScalingManaged || c.LogLevel != slog.LevelDebug {
		t.Errorf("config = %+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	clearEnv(t)
	env := localEnv()
	for k, v := range map[string]string{
		"FFBATCH_TASK_SLOTS_PER_NODE":     "two",
		"FFBATCH_SPOT_MAX_NODES":          "-1",
		"FFBATCH_AUTOSCALE_INTERVAL":      "1m",
		"FFBATCH_SAS_LIFETIME":            "forever",
		"FFBATCH_SCALING_MODE":            "magic",
		"FFBATCH_DEFAULT_PRESET":          "flac",
		"FFBATCH_POOL_ID":                 "pool with spaces",
		"FFBATCH_INPUT_CONTAINER":         "Input_Files",
		"FFBATCH_SWEEP_SCHEDULE":          "*/5 * * * *",
		"FFBATCH_LOG_LEVEL":               "loud",
		"FFBATCH_BATCH_ACCOUNT_KEY":       "",
		"FFBATCH_BATCH_ENDPOINT":          "http://batch.example.com",
		"FFBATCH_LOGS_PREFIX":             "../logs",
		"FFBATCH_DEDICATED_MIN_NODES":     "3",
		"FFBATCH_DEDICATED_MAX_NODES":     "1",
		"FFBATCH_CONTAINER_IMAGE":         "img; rm -rf /",
		"FFBATCH_RESULTS_TOPIC":           "",
		"FFBATCH_STORAGE_ACCOUNT_URL":     "https://acct.blob.core.windows.net",
		"FFBATCH_TASK_MIN_WALL_CLOCK":     "10s",
		"FFBATCH_MAX_RESUBMITS":           "1000",
		"FFBATCH_STATUS_CONTAINER":        "ok-status",
		"FFBATCH_BATCH_AUTH":              "sharedkey",
		"FFBATCH_OUTPUT_CONTAINER":        "output",
		"FFBATCH_ARRIVALS_QUEUE":          "arrivals",
		"FFBATCH_NODE_AGENT_SKU":          "batch.node.ubuntu 24.04",
		"FFBATCH_RESUBMIT_BACKOFF":        "1m",
		"FFBATCH_POOL_IDLE_TIMEOUT":       "15m",
		"FFBATCH_TASK_WALL_CLOCK_PER_GIB": "20m",
		"FFBATCH_ORPHAN_GRACE":            "0s",
	} {
		env[k] = v
	}
	setAll(t, env)
	_, err := Load()
	var errs Errors
	if !errors.As(err, &errs) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Load error = %v, want Errors", err)
	}
	want := []string{
		"FFBATCH_TASK_SLOTS_PER_NODE", "FFBATCH_SPOT_MAX_NODES", "FFBATCH_AUTOSCALE_INTERVAL",
		"FFBATCH_SAS_LIFETIME", "FFBATCH_SCALING_MODE", "FFBATCH_DEFAULT_PRESET", "FFBATCH_POOL_ID",
		"FFBATCH_INPUT_CONTAINER", "FFBATCH_SWEEP_SCHEDULE", "FFBATCH_LOG_LEVEL", "FFBATCH_BATCH_ACCOUNT_KEY",
		"FFBATCH_BATCH_ENDPOINT", "FFBATCH_LOGS_PREFIX", "FFBATCH_DEDICATED_MIN_NODES", "FFBATCH_CONTAINER_IMAGE",
		"FFBATCH_RESULTS_TOPIC", "FFBATCH_STORAGE_CONNECTION_STRING", "FFBATCH_TASK_MIN_WALL_CLOCK", "FFBATCH_MAX_RESUBMITS",
		"FFBATCH_ORPHAN_GRACE",
	}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Setting] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no error for %s; got %v", w, errs)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(errs), len(want), errs)
	}
	if strings.Contains(err.Error(), fakeKey) {
		t.Errorf("error text leaks a secret: %v", err)
	}
}

func TestLoadConditionalRequirements(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string
		setting string
	}{
		{"no storage", map[string]string{"FFBATCH_STORAGE_CONNECTION_STRING": ""}, "FFBATCH_STORAGE_ACCOUNT_URL"},
		{"no service bus", map[string]string{"ServiceBusConnection": ""}, "FFBATCH_SERVICEBUS_NAMESPACE"},
		{"both service bus", map[string]string{"FFBATCH_SERVICEBUS_NAMESPACE": "ns.servicebus.windows.net", "FFBATCH_SERVICEBUS_CONNECTION_STRING": "Endpoint=sb://x"}, "FFBATCH_SERVICEBUS_CONNECTION_STRING"},
		{"namespace not fqdn", map[string]string{"ServiceBusConnection": "", "FFBATCH_SERVICEBUS_NAMESPACE": "sb://ns"}, "FFBATCH_SERVICEBUS_NAMESPACE"},
		{"no batch endpoint", map[string]string{"FFBATCH_BATCH_ENDPOINT": ""}, "FFBATCH_BATCH_ENDPOINT"},
		{"shared key without account", map[string]string{"FFBATCH_BATCH_ACCOUNT_NAME": ""}, "FFBATCH_BATCH_ACCOUNT_NAME"},
		{"bad batch auth", map[string]string{"FFBATCH_BATCH_AUTH": "password"}, "FFBATCH_BATCH_AUTH"},
		{"no nodes at all", map[string]string{"FFBATCH_SPOT_MAX_NODES": "0"}, "FFBATCH_SPOT_MAX_NODES"},
		{"batch key not base64", map[string]string{"FFBATCH_BATCH_ACCOUNT_KEY": "not base64!"}, "FFBATCH_BATCH_ACCOUNT_KEY"},
		{"storage key not base64", map[string]string{"FFBATCH_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=%%%;BlobEndpoint=http://127.0.0.1:1/a"}, "FFBATCH_STORAGE_CONNECTION_STRING"},
		{"storage conn without key", map[string]string{"FFBATCH_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}, "FFBATCH_STORAGE_CONNECTION_STRING"},
		{"sas in storage url", map[string]string{"FFBATCH_STORAGE_CONNECTION_STRING": "", "FFBATCH_STORAGE_ACCOUNT_URL": "https://a.blob.core.windows.net/?sig=x"}, "FFBATCH_STORAGE_ACCOUNT_URL"},
		{"status equals input", map[string]string{"FFBATCH_STATUS_CONTAINER": "input"}, "FFBATCH_STATUS_CONTAINER"},
		{"image missing", map[string]string{"FFBATCH_IMAGE_SKU": " "}, "FFBATCH_IMAGE_SKU"},
		{"orphan grace below function timeout", map[string]string{"FFBATCH_ORPHAN_GRACE": "9m59s"}, "FFBATCH_ORPHAN_GRACE"},
		{"orphan grace at function timeout", map[string]string{"FFBATCH_ORPHAN_GRACE": "10m"}, ""},
		{"container image mode", map[string]string{"FFBATCH_CONTAINER_IMAGE": "example.azurecr.io/ffmpeg:7"}, ""},
		{"container image needs a node image too", map[string]string{"FFBATCH_CONTAINER_IMAGE": "example.azurecr.io/ffmpeg:7", "FFBATCH_IMAGE_OFFER": " "}, "FFBATCH_IMAGE_SKU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			env := localEnv()
			for k, v := range tc.change {
				env[k] = v
			}
			setAll(t, env)
			_, err := Load()
			if tc.setting == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load error = %v, want Errors", err)
			}
			if len(errs) != 1 || errs[0].Setting != tc.setting {
				t.Errorf("errors = %v, want exactly one for %s", errs, tc.setting)
			}
		})
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	clearEnv(t)
	setAll(t, localEnv())
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.Redacted() {
		if strings.Contains(v, fakeKey) {
			t.Errorf("Redacted()[%s] leaks the key", k)
		}
	}
	if c.Redacted()["FFBATCH_BATCH_ACCOUNT_KEY"] != "(set)" {
		t.Errorf("account key shown as %q, want (set)", c.Redacted()["FFBATCH_BATCH_ACCOUNT_KEY"])
	}
}

// TestSettingsDocumented keeps local.settings.json.example and the README
// table in step with the settings Load reads.
func TestSettingsDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "local.settings.json.example"))
	if err != nil {
		t.Fatal(err)
	}
	var ls struct {
		IsEncrypted *bool
		Values      map[string]string
	}
	if err := json.Unmarshal(b, &ls); err != nil {
		t.Fatalf("local.settings.json.example: %v", err)
	}
	if ls.IsEncrypted == nil || *ls.IsEncrypted {
		t.Errorf("IsEncrypted must be false explicitly (it defaults to true)")
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Settings() {
		if _, ok := ls.Values[name]; !ok {
			t.Errorf("%s missing from local.settings.json.example", name)
		}
		short := strings.TrimPrefix(name, "FFBATCH_IMAGE")
		if !strings.Contains(string(readme), "`"+name+"`") && !strings.Contains(string(readme), "_"+strings.TrimPrefix(short, "_")+"`") {
			t.Errorf("%s missing from the README table", name)
		}
	}
	// The example must itself be a valid configuration.
	clearEnv(t)
	for k, v := range ls.Values {
		t.Setenv(k, v)
	}
	if _, err := Load(); err != nil {
		t.Errorf("local.settings.json.example does not load: %v", err)
	}
}

// The orphan grace must not be shorter than a function invocation may run
// (host.json functionTimeout), or a task still being added looks lost.
func TestMinOrphanGraceCoversFunctionTimeout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	var host struct {
		FunctionTimeout string `json:"functionTimeout"`
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatalf("host.json: %v", err)
	}
	var h, m, s int
	if _, err := fmt.Sscanf(host.FunctionTimeout, "%d:%d:%d", &h, &m, &s); err != nil {
		t.Fatalf("host.json functionTimeout %q: %v", host.FunctionTimeout, err)
	}
	timeout := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
	if timeout <= 0 || minOrphanGrace < timeout {
		t.Errorf("minOrphanGrace %v is below host.json functionTimeout %v", minOrphanGrace, timeout)
	}
}
