package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ffbatch/ffbatch/internal/azurite"
)

// Component names, used for logs, Restart and Kill.
const (
	Azurite    = "azurite"
	ServiceBus = "sbemu"
	Batch      = "batchemu"
	Functions  = "funchost"
)

// The emulators' account and key names (their defaults). The keys
// themselves are the stack's own (accountkeys.go).
const (
	ServiceBusKeyName = "RootManageSharedAccessKey"
	BatchAccount      = "devbatch"
)

// Ports are the loopback ports of the stack. Zero picks the default
// (DefaultPorts), or a free port when Options.FreePorts is set.
type Ports struct {
	Blob      int // Azurite blob service
	AMQP      int // Service Bus emulator, AMQP
	SBHTTP    int // Service Bus emulator, /health and /entities
	Batch     int // Batch emulator REST API
	Functions int // Functions host: /api, /admin
}

// DefaultPorts are the ports the README and local.settings.json.example use.
var DefaultPorts = Ports{Blob: 10000, AMQP: 5672, SBHTTP: 5300, Batch: 10200, Functions: 7071}

// Options configure Start. The zero value runs the stack with state in
// .local under the working directory on the default ports.
type Options struct {
	// StateDir holds data, logs, the app layout and the settings.
	// Default ".local".
	StateDir string
	// Fresh removes the data of a previous run (Azurite, Service Bus,
	// Batch, host state) before starting.
	Fresh bool
	// BinDir holds sbemu, batchemu, funchost and handler. Empty: the
	// directory of the running executable when all four are there,
	// otherwise they are built with `go build` into <StateDir>/bin.
	BinDir string
	// RepoDir is the module root (host.json, function-definitions/,
	// local.settings.json.example, cmd/). Default: found from the working
	// directory.
	RepoDir string
	// AppDir is a ready deployable layout (make dist). Empty: the layout is
	// assembled in <StateDir>/app from RepoDir and the handler binary.
	AppDir string
	// Ports; see FreePorts.
	Ports Ports
	// FreePorts picks free ports for every zero entry of Ports (tests).
	FreePorts bool
	// Settings override values of the generated local.settings.json.
	// Names that neither the handler nor the host reads are refused
	// (ErrUnknownSetting).
	Settings map[string]string
	// ServiceBusConfig is a Config.json in the Service Bus emulator's
	// (the official emulator's) format to run instead of the built-in
	// entities. Start checks that it exists and parses, and warns about
	// what the pipeline or `ffbatch results` need but it lacks.
	ServiceBusConfig string
	// BatchConcurrency caps the Batch emulator's running task processes
	// (0: its default, the number of CPUs).
	BatchConcurrency int
	// BlobPoll is how often the host lists the input container. Default 250ms.
	BlobPoll time.Duration
	// StartTimeout bounds each component's health wait. Default 60s.
	StartTimeout time.Duration
	// StopGrace is how long a component gets after SIGTERM. Default 10s.
	StopGrace time.Duration
	// Logger receives progress lines. Default: discard.
	Logger *slog.Logger
}

// Endpoints are how clients reach the running stack, with its keys (all
// the stack's own: accountkeys.go, keys.go); String leaves them out.
type Endpoints struct {
	BlobEndpoint      string `json:"blobEndpoint"`
	StorageConnection string `json:"storageConnectionString"`
	ServiceBus        string `json:"serviceBusConnectionString"`
	ServiceBusHTTP    string `json:"serviceBusHTTP"`
	BatchEndpoint     string `json:"batchEndpoint"`
	BatchAccount      string `json:"batchAccount"`
	BatchKey          string `json:"batchKey"`
	FunctionsURL      string `json:"functionsURL"`
	InputContainer    string `json:"inputContainer"`
	OutputContainer   string `json:"outputContainer"`
	StatusContainer   string `json:"statusContainer"`
	LogsPrefix        string `json:"logsPrefix"`
	ArrivalsQueue     string `json:"arrivalsQueue"`
	ResultsTopic      string `json:"resultsTopic"`
	// CLISubscription is the results topic's subscription that `ffbatch
	// results` reads (CLISubscription).
	CLISubscription string `json:"cliSubscription"`
	PoolID          string `json:"poolId"`
	JobID           string `json:"jobId"`
	// FunctionsKey is the Functions host's default host key (function
	// level for every HTTP function: /api/status); DashboardKey the
	// Dashboard function's own key (DashboardURL).
	FunctionsKey string `json:"functionsKey"`
	DashboardKey string `json:"dashboardKey"`
	// FunctionsMasterKey is the host's master key, which the admin API
	// (/admin/*) requires; EventGridKey its eventgrid_extension system
	// key, the ?code= of the Event Grid webhook (EventGridWebhookURL).
	FunctionsMasterKey string `json:"functionsMasterKey"`
	EventGridKey       string `json:"eventGridKey"`
}

