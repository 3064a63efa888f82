package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

// Defaults of the real host and its extensions (functions-host.md §1, §2).
const (
	defaultFunctionTimeout       = 30 * time.Minute // non-Consumption plans; the func CLI uses it too
	defaultInitializationTimeout = 30 * time.Second
	defaultMaxMessageBatchSize   = 1000
	defaultMinMessageBatchSize   = 1
	defaultMaxBatchWaitTime      = 30 * time.Second
	defaultMaxAutoLockRenewal    = 5 * time.Minute
	defaultRoutePrefix           = "api"
)

// hostJSON is the part of host.json funchost reads.
type hostJSON struct {
	Version         *string            `json:"version"`
	FunctionTimeout *string            `json:"functionTimeout"`
	Functions       []string           `json:"functions"`
	CustomHandler   *customHandlerJSON `json:"customHandler"`
	HTTPWorker      *customHandlerJSON `json:"httpWorker"`
	Extensions      struct {
		ServiceBus *serviceBusJSON `json:"serviceBus"`
		Blobs      *struct {
			MaxDegreeOfParallelism *int `json:"maxDegreeOfParallelism"`
			PoisonBlobThreshold    *int `json:"poisonBlobThreshold"`
		} `json:"blobs"`
		HTTP *struct {
			RoutePrefix           *string `json:"routePrefix"`
			MaxConcurrentRequests *int    `json:"maxConcurrentRequests"`
		} `json:"http"`
	} `json:"extensions"`
}

type customHandlerJSON struct {
	Description *struct {
		DefaultExecutablePath string   `json:"defaultExecutablePath"`
		DefaultWorkerPath     string   `json:"defaultWorkerPath"`
		WorkingDirectory      string   `json:"workingDirectory"`
		Arguments             []string `json:"arguments"`
		WorkerArguments       []string `json:"workerArguments"`
	} `json:"description"`
	EnableForwardingHTTPRequest bool    `json:"enableForwardingHttpRequest"`
	EnableProxyingHTTPRequest   bool    `json:"enableProxyingHttpRequest"`
	InitializationTimeout       *string `json:"initializationTimeout"`
}

type serviceBusJSON struct {
	PrefetchCount              *int    `json:"prefetchCount"`
	AutoCompleteMessages       *bool   `json:"autoCompleteMessages"`
	MaxAutoLockRenewalDuration *string `json:"maxAutoLockRenewalDuration"`
	MaxConcurrentCalls         *int    `json:"maxConcurrentCalls"`
	MaxMessageBatchSize        *int    `json:"maxMessageBatchSize"`
	MinMessageBatchSize        *int    `json:"minMessageBatchSize"`
	MaxBatchWaitTime           *string `json:"maxBatchWaitTime"`
	ClientRetryOptions         *struct {
		Mode       string  `json:"mode"`
		TryTimeout *string `json:"tryTimeout"`
		Delay      *string `json:"delay"`
		MaxDelay   *string `json:"maxDelay"`
		MaxRetries *int    `json:"maxRetries"`
	} `json:"clientRetryOptions"`
}

// hostConfig is host.json after validation and defaults.
type hostConfig struct {
	// FunctionTimeout is zero when invocations are unbounded ("-1").
	FunctionTimeout time.Duration
	Functions       []string
	Handler         handlerConfig
	ServiceBus      serviceBusHostConfig
	// BlobParallelism bounds concurrent Event Grid blob deliveries.
	BlobParallelism int
	// PoisonThreshold is the number of delivery attempts before poison.
	PoisonThreshold       int
	RoutePrefix           string
	MaxConcurrentRequests int // 0: unbounded
}

type handlerConfig struct {
	DefaultExecutablePath string
	DefaultWorkerPath     string
	WorkingDirectory      string
	Arguments             []string
	WorkerArguments       []string
	EnableForwarding      bool
	InitializationTimeout time.Duration
}

type serviceBusHostConfig struct {
	PrefetchCount        int
	AutoCompleteMessages bool
	MaxAutoLockRenewal   time.Duration // negative: unbounded
	MaxConcurrentCalls   int
	MaxMessageBatchSize  int
	MinMessageBatchSize  int
	MaxBatchWaitTime     time.Duration
	// Retry is clientRetryOptions mapped onto azservicebus.
	Retry azservicebus.RetryOptions
}

