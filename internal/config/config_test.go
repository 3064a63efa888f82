package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
		{"sas queueing", c.SASQueueing, 2 * time.Hour},
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
		"FFBATCH_SAS_QUEUEING":            "forever",
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
		"FFBATCH_SAS_QUEUEING", "FFBATCH_SCALING_MODE", "FFBATCH_DEFAULT_PRESET", "FFBATCH_POOL_ID",
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
		{"container image needs a node image too", map[string]string{"FFBATCH_CONTAINER_IMAGE": "example.azurecr.io/ffmpeg:7", "FFBATCH_IMAGE_OFFER": " "}, "FFBATCH_IMAGE_OFFER"},
		{"entra ignores a key that is not base64", map[string]string{"FFBATCH_BATCH_AUTH": "Entra", "FFBATCH_BATCH_ACCOUNT_KEY": "not base64!"}, ""},
		{"storage url and key both", map[string]string{"FFBATCH_STORAGE_ACCOUNT_URL": "https://a.blob.core.windows.net"}, "FFBATCH_STORAGE_CONNECTION_STRING"},
		{"dedicated min above max", map[string]string{"FFBATCH_DEDICATED_MIN_NODES": "2", "FFBATCH_DEDICATED_MAX_NODES": "1"}, "FFBATCH_DEDICATED_MIN_NODES"},
		{"spot min unparsable is one problem", map[string]string{"FFBATCH_SPOT_MIN_NODES": "many"}, "FFBATCH_SPOT_MIN_NODES"},
		{"spot min out of range is one problem", map[string]string{"FFBATCH_SPOT_MIN_NODES": "1001"}, "FFBATCH_SPOT_MIN_NODES"},
		{"empty container", map[string]string{"FFBATCH_OUTPUT_CONTAINER": ""}, "FFBATCH_OUTPUT_CONTAINER"},
		{"empty integer", map[string]string{"FFBATCH_MAX_TASK_RETRIES": ""}, "FFBATCH_MAX_TASK_RETRIES"},
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

// TestSettingsDocumented keeps local.settings.json.example in step with the
// settings Load reads (TestReadmeTable does the same for the README).
func TestSettingsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "local.settings.json.example"))
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
	for _, name := range Settings() {
		if _, ok := ls.Values[name]; !ok {
			t.Errorf("%s missing from local.settings.json.example", name)
		}
	}
	for name := range ls.Values {
		if strings.HasPrefix(name, "FFBATCH_") && !slices.Contains(Settings(), name) {
			t.Errorf("local.settings.json.example sets %s, which Load does not read", name)
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

// loadWith loads localEnv with changes applied.
func loadWith(t *testing.T, change map[string]string) (*Config, error) {
	t.Helper()
	clearEnv(t)
	env := localEnv()
	for k, v := range change {
		env[k] = v
	}
	setAll(t, env)
	return Load()
}

// wantOneProblem checks that err is Errors with exactly one problem, for
// setting, whose text contains every one of want.
func wantOneProblem(t *testing.T, err error, setting string, want ...string) {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error = %v, want Errors", err)
	}
	if len(errs) != 1 || errs[0].Setting != setting {
		t.Fatalf("errors = %v, want exactly one for %s", errs, setting)
	}
	for _, w := range want {
		if !strings.Contains(errs[0].Problem, w) {
			t.Errorf("problem %q does not contain %q", errs[0].Problem, w)
		}
	}
}

func TestLoadUpstreamContainers(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string
	}{
		{"unset", "", nil},
		{"one", "uploads", []string{"uploads"}},
		{"several with spaces", " uploads , legacy-media,archive2024 ", []string{"uploads", "legacy-media", "archive2024"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWith(t, map[string]string{"FFBATCH_UPSTREAM_CONTAINERS": tc.value})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !slices.Equal(c.UpstreamContainers, tc.want) {
				t.Errorf("UpstreamContainers = %q, want %q", c.UpstreamContainers, tc.want)
			}
		})
	}
}

