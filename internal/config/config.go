package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// BatchAuth selects how the handler authenticates to Batch.
type BatchAuth string

const (
	// BatchAuthEntra uses Microsoft Entra ID tokens (azidentity
	// DefaultAzureCredential, or the managed identity with the configured
	// client id).
	BatchAuthEntra BatchAuth = "entra"
	// BatchAuthSharedKey signs with the account key (local emulator).
	BatchAuthSharedKey BatchAuth = "sharedkey"
)

// ScalingMode selects who sizes the pool.
type ScalingMode string

const (
	// ScalingAutoscale lets a Batch autoscale formula on $PendingTasks size
	// the pool (evaluated at most every 5 minutes by the service).
	ScalingAutoscale ScalingMode = "autoscale"
	// ScalingManaged disables autoscale: SubmitTasks resizes an empty pool
	// at once and SweepPools shrinks it when idle.
	ScalingManaged ScalingMode = "managed"
)

// Config is every setting of the handler, typed and validated.
type Config struct {
	// Storage.
	InputContainer  string
	OutputContainer string
	StatusContainer string
	LogsPrefix      string
	StorageURL      string // account blob endpoint (managed identity)
	StorageConn     string // connection string (Azurite); secret
	SASLifetime     time.Duration

	// Service Bus.
	ServiceBusNamespace string // FQDN (managed identity)
	ServiceBusConn      string // connection string (local emulator); secret
	ArrivalsQueue       string
	ResultsTopic        string

	// Identity.
	ManagedIdentityClientID string

	// Batch account.
	BatchEndpoint   string
	BatchAuth       BatchAuth
	BatchAccount    string
	BatchAccountKey string // secret

	// Pool and job.
	PoolID            string
	JobID             string
	VMSize            string
	TaskSlotsPerNode  int
	DedicatedMin      int
	DedicatedMax      int
	SpotMin           int
	SpotMax           int
	Scaling           ScalingMode
	AutoscaleInterval time.Duration
	ImagePublisher    string
	ImageOffer        string
	ImageSKU          string
	ImageVersion      string
	NodeAgentSKU      string
	ContainerImage    string
	StartTaskCommand  string
	PoolIdleTimeout   time.Duration

	// Tasks.
	DefaultPreset   string
	MaxTaskRetries  int
	MaxResubmits    int
	ResubmitBackoff time.Duration
	// OrphanGrace is how long a file may stay submitted without its task
	// existing in the job before SweepPools treats the task as lost. It is
	// at least minOrphanGrace.
	OrphanGrace     time.Duration
	MinWallClock    time.Duration
	WallClockPerGiB time.Duration

	// Functions.
	SweepSchedule string

	// Logging.
	LogLevel slog.Level
}