// loadHostJSON reads and validates <appDir>/host.json. cpus scales the
// defaults that the real extensions multiply by the processor count.
func loadHostJSON(appDir string, cpus int) (*hostConfig, error) {
	path := filepath.Join(appDir, "host.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read host.json: %w", err)
	}
	var hj hostJSON
	if err := json.Unmarshal(raw, &hj); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if hj.Version == nil || *hj.Version == "" {
		return nil, fmt.Errorf("%s: the required 'version' property is missing; set \"version\": \"2.0\"", path)
	}
	if *hj.Version != "2.0" {
		return nil, fmt.Errorf("%s: version %q is not supported; the Functions runtime v4 requires \"2.0\"", path, *hj.Version)
	}
	cfg := &hostConfig{
		FunctionTimeout: defaultFunctionTimeout,
		Functions:       hj.Functions,
		BlobParallelism: 8 * cpus,
		PoisonThreshold: 5,
		RoutePrefix:     defaultRoutePrefix,
	}
	if hj.FunctionTimeout != nil {
		d, err := functionTimeout(*hj.FunctionTimeout)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		cfg.FunctionTimeout = d
	}
	ch := hj.CustomHandler
	if ch == nil {
		ch = hj.HTTPWorker
	}
	if ch == nil {
		return nil, fmt.Errorf("%s: no customHandler section; funchost runs custom handlers only", path)
	}
	if ch.Description == nil {
		return nil, fmt.Errorf("%s: customHandler: missing worker description (customHandler.description)", path)
	}
	if strings.TrimSpace(ch.Description.DefaultExecutablePath) == "" {
		return nil, fmt.Errorf("%s: customHandler.description.defaultExecutablePath is empty", path)
	}
	if ch.EnableProxyingHTTPRequest {
		return nil, fmt.Errorf("%s: customHandler.enableProxyingHttpRequest is not supported by funchost; use enableForwardingHttpRequest", path)
	}
	cfg.Handler = handlerConfig{
		DefaultExecutablePath: ch.Description.DefaultExecutablePath,
		DefaultWorkerPath:     ch.Description.DefaultWorkerPath,
		WorkingDirectory:      ch.Description.WorkingDirectory,
		Arguments:             ch.Description.Arguments,
		WorkerArguments:       ch.Description.WorkerArguments,
		EnableForwarding:      ch.EnableForwardingHTTPRequest,
		InitializationTimeout: defaultInitializationTimeout,
	}
	if ch.InitializationTimeout != nil {
		d, err := dotnettime.ParseTimeSpan(*ch.InitializationTimeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: customHandler.initializationTimeout %q must be a positive timespan", path, *ch.InitializationTimeout)
		}
		cfg.Handler.InitializationTimeout = d
	}
	sb, err := serviceBusHost(hj.Extensions.ServiceBus, cpus)
	if err != nil {
		return nil, fmt.Errorf("%s: extensions.serviceBus: %w", path, err)
	}
	cfg.ServiceBus = sb
	if b := hj.Extensions.Blobs; b != nil {
		if b.MaxDegreeOfParallelism != nil {
			if *b.MaxDegreeOfParallelism < 1 {
				return nil, fmt.Errorf("%s: extensions.blobs.maxDegreeOfParallelism must be at least 1", path)
			}
			cfg.BlobParallelism = *b.MaxDegreeOfParallelism
		}
		if b.PoisonBlobThreshold != nil {
			if *b.PoisonBlobThreshold < 1 {
				return nil, fmt.Errorf("%s: extensions.blobs.poisonBlobThreshold must be at least 1", path)
			}
			cfg.PoisonThreshold = *b.PoisonBlobThreshold
		}
	}
	if h := hj.Extensions.HTTP; h != nil {
		if h.RoutePrefix != nil {
			cfg.RoutePrefix = strings.Trim(*h.RoutePrefix, "/")
		}
		if h.MaxConcurrentRequests != nil && *h.MaxConcurrentRequests > 0 {
			cfg.MaxConcurrentRequests = *h.MaxConcurrentRequests
		}
	}
	return cfg, nil
}

func functionTimeout(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "-1" {
		return 0, nil
	}
	d, err := dotnettime.ParseTimeSpan(s)
	if err != nil {
		return 0, fmt.Errorf("functionTimeout: %w", err)
	}
	if d < 0 {
		return 0, nil
	}
	if d < time.Second {
		return 0, fmt.Errorf("functionTimeout %q must be at least 00:00:01 or -1", s)
	}
	return d, nil
}