// String lists the endpoints for people, without keys.
func (e Endpoints) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  Blob storage (Azurite)   %s  containers: %s -> %s\n", e.BlobEndpoint, e.InputContainer, e.OutputContainer)
	fmt.Fprintf(&b, "  Service Bus (sbemu)      %s  queue %s, topic %s  (health %s/health)\n", sbHost(e.ServiceBus), e.ArrivalsQueue, e.ResultsTopic, e.ServiceBusHTTP)
	fmt.Fprintf(&b, "  Batch (batchemu)         %s  account %s, pool %s\n", e.BatchEndpoint, e.BatchAccount, e.PoolID)
	fmt.Fprintf(&b, "  Functions (funchost)     %s  status: %s/api/status (function key in stack.json)\n", e.FunctionsURL, e.FunctionsURL)
	return b.String()
}

func sbHost(conn string) string {
	for _, part := range strings.Split(conn, ";") {
		if v, ok := strings.CutPrefix(part, "Endpoint="); ok {
			return v
		}
	}
	return "?"
}

// Stack is a running local stack. Its methods are safe for concurrent use.
type Stack struct {
	Endpoints Endpoints
	// Dir is the state directory; Logs the log directory.
	Dir, Logs string

	o     Options
	log   *slog.Logger
	ports Ports
	bins  map[string]string
	app   string // app layout directory
	env   []string

	settingsPath string
	values       map[string]string // the written app settings; guarded by mu after Start
	batchKey     string            // Batch account key, fixed after Start
	sbKey        string            // Service Bus SAS key, fixed after Start

	mu       sync.Mutex // guards azurite, stopped, recorded and lock; serialises Restart and Stop
	azurite  *azurite.Instance
	stopped  bool
	recorded bool             // WriteRecord wrote stack.json; Stop removes it
	lock     *os.File         // flock on <Dir>/.lock while the stack runs
	procs    map[string]*proc // fixed after Start
}