// env is what envconfig fills. Names are spelled out in full (no prefix)
// so envconfig's unprefixed fallback cannot pick up unrelated variables.
type env struct {
	InputContainer  string        `envconfig:"FFBATCH_INPUT_CONTAINER" default:"input"`
	OutputContainer string        `envconfig:"FFBATCH_OUTPUT_CONTAINER" default:"output"`
	StatusContainer string        `envconfig:"FFBATCH_STATUS_CONTAINER" default:"ffbatch-status"`
	LogsPrefix      string        `envconfig:"FFBATCH_LOGS_PREFIX" default:"logs/"`
	StorageURL      string        `envconfig:"FFBATCH_STORAGE_ACCOUNT_URL"`
	StorageConn     string        `envconfig:"FFBATCH_STORAGE_CONNECTION_STRING"`
	SASLifetime     durationField `envconfig:"FFBATCH_SAS_LIFETIME" default:"2h"`

	ServiceBusNamespace string `envconfig:"FFBATCH_SERVICEBUS_NAMESPACE"`
	ServiceBusConn      string `envconfig:"FFBATCH_SERVICEBUS_CONNECTION_STRING"`
	ArrivalsQueue       string `envconfig:"FFBATCH_ARRIVALS_QUEUE" default:"arrivals"`
	ResultsTopic        string `envconfig:"FFBATCH_RESULTS_TOPIC" default:"results"`

	ManagedIdentityClientID string `envconfig:"FFBATCH_MANAGED_IDENTITY_CLIENT_ID"`

	BatchEndpoint   string `envconfig:"FFBATCH_BATCH_ENDPOINT"`
	BatchAuth       string `envconfig:"FFBATCH_BATCH_AUTH" default:"entra"`
	BatchAccount    string `envconfig:"FFBATCH_BATCH_ACCOUNT_NAME"`
	BatchAccountKey string `envconfig:"FFBATCH_BATCH_ACCOUNT_KEY"`

	PoolID            string        `envconfig:"FFBATCH_POOL_ID" default:"ffbatch-pool"`
	JobID             string        `envconfig:"FFBATCH_JOB_ID" default:"ffbatch-job"`
	VMSize            string        `envconfig:"FFBATCH_VM_SIZE" default:"Standard_D2s_v3"`
	TaskSlotsPerNode  intField      `envconfig:"FFBATCH_TASK_SLOTS_PER_NODE" default:"2"`
	DedicatedMin      intField      `envconfig:"FFBATCH_DEDICATED_MIN_NODES" default:"0"`
	DedicatedMax      intField      `envconfig:"FFBATCH_DEDICATED_MAX_NODES" default:"0"`
	SpotMin           intField      `envconfig:"FFBATCH_SPOT_MIN_NODES" default:"0"`
	SpotMax           intField      `envconfig:"FFBATCH_SPOT_MAX_NODES" default:"4"`
	Scaling           string        `envconfig:"FFBATCH_SCALING_MODE" default:"autoscale"`
	AutoscaleInterval durationField `envconfig:"FFBATCH_AUTOSCALE_INTERVAL" default:"5m"`
	ImagePublisher    string        `envconfig:"FFBATCH_IMAGE_PUBLISHER" default:"Canonical"`
	ImageOffer        string        `envconfig:"FFBATCH_IMAGE_OFFER" default:"ubuntu-24_04-lts"`
	ImageSKU          string        `envconfig:"FFBATCH_IMAGE_SKU" default:"server"`
	ImageVersion      string        `envconfig:"FFBATCH_IMAGE_VERSION" default:"latest"`
	NodeAgentSKU      string        `envconfig:"FFBATCH_NODE_AGENT_SKU" default:"batch.node.ubuntu 24.04"`
	ContainerImage    string        `envconfig:"FFBATCH_CONTAINER_IMAGE"`
	StartTaskCommand  string        `envconfig:"FFBATCH_START_TASK_COMMAND"`
	PoolIdleTimeout   durationField `envconfig:"FFBATCH_POOL_IDLE_TIMEOUT" default:"15m"`

	// A struct tag cannot name plan.DefaultPresetName; TestLoadLocalDefaults
	// keeps the two equal.
	DefaultPreset   string        `envconfig:"FFBATCH_DEFAULT_PRESET" default:"mp3-192k-cbr"`
	MaxTaskRetries  intField      `envconfig:"FFBATCH_MAX_TASK_RETRIES" default:"2"`
	MaxResubmits    intField      `envconfig:"FFBATCH_MAX_RESUBMITS" default:"3"`
	ResubmitBackoff durationField `envconfig:"FFBATCH_RESUBMIT_BACKOFF" default:"1m"`
	OrphanGrace     durationField `envconfig:"FFBATCH_ORPHAN_GRACE" default:"15m"`
	MinWallClock    durationField `envconfig:"FFBATCH_TASK_MIN_WALL_CLOCK" default:"10m"`
	WallClockPerGiB durationField `envconfig:"FFBATCH_TASK_WALL_CLOCK_PER_GIB" default:"20m"`

	SweepSchedule string `envconfig:"FFBATCH_SWEEP_SCHEDULE" default:"0 */1 * * * *"`

	LogLevel string `envconfig:"FFBATCH_LOG_LEVEL" default:"info"`
}

// Host-owned connection settings (function.json "connection":
// "ServiceBusConnection"). When the FFBATCH_SERVICEBUS_* settings are empty
// the handler uses the same values as the trigger, so they are set once.
const (
	hostSBConnection = "ServiceBusConnection"
	hostSBNamespace  = "ServiceBusConnection__fullyQualifiedNamespace"
)

// minOrphanGrace is the least FFBATCH_ORPHAN_GRACE: the functionTimeout in
// host.json (10 minutes). A SubmitTasks invocation may claim a file's status
// and add its task up to that long later; a shorter grace could treat the
// task as lost before it was ever added.
const minOrphanGrace = 10 * time.Minute

// Setting names that hold secrets; their values never appear in output.
var secretSettings = map[string]bool{
	"FFBATCH_STORAGE_CONNECTION_STRING":    true,
	"FFBATCH_SERVICEBUS_CONNECTION_STRING": true,
	"FFBATCH_BATCH_ACCOUNT_KEY":            true,
}