func serviceBusHost(j *serviceBusJSON, cpus int) (serviceBusHostConfig, error) {
	c := serviceBusHostConfig{
		AutoCompleteMessages: true,
		MaxAutoLockRenewal:   defaultMaxAutoLockRenewal,
		MaxConcurrentCalls:   16 * cpus,
		MaxMessageBatchSize:  defaultMaxMessageBatchSize,
		MinMessageBatchSize:  defaultMinMessageBatchSize,
		MaxBatchWaitTime:     defaultMaxBatchWaitTime,
		// The extension's defaults (ServiceBusRetryOptions), not azservicebus's.
		Retry: azservicebus.RetryOptions{MaxRetries: 3, RetryDelay: 800 * time.Millisecond, MaxRetryDelay: time.Minute},
	}
	if j == nil {
		return c, nil
	}
	if err := clientRetry(j, &c.Retry); err != nil {
		return c, fmt.Errorf("clientRetryOptions: %w", err)
	}
	positive := func(name string, v *int, dst *int) error {
		if v == nil {
			return nil
		}
		if *v < 1 {
			return fmt.Errorf("%s must be at least 1, got %d", name, *v)
		}
		*dst = *v
		return nil
	}
	if err := errors.Join(
		positive("maxConcurrentCalls", j.MaxConcurrentCalls, &c.MaxConcurrentCalls),
		positive("maxMessageBatchSize", j.MaxMessageBatchSize, &c.MaxMessageBatchSize),
		positive("minMessageBatchSize", j.MinMessageBatchSize, &c.MinMessageBatchSize),
	); err != nil {
		return c, err
	}
	if c.MinMessageBatchSize > c.MaxMessageBatchSize {
		return c, fmt.Errorf("minMessageBatchSize %d exceeds maxMessageBatchSize %d", c.MinMessageBatchSize, c.MaxMessageBatchSize)
	}
	if j.PrefetchCount != nil {
		if *j.PrefetchCount < 0 {
			return c, fmt.Errorf("prefetchCount must not be negative, got %d", *j.PrefetchCount)
		}
		c.PrefetchCount = *j.PrefetchCount
	}
	if j.AutoCompleteMessages != nil {
		c.AutoCompleteMessages = *j.AutoCompleteMessages
	}
	if j.MaxAutoLockRenewalDuration != nil {
		d, err := dotnettime.ParseTimeSpan(*j.MaxAutoLockRenewalDuration)
		if err != nil {
			return c, fmt.Errorf("maxAutoLockRenewalDuration: %w", err)
		}
		c.MaxAutoLockRenewal = d
	}
	if j.MaxBatchWaitTime != nil {
		d, err := dotnettime.ParseTimeSpan(*j.MaxBatchWaitTime)
		if err != nil {
			return c, fmt.Errorf("maxBatchWaitTime: %w", err)
		}
		if d <= 0 || d > 150*time.Second {
			return c, fmt.Errorf("maxBatchWaitTime %q must be positive and at most 00:02:30", *j.MaxBatchWaitTime)
		}
		c.MaxBatchWaitTime = d
	}
	return c, nil
}

// clientRetry maps clientRetryOptions onto azservicebus.RetryOptions.
// azservicebus always backs off exponentially; "fixed" is emulated by
// capping the delay at the first delay. tryTimeout has no azservicebus
// counterpart and is only validated.
func clientRetry(j *serviceBusJSON, r *azservicebus.RetryOptions) error {
	o := j.ClientRetryOptions
	if o == nil {
		return nil
	}
	span := func(name string, v *string, dst *time.Duration) error {
		if v == nil {
			return nil
		}
		d, err := dotnettime.ParseTimeSpan(*v)
		if err != nil || d < 0 {
			return fmt.Errorf("%s %q must be a non-negative timespan", name, *v)
		}
		if dst != nil {
			*dst = d
		}
		return nil
	}
	if err := errors.Join(
		span("delay", o.Delay, &r.RetryDelay),
		span("maxDelay", o.MaxDelay, &r.MaxRetryDelay),
		span("tryTimeout", o.TryTimeout, nil),
	); err != nil {
		return err
	}
	if o.MaxRetries != nil {
		if *o.MaxRetries < 0 {
			return fmt.Errorf("maxRetries must not be negative, got %d", *o.MaxRetries)
		}
		r.MaxRetries = int32(*o.MaxRetries)
	}
	switch strings.ToLower(o.Mode) {
	case "", "exponential":
	case "fixed":
		r.MaxRetryDelay = r.RetryDelay
	default:
		return fmt.Errorf("mode %q must be exponential or fixed", o.Mode)
	}
	return nil
}