func TestLoadRefusesUpstreamContainers(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string // substrings of the one problem
	}{
		{"not a container name", "uploads,Legacy_Media", []string{`"Legacy_Media"`, "blob container name"}},
		{"empty entry", "uploads,,archive", []string{"entry 2 is empty"}},
		{"duplicate", "uploads,archive,uploads", []string{`"uploads"`, "twice"}},
		{"input container", "uploads,input", []string{`"input"`, "FFBATCH_INPUT_CONTAINER", "Event Grid"}},
		{"output container", "output", []string{`"output"`, "FFBATCH_OUTPUT_CONTAINER", "MP3s"}},
		{"status container", "ffbatch-status", []string{`"ffbatch-status"`, "FFBATCH_STATUS_CONTAINER", "status records"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadWith(t, map[string]string{"FFBATCH_UPSTREAM_CONTAINERS": tc.value})
			wantOneProblem(t, err, "FFBATCH_UPSTREAM_CONTAINERS", tc.want...)
		})
	}
}

func TestAllowedSourceContainer(t *testing.T) {
	c, err := loadWith(t, map[string]string{"FFBATCH_UPSTREAM_CONTAINERS": "uploads,archive"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for name, want := range map[string]bool{
		"input": true, "uploads": true, "archive": true,
		"output": false, "ffbatch-status": false, "other": false, "": false, "Uploads": false,
	} {
		if got := c.AllowedSourceContainer(name); got != want {
			t.Errorf("AllowedSourceContainer(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLoadSweepSchedule(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string // substrings of the one problem; none means valid
	}{
		{"default", "0 */5 * * * *", nil},
		{"every five minutes on weekdays", "0 */5 * * * MON-FRI", nil},
		{"five fields", "*/5 * * * *", []string{"six fields", "got 5", `"*/5 * * * *"`}},
		{"minute out of range", "0 61 * * * *", []string{"above maximum", `"0 61 * * * *"`}},
		{"unknown day name", "0 0 0 * * FUNDAY", []string{"FUNDAY"}},
		{"never fires", "0 0 0 30 2 *", []string{"never fires"}},
		{"descriptor", "@hourly", []string{"descriptors"}},
		{"timespan", "00:05:00", []string{"six fields"}},
		{"setting indirection", "%FFBATCH_SWEEP_SCHEDULE%", []string{"six fields"}},
		{"empty", "", []string{"is required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWith(t, map[string]string{"FFBATCH_SWEEP_SCHEDULE": tc.value})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if c.SweepSchedule != tc.value {
					t.Errorf("SweepSchedule = %q, want %q", c.SweepSchedule, tc.value)
				}
				return
			}
			wantOneProblem(t, err, "FFBATCH_SWEEP_SCHEDULE", tc.want...)
		})
	}
}

// TestLoadTaskSlotsAgainstVMSize: a taskSlotsPerNode above 4 × the VM's
// vCPUs deploys but makes every pool creation fail, so Load refuses it for
// the sizes the docs recommend.
func TestLoadTaskSlotsAgainstVMSize(t *testing.T) {
	tests := []struct {
		name, vmSize, slots string
		want                []string // substrings of the one problem; none means valid
	}{
		{"default size at its limit", "Standard_D2s_v3", "8", nil},
		{"default size above its limit", "Standard_D2s_v3", "9", []string{"at most 8", "Standard_D2s_v3", "2", "got 9"}},
		{"default size at the old maximum", "Standard_D2s_v3", "256", []string{"at most 8"}},
		{"lower-case size", "standard_d2s_v3", "16", []string{"at most 8"}},
		{"larger size", "Standard_F8s_v2", "32", nil},
		{"larger size above its limit", "Standard_F8s_v2", "33", []string{"at most 32", "Standard_F8s_v2"}},
		{"unknown size is checked only against 256", "Standard_NC6s_v3", "100", nil},
		{"out of range is one problem", "Standard_D2s_v3", "257", []string{"between 1 and 256"}},
		{"empty VM size is one problem", " ", "4", []string{"is required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWith(t, map[string]string{"FFBATCH_VM_SIZE": tc.vmSize, "FFBATCH_TASK_SLOTS_PER_NODE": tc.slots})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := strconv.Itoa(c.TaskSlotsPerNode); got != tc.slots {
					t.Errorf("TaskSlotsPerNode = %s, want %s", got, tc.slots)
				}
				return
			}
			setting := "FFBATCH_TASK_SLOTS_PER_NODE"
			if strings.TrimSpace(tc.vmSize) == "" {
				setting = "FFBATCH_VM_SIZE"
			}
			wantOneProblem(t, err, setting, tc.want...)
		})
	}
}