// FieldError is one invalid setting.
type FieldError struct {
	Setting string
	Problem string
}

func (e FieldError) Error() string { return e.Setting + ": " + e.Problem }

// Errors is every problem found by Load, in setting-name order.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("invalid configuration (%d problems): %s", len(es), strings.Join(parts, "; "))
}

// Load reads the settings from the process environment and validates them.
// A validation failure is returned as Errors.
func Load() (*Config, error) {
	return load(os.LookupEnv)
}

func load(lookup func(string) (string, bool)) (*Config, error) {
	var e env
	if err := envconfig.Process("", &e); err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if e.ServiceBusConn == "" && e.ServiceBusNamespace == "" {
		e.ServiceBusConn, _ = lookup(hostSBConnection)
		e.ServiceBusNamespace, _ = lookup(hostSBNamespace)
	}
	return e.build()
}

// build converts and validates; it collects every problem.
func (e *env) build() (*Config, error) {
	var errs Errors
	bad := func(setting, format string, args ...any) {
		errs = append(errs, FieldError{Setting: setting, Problem: fmt.Sprintf(format, args...)})
	}
	c := &Config{
		InputContainer: e.InputContainer, OutputContainer: e.OutputContainer, StatusContainer: e.StatusContainer,
		LogsPrefix: e.LogsPrefix, StorageURL: e.StorageURL, StorageConn: e.StorageConn,
		ServiceBusNamespace: e.ServiceBusNamespace, ServiceBusConn: e.ServiceBusConn,
		ArrivalsQueue: e.ArrivalsQueue, ResultsTopic: e.ResultsTopic,
		ManagedIdentityClientID: e.ManagedIdentityClientID,
		BatchEndpoint:           e.BatchEndpoint, BatchAuth: BatchAuth(strings.ToLower(e.BatchAuth)),
		BatchAccount: e.BatchAccount, BatchAccountKey: e.BatchAccountKey,
		PoolID: e.PoolID, JobID: e.JobID, VMSize: e.VMSize, Scaling: ScalingMode(strings.ToLower(e.Scaling)),
		ImagePublisher: strings.TrimSpace(e.ImagePublisher), ImageOffer: strings.TrimSpace(e.ImageOffer),
		ImageSKU: strings.TrimSpace(e.ImageSKU), ImageVersion: strings.TrimSpace(e.ImageVersion),
		NodeAgentSKU: e.NodeAgentSKU, ContainerImage: e.ContainerImage, StartTaskCommand: e.StartTaskCommand,
		DefaultPreset: e.DefaultPreset, SweepSchedule: e.SweepSchedule,
	}

	ints := []struct {
		name     string
		f        *intField
		dst      *int
		min, max int
	}{
		{"FFBATCH_TASK_SLOTS_PER_NODE", &e.TaskSlotsPerNode, &c.TaskSlotsPerNode, 1, 256},
		{"FFBATCH_DEDICATED_MIN_NODES", &e.DedicatedMin, &c.DedicatedMin, 0, 1000},
		{"FFBATCH_DEDICATED_MAX_NODES", &e.DedicatedMax, &c.DedicatedMax, 0, 1000},
		{"FFBATCH_SPOT_MIN_NODES", &e.SpotMin, &c.SpotMin, 0, 1000},
		{"FFBATCH_SPOT_MAX_NODES", &e.SpotMax, &c.SpotMax, 0, 1000},
		{"FFBATCH_MAX_TASK_RETRIES", &e.MaxTaskRetries, &c.MaxTaskRetries, 0, 100},
		{"FFBATCH_MAX_RESUBMITS", &e.MaxResubmits, &c.MaxResubmits, 0, 100},
	}
	for _, f := range ints {
		switch {
		case f.f.err != nil:
			bad(f.name, "%v, got %q", f.f.err, f.f.raw)
		case f.f.v < f.min || f.f.v > f.max:
			bad(f.name, "must be between %d and %d, got %d", f.min, f.max, f.f.v)
		default:
			*f.dst = f.f.v
		}
	}
	durs := []struct {
		name     string
		f        *durationField
		dst      *time.Duration
		min, max time.Duration
	}{
		{"FFBATCH_SAS_LIFETIME", &e.SASLifetime, &c.SASLifetime, 5 * time.Minute, 7 * 24 * time.Hour},
		{"FFBATCH_AUTOSCALE_INTERVAL", &e.AutoscaleInterval, &c.AutoscaleInterval, 5 * time.Minute, 168 * time.Hour},
		{"FFBATCH_POOL_IDLE_TIMEOUT", &e.PoolIdleTimeout, &c.PoolIdleTimeout, 0, 30 * 24 * time.Hour},
		{"FFBATCH_RESUBMIT_BACKOFF", &e.ResubmitBackoff, &c.ResubmitBackoff, time.Second, 24 * time.Hour},
		{"FFBATCH_ORPHAN_GRACE", &e.OrphanGrace, &c.OrphanGrace, minOrphanGrace, 7 * 24 * time.Hour},
		{"FFBATCH_TASK_MIN_WALL_CLOCK", &e.MinWallClock, &c.MinWallClock, time.Minute, 7 * 24 * time.Hour},
		{"FFBATCH_TASK_WALL_CLOCK_PER_GIB", &e.WallClockPerGiB, &c.WallClockPerGiB, 0, 24 * time.Hour},
	}
	for _, f := range durs {
		switch {
		case f.f.err != nil:
			bad(f.name, "%v, got %q", f.f.err, f.f.raw)
		case f.f.v < f.min || f.f.v > f.max:
			bad(f.name, "must be between %v and %v, got %v", f.min, f.max, f.f.v)
		default:
			*f.dst = f.f.v
		}
	}

	for _, s := range []struct{ name, v string }{
		{"FFBATCH_INPUT_CONTAINER", c.InputContainer},
		{"FFBATCH_OUTPUT_CONTAINER", c.OutputContainer},
		{"FFBATCH_STATUS_CONTAINER", c.StatusContainer},
	} {
		if p := containerProblem(s.v); p != "" {
			bad(s.name, "%s", p)
		}
	}
	if c.StatusContainer == c.InputContainer {
		bad("FFBATCH_STATUS_CONTAINER", "must differ from FFBATCH_INPUT_CONTAINER")
	}
	if c.LogsPrefix == "" || strings.HasPrefix(c.LogsPrefix, "/") || strings.Contains(c.LogsPrefix, "..") || !strings.HasSuffix(c.LogsPrefix, "/") {
		bad("FFBATCH_LOGS_PREFIX", "must be a relative blob prefix ending in / without .., got %q", c.LogsPrefix)
	}
	switch {
	case c.StorageURL == "" && c.StorageConn == "":
		bad("FFBATCH_STORAGE_ACCOUNT_URL", "set this (managed identity) or FFBATCH_STORAGE_CONNECTION_STRING (Azurite)")
	case c.StorageURL != "" && c.StorageConn != "":
		bad("FFBATCH_STORAGE_CONNECTION_STRING", "set either this or FFBATCH_STORAGE_ACCOUNT_URL, not both")
	case c.StorageURL != "":
		if p := urlProblem(c.StorageURL); p != "" {
			bad("FFBATCH_STORAGE_ACCOUNT_URL", "%s", p)
		}
	default:
		if acct, err := blobaccess.ParseConnectionString(c.StorageConn); err != nil {
			bad("FFBATCH_STORAGE_CONNECTION_STRING", "must contain AccountName= and AccountKey= (account-key SAS needs the key)")
		} else if _, err := base64.StdEncoding.DecodeString(acct.Key); err != nil {
			bad("FFBATCH_STORAGE_CONNECTION_STRING", "AccountKey is not valid base64")
		}
	}

	switch {
	case c.ServiceBusNamespace == "" && c.ServiceBusConn == "":
		bad("FFBATCH_SERVICEBUS_NAMESPACE", "set this (managed identity; or %s) or FFBATCH_SERVICEBUS_CONNECTION_STRING (or %s)", hostSBNamespace, hostSBConnection)
	case c.ServiceBusNamespace != "" && c.ServiceBusConn != "":
		bad("FFBATCH_SERVICEBUS_CONNECTION_STRING", "set either this or FFBATCH_SERVICEBUS_NAMESPACE, not both")
	case c.ServiceBusNamespace != "":
		if strings.Contains(c.ServiceBusNamespace, "/") || !strings.Contains(c.ServiceBusNamespace, ".") {
			bad("FFBATCH_SERVICEBUS_NAMESPACE", "must be a fully qualified namespace such as ns.servicebus.windows.net, got %q", c.ServiceBusNamespace)
		}
	default:
		if !strings.Contains(c.ServiceBusConn, "Endpoint=") {
			bad("FFBATCH_SERVICEBUS_CONNECTION_STRING", "must contain Endpoint=")
		}
	}
	for _, s := range []struct{ name, v string }{{"FFBATCH_ARRIVALS_QUEUE", c.ArrivalsQueue}, {"FFBATCH_RESULTS_TOPIC", c.ResultsTopic}} {
		if !entityName.MatchString(s.v) {
			bad(s.name, "must be 1-260 characters of letters, digits, '.', '-', '_' or '/', got %q", s.v)
		}
	}

	if c.BatchEndpoint == "" {
		bad("FFBATCH_BATCH_ENDPOINT", "is required (https://<account>.<region>.batch.azure.com)")
	} else if p := urlProblem(c.BatchEndpoint); p != "" {
		bad("FFBATCH_BATCH_ENDPOINT", "%s", p)
	}
	switch c.BatchAuth {
	case BatchAuthEntra:
	case BatchAuthSharedKey:
		if c.BatchAccount == "" {
			bad("FFBATCH_BATCH_ACCOUNT_NAME", "is required when FFBATCH_BATCH_AUTH is sharedkey")
		}
		if c.BatchAccountKey == "" {
			bad("FFBATCH_BATCH_ACCOUNT_KEY", "is required when FFBATCH_BATCH_AUTH is sharedkey")
		} else if _, err := base64.StdEncoding.DecodeString(c.BatchAccountKey); err != nil {
			bad("FFBATCH_BATCH_ACCOUNT_KEY", "is not valid base64")
		}
	default:
		bad("FFBATCH_BATCH_AUTH", "must be entra or sharedkey, got %q", e.BatchAuth)
	}

	for _, s := range []struct{ name, v string }{{"FFBATCH_POOL_ID", c.PoolID}, {"FFBATCH_JOB_ID", c.JobID}} {
		if !batchID.MatchString(s.v) {
			bad(s.name, "must be 1-64 characters of letters, digits, '-' or '_', got %q", s.v)
		}
	}
	if c.VMSize == "" {
		bad("FFBATCH_VM_SIZE", "is required")
	}
	if c.DedicatedMin > c.DedicatedMax && errs.missing("FFBATCH_DEDICATED_MAX_NODES") {
		bad("FFBATCH_DEDICATED_MIN_NODES", "must not exceed FFBATCH_DEDICATED_MAX_NODES (%d)", c.DedicatedMax)
	}
	if c.SpotMin > c.SpotMax && errs.missing("FFBATCH_SPOT_MAX_NODES") {
		bad("FFBATCH_SPOT_MIN_NODES", "must not exceed FFBATCH_SPOT_MAX_NODES (%d)", c.SpotMax)
	}
	if c.DedicatedMax+c.SpotMax == 0 && errs.missing("FFBATCH_DEDICATED_MAX_NODES") && errs.missing("FFBATCH_SPOT_MAX_NODES") {
		bad("FFBATCH_SPOT_MAX_NODES", "FFBATCH_DEDICATED_MAX_NODES + FFBATCH_SPOT_MAX_NODES must be at least 1")
	}
	switch c.Scaling {
	case ScalingAutoscale, ScalingManaged:
	default:
		bad("FFBATCH_SCALING_MODE", "must be autoscale or managed, got %q", e.Scaling)
	}
	// The node image is needed in both modes: with FFBATCH_CONTAINER_IMAGE it
	// must be one Batch supports for containers (e.g. microsoft-dsvm /
	// ubuntu-hpc / 2204 with node agent "batch.node.ubuntu 22.04").
	if c.ImagePublisher == "" || c.ImageOffer == "" || c.ImageSKU == "" {
		bad("FFBATCH_IMAGE_SKU", "FFBATCH_IMAGE_PUBLISHER, FFBATCH_IMAGE_OFFER and FFBATCH_IMAGE_SKU are required")
	}
	if c.NodeAgentSKU == "" {
		bad("FFBATCH_NODE_AGENT_SKU", "is required")
	}
	switch {
	case c.ContainerImage == "":
	case strings.ContainsAny(c.ContainerImage, " \t\n;$`\"'"):
		bad("FFBATCH_CONTAINER_IMAGE", "must be an image reference such as myregistry.azurecr.io/ffmpeg:7, got %q", c.ContainerImage)
	}

	if _, ok := plan.LookupPreset(c.DefaultPreset); !ok {
		bad("FFBATCH_DEFAULT_PRESET", "unknown preset %q (known: %s)", c.DefaultPreset, strings.Join(plan.PresetNames(), ", "))
	}
	if p := ncrontabProblem(c.SweepSchedule); p != "" {
		bad("FFBATCH_SWEEP_SCHEDULE", "%s", p)
	}
	lvl, err := parseLevel(e.LogLevel)
	if err != nil {
		bad("FFBATCH_LOG_LEVEL", "must be debug, info, warn or error, got %q", e.LogLevel)
	}
	c.LogLevel = lvl

	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Setting < errs[j].Setting })
		return nil, errs
	}
	return c, nil
}

