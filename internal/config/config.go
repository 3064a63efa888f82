package config

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"
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

// Config is every setting of the handler, typed and validated. The
// settings themselves are declared in settings.go.
type Config struct {
	// Storage.
	InputContainer string
	// UpstreamContainers are further containers an arrival message may
	// name as its source. Event Grid does not watch them.
	UpstreamContainers []string
	OutputContainer    string
	StatusContainer    string
	LogsPrefix         string
	StorageURL         string // account blob endpoint (managed identity)
	StorageConn        string // connection string (Azurite); secret
	// SASQueueing is the time a task's SAS URLs allow for waiting in the
	// job, on top of its attempts (plan.URLLifetime).
	SASQueueing time.Duration

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
	// OrphanGrace is how long a request may stay submitted without its task
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

// Load reads the settings from the process environment and validates them.
// A validation failure is returned as Errors.
func Load() (*Config, error) {
	return load(os.LookupEnv)
}

// load has envconfig fill the declared settings, folds in the host-owned
// Service Bus connection, and validates. lookup reads the host's settings.
func load(lookup func(string) (string, bool)) (*Config, error) {
	c := new(Config)
	decls := declare(c)
	if err := readEnv(decls); err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if c.ServiceBusConn == "" && c.ServiceBusNamespace == "" {
		c.ServiceBusConn, _ = lookup(hostSBConnection)
		c.ServiceBusNamespace, _ = lookup(hostSBNamespace)
	}
	if errs := validate(c, decls); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// AllowedSourceContainer reports whether an arrival message may name a
// source blob in the container: the input container or an upstream one.
func (c *Config) AllowedSourceContainer(name string) bool {
	return name == c.InputContainer || slices.Contains(c.UpstreamContainers, name)
}