// Start brings up Azurite, the Service Bus emulator, the Batch emulator and
// the Functions host in that order, waiting for each to be healthy. On
// failure everything already started is stopped.
func Start(ctx context.Context, opts *Options) (*Stack, error) {
	s, err := prepare(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := s.startAll(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func prepare(ctx context.Context, opts *Options) (*Stack, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.StateDir == "" {
		o.StateDir = ".local"
	}
	if o.BlobPoll == 0 {
		o.BlobPoll = 250 * time.Millisecond
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.StopGrace == 0 {
		o.StopGrace = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	o.StateDir = dir
	if o.RepoDir == "" {
		if o.RepoDir, err = FindRepo(); err != nil {
			return nil, err
		}
	}
	if o.ServiceBusConfig != "" {
		if o.ServiceBusConfig, err = filepath.Abs(o.ServiceBusConfig); err != nil {
			return nil, fmt.Errorf("service bus config: %w", err)
		}
		if _, err := readServiceBusConfig(o.ServiceBusConfig); err != nil {
			return nil, err
		}
	}
	s := &Stack{Dir: dir, Logs: filepath.Join(dir, "logs"), o: o, log: o.Logger, procs: map[string]*proc{}}
	if err := s.checkSettings(); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	fail := func(err error) (*Stack, error) {
		lock.Close()
		return nil, err
	}
	if err := clearStaleRecord(ctx, dir, staleWait, s.log); err != nil {
		return fail(err)
	}
	if o.Fresh {
		for _, d := range []string{"azurite", "servicebus", "batch", "funchost", keysDir} {
			if err := os.RemoveAll(filepath.Join(dir, "data", d)); err != nil {
				return fail(fmt.Errorf("remove old state: %w", err))
			}
		}
	}
	if s.ports, err = resolvePorts(o.Ports, o.FreePorts); err != nil {
		return fail(err)
	}
	if s.bins, err = findBinaries(ctx, o, s.log); err != nil {
		return fail(err)
	}
	return s, nil
}

func resolvePorts(p Ports, free bool) (Ports, error) {
	fields := []struct {
		v   *int
		def int
	}{{&p.Blob, DefaultPorts.Blob}, {&p.AMQP, DefaultPorts.AMQP}, {&p.SBHTTP, DefaultPorts.SBHTTP}, {&p.Batch, DefaultPorts.Batch}, {&p.Functions, DefaultPorts.Functions}}
	for _, f := range fields {
		if *f.v != 0 {
			continue
		}
		if !free {
			*f.v = f.def
			continue
		}
		port, err := freePort()
		if err != nil {
			return p, err
		}
		*f.v = port
	}
	return p, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// checkPortFree gives a clear error when something already listens.
func checkPortFree(name string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%s: port %d on 127.0.0.1 is in use (another `ffbatch up`? stop it, or choose other ports): %w", name, port, err)
	}
	ln.Close()
	return nil
}

func (s *Stack) startAll(ctx context.Context) error {
	for _, c := range []struct {
		name string
		port int
	}{{Azurite, s.ports.Blob}, {ServiceBus, s.ports.AMQP}, {ServiceBus, s.ports.SBHTTP}, {Batch, s.ports.Batch}, {Functions, s.ports.Functions}} {
		if err := checkPortFree(c.name, c.port); err != nil {
			return err
		}
	}
	data := filepath.Join(s.Dir, "data")
	az, err := s.startAzurite(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.azurite = az
	s.mu.Unlock()

	if s.batchKey, err = ensureKey(filepath.Join(data, stackKeyFiles.batch)); err != nil {
		return err
	}
	if s.sbKey, err = ensureKey(filepath.Join(data, stackKeyFiles.serviceBus)); err != nil {
		return err
	}
	values, err := s.settings(az)
	if err != nil {
		return err
	}
	s.Endpoints = endpointsFrom(values, az, s.ports)
	if err := ensureContainers(ctx, s.Endpoints.StorageConnection, s.Endpoints.InputContainer, s.Endpoints.OutputContainer); err != nil {
		return err
	}
	s.env = childEnv(os.Environ())

	sbArgs, err := s.serviceBusArgs(data)
	if err != nil {
		return err
	}
	s.procs[ServiceBus] = &proc{name: ServiceBus, bin: s.bins["sbemu"], env: s.env, dir: s.Dir,
		logPath: filepath.Join(s.Logs, "sbemu.log"), args: sbArgs}
	batchArgs := []string{"--addr", addr(s.ports.Batch), "--data", filepath.Join(data, "batch"),
		"--account", BatchAccount, "--key-file", filepath.Join(data, stackKeyFiles.batch),
		"--storage-endpoint", az.BlobEndpoint, "--storage-account", az.AccountName, "--storage-key-file", filepath.Join(data, stackKeyFiles.storage)}
	if s.o.BatchConcurrency > 0 {
		batchArgs = append(batchArgs, "--concurrency", strconv.Itoa(s.o.BatchConcurrency))
	}
	s.procs[Batch] = &proc{name: Batch, bin: s.bins["batchemu"], env: s.env, dir: s.Dir,
		logPath: filepath.Join(s.Logs, "batchemu.log"), args: batchArgs}

	if s.app, err = s.layout(); err != nil {
		return err
	}
	settingsPath := filepath.Join(s.Dir, SettingsFile)
	if err := writeSettings(settingsPath, values, s.ports.Functions); err != nil {
		return err
	}
	s.settingsPath, s.values = settingsPath, values
	s.procs[Functions] = &proc{name: Functions, bin: s.bins["funchost"], env: s.env, dir: s.Dir,
		logPath: filepath.Join(s.Logs, "funchost.log"),
		args: []string{"--app", s.app, "--settings", settingsPath, "--addr", addr(s.ports.Functions),
			"--state", filepath.Join(data, "funchost"), "--blob-poll", s.o.BlobPoll.String(),
			"--eventgrid-blob", "BlobCreated=AzureWebJobsStorage:" + s.Endpoints.InputContainer +
				";TaskFinished=AzureWebJobsStorage:" + s.Endpoints.OutputContainer + "/" + s.Endpoints.LogsPrefix + "*/stderr.txt"}}

	for _, name := range []string{ServiceBus, Batch, Functions} {
		if err := s.startProc(ctx, name); err != nil {
			return err
		}
	}
	keys, err := readKeys(s.secretsDir())
	if err != nil {
		return err
	}
	s.Endpoints.FunctionsKey, s.Endpoints.DashboardKey = keys.Host, keys.Dashboard
	s.Endpoints.FunctionsMasterKey, s.Endpoints.EventGridKey = keys.Master, keys.EventGrid
	return nil
}

// secretsDir is where the Functions host keeps its keys (keys.go).
func (s *Stack) secretsDir() string { return filepath.Join(s.Dir, "data", "funchost", "secrets") }

// serviceBusArgs are the Service Bus emulator's arguments, with the user's
// Config.json when one is given (warning about what it lacks).
// startAzurite starts Azurite on the stack's blob port with its data
// directory and the stack's storage key.
func (s *Stack) startAzurite(ctx context.Context) (*azurite.Instance, error) {
	data := filepath.Join(s.Dir, "data")
	storageKey, err := ensureKey(filepath.Join(data, stackKeyFiles.storage))
	if err != nil {
		return nil, err
	}
	s.log.Info("starting Azurite", "port", s.ports.Blob)
	az, err := azurite.Start(ctx, &azurite.Options{
		Bin:  filepath.Join(s.o.RepoDir, "tools", "node_modules", ".bin", "azurite-blob"),
		Dir:  filepath.Join(data, "azurite"),
		Port: s.ports.Blob, StartTimeout: s.o.StartTimeout, AccountKey: storageKey,
		LogPath: filepath.Join(s.Logs, Azurite+".log"),
	})
	if err != nil {
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	return az, nil
}

func (s *Stack) serviceBusArgs(data string) ([]string, error) {
	args := []string{"--amqp-addr", addr(s.ports.AMQP), "--http-addr", addr(s.ports.SBHTTP),
		"--data", filepath.Join(data, "servicebus"), "--key-name", ServiceBusKeyName, "--key-file", filepath.Join(data, stackKeyFiles.serviceBus)}
	if s.o.ServiceBusConfig == "" {
		return args, nil
	}
	entities, err := readServiceBusConfig(s.o.ServiceBusConfig)
	if err != nil {
		return nil, err
	}
	for _, m := range entities.missing(s.Endpoints) {
		s.log.Warn("the Service Bus config lacks "+m, "config", s.o.ServiceBusConfig)
	}
	return append(args, "--config", s.o.ServiceBusConfig), nil
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// startProc starts one component and waits for its health check.
func (s *Stack) startProc(ctx context.Context, name string) error {
	p := s.procs[name]
	s.log.Info("starting "+name, "log", p.logPath)
	if err := p.start(); err != nil {
		return err
	}
	if err := waitHealthy(ctx, s.healthURL(name), s.healthKey(name), s.o.StartTimeout, p); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// healthKey returns the key the health check presents: the Functions
// host's status is an admin endpoint, so its master key, read from the
// secrets the host writes when it starts ("" before that).
func (s *Stack) healthKey(name string) func() string {
	if name != Functions {
		return func() string { return "" }
	}
	return func() string {
		k, _ := readKeys(s.secretsDir())
		return k.Master
	}
}

func (s *Stack) healthURL(name string) string {
	switch name {
	case ServiceBus:
		return s.Endpoints.ServiceBusHTTP + "/health"
	case Batch:
		return s.Endpoints.BatchEndpoint + "/"
	default:
		return s.Endpoints.FunctionsURL + "/admin/host/status"
	}
}

// Done returns a channel that is closed when any component exits on its own.
// Err then says which. Only meaningful while no Restart is running. Each
// call starts one goroutine per component that lives until that component
// exits (Stop ends them all): call it once per Stack.
func (s *Stack) Done() <-chan struct{} {
	out := make(chan struct{})
	go func() {
		cases := make([]<-chan struct{}, 0, len(s.procs)+1)
		for _, p := range s.procs {
			cases = append(cases, p.exited())
		}
		if s.azurite != nil {
			cases = append(cases, s.azurite.Done())
		}
		anyClosed(cases)
		close(out)
	}()
	return out
}

func anyClosed(chs []<-chan struct{}) {
	merged := make(chan struct{}, len(chs))
	for _, c := range chs {
		go func() { <-c; merged <- struct{}{} }()
	}
	<-merged
}

// Err reports which component has exited, or nil.
func (s *Stack) Err() error {
	var errs []error
	if s.azurite != nil {
		select {
		case <-s.azurite.Done():
			errs = append(errs, errors.New("azurite exited; the stack cannot work without Blob storage"))
		default:
		}
	}
	for _, name := range []string{ServiceBus, Batch, Functions} {
		p := s.procs[name]
		select {
		case <-p.exited():
			errs = append(errs, p.exitError())
		default:
		}
	}
	return errors.Join(errs...)
}

// Restart stops one component (SIGTERM, or SIGKILL when kill is true) and
// starts it again on the same ports with the same data directory. A
// component that has already exited (killed by a test) is just started.
// Azurite loses the writes of its last few seconds to a SIGKILL: it saves
// its metadata every 5 seconds (docs/emulator-fidelity.md).
func (s *Stack) Restart(ctx context.Context, name string, kill bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("restart: the stack is stopped")
	}
	if name == Azurite && s.azurite != nil {
		if kill {
			_ = syscall.Kill(s.azurite.PID(), syscall.SIGKILL)
		}
		s.azurite.Stop()
		az, err := s.startAzurite(ctx)
		if err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		s.azurite = az
		return s.recordLocked()
	}
	p, ok := s.procs[name]
	if !ok {
		return fmt.Errorf("restart %q: not a restartable component (want %s, %s, %s or %s)", name, Azurite, ServiceBus, Batch, Functions)
	}
	if kill {
		p.kill()
	} else if err := p.stop(s.o.StopGrace); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if err := s.startProc(ctx, name); err != nil {
		return err
	}
	return s.recordLocked()
}

// recordLocked rewrites stack.json if the stack keeps one; s.mu must be
// held.
func (s *Stack) recordLocked() error {
	if s.recorded {
		return s.writeRecordLocked()
	}
	return nil
}

// UpdateSettings changes app settings in local.settings.json (an empty
// value removes the setting). The Functions host reads the file when it
// starts: Restart(ctx, Functions, false) applies the change.
func (s *Stack) UpdateSettings(changes map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		return errors.New("update settings: the stack is not started")
	}
	for k, v := range changes {
		if v == "" {
			delete(s.values, k)
		} else {
			s.values[k] = v
		}
	}
	return writeSettings(s.settingsPath, s.values, s.ports.Functions)
}

// PID returns the process id of a restartable component (ServiceBus,
// Batch or Functions), for fault tests that signal it.
func (s *Stack) PID(name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == Azurite && s.azurite != nil {
		return s.azurite.PID(), nil
	}
	p, ok := s.procs[name]
	if !ok {
		return 0, fmt.Errorf("%q is not a running component (want %s, %s, %s or %s)", name, Azurite, ServiceBus, Batch, Functions)
	}
	return p.pid(), nil
}

// HandlerPID returns the process id of the custom handler that the
// Functions host runs (a child of funchost named "handler").
func (s *Stack) HandlerPID() (int, error) {
	p, ok := s.procs[Functions]
	if !ok {
		return 0, errors.New("the Functions host is not running")
	}
	host := p.pid()
	kids, err := childPIDs(host)
	if err != nil {
		return 0, err
	}
	for _, k := range kids {
		if processName(k) == "handler" {
			return k, nil
		}
	}
	return 0, fmt.Errorf("no handler process under funchost (pid %d)", host)
}

// Stop shuts the Functions host, the Batch emulator, the Service Bus
// emulator and Azurite down in that order. It is safe to call twice.
func (s *Stack) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	var errs []error
	// The host runs the handler in the handler's own process group and
	// stops it on shutdown; remember it to make sure it is gone.
	handler, _ := s.HandlerPID()
	for _, name := range []string{Functions, Batch, ServiceBus} {
		if p, ok := s.procs[name]; ok {
			s.log.Info("stopping " + name)
			if err := p.stop(s.o.StopGrace); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if handler != 0 && processName(handler) == "handler" {
		_ = syscall.Kill(handler, syscall.SIGKILL)
	}
	if s.azurite != nil {
		s.log.Info("stopping Azurite")
		s.azurite.Stop()
	}
	if s.recorded {
		// Before the lock goes: a stack started next must not lose its record.
		errs = append(errs, RemoveEndpoints(s.Dir))
	}
	if s.lock != nil {
		s.lock.Close()
	}
	return errors.Join(errs...)
}