// missing reports whether no error has been recorded for setting yet
// (so dependent checks do not pile onto an unparsable value).
func (es Errors) missing(setting string) bool {
	for _, e := range es {
		if e.Setting == setting {
			return false
		}
	}
	return true
}

var (
	batchID    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	entityName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,259}$`)
	container  = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
)

func containerProblem(name string) string {
	if !container.MatchString(name) {
		return fmt.Sprintf("must be a blob container name (3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit), got %q", name)
	}
	return ""
}

func urlProblem(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Sprintf("must be an absolute http(s) URL, got %q", s)
	}
	if u.RawQuery != "" {
		return "must not carry a query (no SAS tokens in settings)"
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "plain http is allowed only for loopback emulators; use https"
	}
	return ""
}

// IsLoopback reports whether host names the local machine, where plain
// HTTP to an emulator is acceptable.
func IsLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// ncrontabProblem checks the shape of a six-field NCRONTAB expression
// ({second} {minute} {hour} {day} {month} {day-of-week}); the host does the
// full parse. A %Setting% indirection is not allowed here: this setting is
// the one function.json refers to.
func ncrontabProblem(s string) string {
	fields := strings.Fields(s)
	if len(fields) != 6 {
		return fmt.Sprintf("must be a six-field NCRONTAB expression such as \"0 */1 * * * *\", got %d fields", len(fields))
	}
	for _, f := range fields {
		if !cronField.MatchString(f) {
			return fmt.Sprintf("field %q is not a valid NCRONTAB field", f)
		}
	}
	return ""
}

var cronField = regexp.MustCompile(`^[0-9A-Za-z*/,?-]+$`)

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(strings.TrimSpace(s)))
	return l, err
}

// Redacted returns the settings as name → value for logging at start-up,
// with secrets replaced by "(set)" or "(unset)".
func (c *Config) Redacted() map[string]string {
	m := map[string]string{
		"FFBATCH_INPUT_CONTAINER": c.InputContainer, "FFBATCH_OUTPUT_CONTAINER": c.OutputContainer,
		"FFBATCH_STATUS_CONTAINER": c.StatusContainer, "FFBATCH_STORAGE_ACCOUNT_URL": c.StorageURL,
		"FFBATCH_SERVICEBUS_NAMESPACE": c.ServiceBusNamespace, "FFBATCH_ARRIVALS_QUEUE": c.ArrivalsQueue,
		"FFBATCH_RESULTS_TOPIC": c.ResultsTopic, "FFBATCH_BATCH_ENDPOINT": c.BatchEndpoint,
		"FFBATCH_BATCH_AUTH": string(c.BatchAuth), "FFBATCH_POOL_ID": c.PoolID, "FFBATCH_JOB_ID": c.JobID,
		"FFBATCH_VM_SIZE": c.VMSize, "FFBATCH_SCALING_MODE": string(c.Scaling), "FFBATCH_DEFAULT_PRESET": c.DefaultPreset,
	}
	for name := range secretSettings {
		v := "(unset)"
		switch name {
		case "FFBATCH_STORAGE_CONNECTION_STRING":
			if c.StorageConn != "" {
				v = "(set)"
			}
		case "FFBATCH_SERVICEBUS_CONNECTION_STRING":
			if c.ServiceBusConn != "" {
				v = "(set)"
			}
		case "FFBATCH_BATCH_ACCOUNT_KEY":
			if c.BatchAccountKey != "" {
				v = "(set)"
			}
		}
		m[name] = v
	}
	return m
}

// ErrInvalid is matched by errors.Is for any Errors value.
var ErrInvalid = errors.New("invalid configuration")

// Is makes errors.Is(err, ErrInvalid) true for Errors.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// Settings lists every setting name Load reads, for documentation checks.
func Settings() []string {
	names := append([]string{hostSBConnection, hostSBNamespace}, envFieldNames()...)
	sort.Strings(names)
	return names
}
