package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/google/uuid"
)

// Options configure a Host. AppDir is required; the zero value of every
// other field is a documented default.
type Options struct {
	// AppDir is the deployable layout: host.json, the handler and one
	// folder per function with its function.json.
	AppDir string
	// SettingsFile is a func CLI local.settings.json. Default:
	// AppDir/local.settings.json, which may be absent; a file named here
	// must exist.
	SettingsFile string
	// HTTPAddr is where HTTP functions, the admin API and the Event Grid
	// webhook listen. Default 127.0.0.1:7071.
	HTTPAddr string
	// StateDir keeps timer schedule status and the Event Grid delivery
	// state across restarts. Default AppDir/.funchost.
	StateDir string
	// Logger receives the host's logs, and the handler's output when
	// HandlerOutput is nil. Default: discard.
	Logger *slog.Logger
	// HandlerOutput receives the handler's stdout and stderr as the
	// handler wrote them, line by line, each line after
	// HandlerOutputPrefix (cmd/funchost passes its stderr, next to its own
	// log). Nil: the lines are logged through Logger as the real host
	// logs them (category Host.Function.Console), quoted inside the
	// host's log records.
	HandlerOutput io.Writer
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Environ is the environment the handler inherits and app settings are
	// read from, before local.settings.json Values (cmd/funchost passes
	// os.Environ()). Nil means empty.
	Environ []string
	// EventGridBlobSources map containers to eventGridTrigger functions.
	// The FUNCHOST_EVENTGRID_BLOBS app setting adds more.
	EventGridBlobSources []EventGridBlobSource

	// BlobPollInterval is how often watched containers are listed.
	// Default 250ms: listing a local container is cheap, and Event Grid
	// delivers within a second.
	BlobPollInterval time.Duration
	// EventGridRetryDelay is the first retry delay of a failed event
	// delivery; it doubles per attempt. Default 2s.
	EventGridRetryDelay time.Duration
	// EventGridMaxAttempts is the number of delivery attempts before an
	// event is recorded as poison. Default host.json
	// extensions.blobs.poisonBlobThreshold, else 5.
	EventGridMaxAttempts int
	// ReadinessPollInterval is the GET / poll interval. Default 25ms.
	ReadinessPollInterval time.Duration
	// InitializationTimeout overrides customHandler.initializationTimeout
	// (default 30s).
	InitializationTimeout time.Duration
	// RestartBackoff is the first delay before restarting a failed handler;
	// it doubles up to MaxRestartBackoff. Defaults 1s and 30s.
	RestartBackoff    time.Duration
	MaxRestartBackoff time.Duration
	// WorkerErrorLimit handler failures within WorkerErrorInterval stop
	// the host. Defaults 3 and 30 minutes, as the real host.
	WorkerErrorLimit    int
	WorkerErrorInterval time.Duration
	// ServiceBusRetryDelay is the first delay after a receive error.
	// Default 1s.
	ServiceBusRetryDelay time.Duration
	// CPUs scales the defaults the extensions multiply by the processor
	// count. Default runtime.NumCPU().
	CPUs int

	// OnInvocation, when set, is called when an invocation starts and when
	// it ends, from the invoking goroutine; it must not block. End-to-end
	// tests use it to observe the host (e.g. to kill the handler while a
	// given function runs).
	OnInvocation func(InvocationEvent)

	// newReceiver replaces azservicebus receivers in tests.
	newReceiver func(fn *function) (messageReceiver, sbClientInfo, error)
}

// Host runs one function app. Create it with New, then Start and Close.
type Host struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	cfg      *hostConfig
	fns      []*function
	settings appSettings
	stateDir string
	hostID   string
	sources  []EventGridBlobSource
	keys     Keys // fixed after New

	worker  *worker
	invoker *invoker
	egState *eventGridState
	httpSem chan struct{}
	timers  map[string]*timerRunner

	runCtx context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines
	srv    *http.Server
	ln     net.Listener

	mu       sync.Mutex // guards started, closed, fatalErr, sbClients
	started  bool
	closed   bool
	fatalErr error
	done     chan struct{}
	sbClose  []func(context.Context) error
}

// New loads and validates the layout and settings. It starts nothing.
func New(opts *Options) (*Host, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.AppDir == "" {
		return nil, errors.New("funchost: AppDir is required")
	}
	appDir, err := filepath.Abs(o.AppDir)
	if err != nil {
		return nil, fmt.Errorf("funchost: app directory: %w", err)
	}
	o.AppDir = appDir
	setDefaults(&o)
	h := &Host{opts: o, log: o.Logger, now: o.Now, hostID: "funchost-" + uuid.NewString()[:8], done: make(chan struct{}), timers: map[string]*timerRunner{}}
	h.stateDir = o.StateDir

	settingsPath, required := o.SettingsFile, true
	if settingsPath == "" {
		settingsPath, required = filepath.Join(appDir, "local.settings.json"), false
	}
	values, err := loadLocalSettings(settingsPath, required)
	if err != nil {
		return nil, err
	}
	h.settings = newAppSettings(o.Environ, values, h.log)
	if rt, ok := h.settings.lookup("FUNCTIONS_WORKER_RUNTIME"); ok && rt != "" && !strings.EqualFold(rt, "custom") {
		return nil, fmt.Errorf("FUNCTIONS_WORKER_RUNTIME is %q; funchost runs custom handlers only (set it to \"custom\")", rt)
	}
	if h.cfg, err = loadHostJSON(appDir, o.CPUs); err != nil {
		return nil, err
	}
	if o.InitializationTimeout > 0 {
		h.cfg.Handler.InitializationTimeout = o.InitializationTimeout
	}
	if h.fns, err = loadFunctions(appDir, h.cfg.Functions, h.settings, h.cfg); err != nil {
		return nil, err
	}
	if h.keys, err = loadKeys(filepath.Join(h.stateDir, "secrets"), h.fns); err != nil {
		return nil, err
	}
	spec, err := resolveWorkerSpec(appDir, h.cfg.Handler, h.settings)
	if err != nil {
		return nil, err
	}
	spec.Env = h.settings.environ(nil)
	spec.PollInterval = o.ReadinessPollInterval
	spec.Backoff, spec.MaxBackoff = o.RestartBackoff, o.MaxRestartBackoff
	spec.ErrorLimit, spec.ErrorInterval = o.WorkerErrorLimit, o.WorkerErrorInterval
	h.worker = newWorker(spec, h.log.With(slog.String("app", filepath.Base(appDir)), slog.String("component", "handler")), o.HandlerOutput, h.now, h.fatal)
	h.invoker = newInvoker(h.worker, h.log, h.now, h.cfg.FunctionTimeout)
	h.invoker.observe = o.OnInvocation
	if h.cfg.MaxConcurrentRequests > 0 {
		h.httpSem = make(chan struct{}, h.cfg.MaxConcurrentRequests)
	}
	if err := h.checkSources(); err != nil {
		return nil, err
	}
	if err := h.checkServiceBus(); err != nil {
		return nil, err
	}
	return h, nil
}

// Keys returns the function keys the host accepts (see keys.go): the
// master key, the host keys, the system keys and each HTTP function's own keys, as stored
// in <StateDir>/secrets. Never log them.
func (h *Host) Keys() Keys {
	k := Keys{Master: h.keys.Master, Host: maps.Clone(h.keys.Host), Functions: map[string]map[string]string{}, System: maps.Clone(h.keys.System)}
	for fn, keys := range h.keys.Functions {
		k.Functions[fn] = maps.Clone(keys)
	}
	return k
}

func setDefaults(o *Options) {
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:7071"
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.AppDir, ".funchost")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.BlobPollInterval, 250*time.Millisecond)
	def(&o.EventGridRetryDelay, 2*time.Second)
	def(&o.ReadinessPollInterval, 25*time.Millisecond)
	def(&o.RestartBackoff, time.Second)
	def(&o.MaxRestartBackoff, 30*time.Second)
	def(&o.WorkerErrorInterval, 30*time.Minute)
	def(&o.ServiceBusRetryDelay, time.Second)
	if o.WorkerErrorLimit <= 0 {
		o.WorkerErrorLimit = 3
	}
	if o.CPUs <= 0 {
		o.CPUs = runtime.NumCPU()
	}
}

// checkSources validates the Event Grid blob sources against the functions
// and their storage connections.
func (h *Host) checkSources() error {
	sources := append([]EventGridBlobSource{}, h.opts.EventGridBlobSources...)
	if v, ok := h.settings.lookup("FUNCHOST_EVENTGRID_BLOBS"); ok && v != "" {
		more, err := ParseEventGridBlobSources(v)
		if err != nil {
			return fmt.Errorf("setting FUNCHOST_EVENTGRID_BLOBS: %w", err)
		}
		sources = append(sources, more...)
	}
	for _, src := range sources {
		fn := h.function(src.Function)
		if fn == nil {
			return fmt.Errorf("event grid blob source for %q: no such function", src.Function)
		}
		if !fn.EventGrid {
			return fmt.Errorf("event grid blob source for %q: the function has a %s, not an eventGridTrigger", src.Function, fn.Trigger.props["type"])
		}
		src.Function = fn.Name
		var err error
		if src.Container, err = h.settings.resolve(src.Container); err != nil {
			return fmt.Errorf("event grid blob source for %s: container: %w", fn.Name, err)
		}
		if src.Prefix, err = h.settings.resolve(src.Prefix); err != nil {
			return fmt.Errorf("event grid blob source for %s: prefix: %w", fn.Name, err)
		}
		if src.Suffix, err = h.settings.resolve(src.Suffix); err != nil {
			return fmt.Errorf("event grid blob source for %s: suffix: %w", fn.Name, err)
		}
		if _, err := containerClient(h.settings, src); err != nil {
			return fmt.Errorf("event grid blob source for %s: %w", fn.Name, err)
		}
		h.sources = append(h.sources, src)
	}
	for _, fn := range h.fns {
		if !fn.EventGrid {
			continue
		}
		watched := false
		for _, s := range h.sources {
			watched = watched || s.Function == fn.Name
		}
		if !watched {
			h.log.Info("eventGridTrigger has no blob source; it runs only through /runtime/webhooks/eventgrid", slog.String("function", fn.Name))
		}
	}
	return nil
}

// checkServiceBus validates every serviceBusTrigger connection.
func (h *Host) checkServiceBus() error {
	if h.opts.newReceiver != nil {
		return nil
	}
	for _, fn := range h.fns {
		if fn.ServiceBus == nil {
			continue
		}
		if _, _, err := serviceBusClient(h.settings, fn.ServiceBus.Connection, nil); err != nil {
			return fmt.Errorf("function %s: %w", fn.Name, err)
		}
	}
	return nil
}

// function finds a function by name, case-insensitively.
func (h *Host) function(name string) *function {
	for _, fn := range h.fns {
		if strings.EqualFold(fn.Name, name) {
			return fn
		}
	}
	return nil
}

// Functions lists the loaded function names.
func (h *Host) Functions() []string {
	out := make([]string, 0, len(h.fns))
	for _, fn := range h.fns {
		out = append(out, fn.Name)
	}
	return out
}

// Start starts the handler, waits until it is ready (or ctx ends), then
// serves HTTP and starts the triggers. Background work runs until Close.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.started {
		h.mu.Unlock()
		return errors.New("funchost: already started")
	}
	h.started = true
	h.mu.Unlock()

	ln, err := net.Listen("tcp", h.opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("funchost: listen on %s: %w", h.opts.HTTPAddr, err)
	}
	h.ln = ln
	if h.egState, err = loadEventGridState(h.stateDir); err != nil {
		ln.Close()
		return fmt.Errorf("funchost: %w", err)
	}
	h.runCtx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.worker.run(h.runCtx)
	}()
	if _, _, err := h.worker.endpoint(ctx); err != nil {
		h.shutdown(context.Background())
		if ferr := h.Err(); ferr != nil {
			err = ferr
		}
		return fmt.Errorf("funchost: start custom handler: %w", err)
	}
	h.srv = &http.Server{Handler: h.routes(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("http server", slog.Any("error", err))
		}
	}()
	if err := h.startTriggers(); err != nil {
		h.shutdown(context.Background())
		return fmt.Errorf("funchost: %w", err)
	}
	h.log.Info("host started", slog.String("addr", ln.Addr().String()), slog.Int("functions", len(h.fns)))
	return nil
}

func (h *Host) startTriggers() error {
	var sem chan struct{}
	for _, fn := range h.fns {
		if fn.Disabled {
			h.log.Info("function is disabled", slog.String("function", fn.Name))
			continue
		}
		switch {
		case fn.Timer != nil:
			r := newTimerRunner(h, fn)
			h.timers[fn.Name] = r
			h.goBackground(r.run)
		case fn.ServiceBus != nil:
			l, err := h.newListener(fn)
			if err != nil {
				return err
			}
			h.goBackground(l.run)
		}
	}
	for _, src := range h.sources {
		fn := h.function(src.Function)
		if fn.Disabled {
			continue
		}
		if sem == nil {
			sem = make(chan struct{}, h.cfg.BlobParallelism)
		}
		client, err := containerClient(h.settings, src)
		if err != nil {
			return err
		}
		w := &blobWatcher{
			h: h, fn: fn, src: src, client: client, account: accountName(client.URL()),
			log: h.log.With(slog.String("function", fn.Name), slog.String("component", "eventgrid")),
			sem: sem, inflight: map[string]bool{},
		}
		h.goBackground(w.run)
	}
	return nil
}

func (h *Host) newListener(fn *function) (*sbListener, error) {
	l := &sbListener{h: h, fn: fn, cfg: fn.ServiceBus, log: h.log.With(slog.String("function", fn.Name), slog.String("component", "servicebus"))}
	if h.opts.newReceiver != nil {
		rcv, info, err := h.opts.newReceiver(fn)
		if err != nil {
			return nil, err
		}
		l.rcv, l.client = rcv, info
		return l, nil
	}
	if h.cfg.ServiceBus.PrefetchCount > 0 {
		l.log.Warn("extensions.serviceBus.prefetchCount is ignored: azservicebus manages link credit itself", slog.Int("prefetchCount", h.cfg.ServiceBus.PrefetchCount))
	}
	client, ns, err := serviceBusClient(h.settings, fn.ServiceBus.Connection, &azservicebus.ClientOptions{RetryOptions: h.cfg.ServiceBus.Retry})
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", fn.Name, err)
	}
	var rcv *azservicebus.Receiver
	if fn.ServiceBus.Queue != "" {
		rcv, err = client.NewReceiverForQueue(fn.ServiceBus.Queue, nil)
	} else {
		rcv, err = client.NewReceiverForSubscription(fn.ServiceBus.Topic, fn.ServiceBus.Subscription, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("function %s: create receiver for %s: %w", fn.Name, fn.ServiceBus.entity(), err)
	}
	h.mu.Lock()
	h.sbClose = append(h.sbClose, client.Close)
	h.mu.Unlock()
	l.rcv = rcv
	l.client = sbClientInfo{FullyQualifiedNamespace: ns, Identifier: ns + "-" + uuid.NewString()}
	return l, nil
}

// goBackground runs f until Close.
func (h *Host) goBackground(f func(ctx context.Context)) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f(h.runCtx)
	}()
}

// fatal stops the triggers after the handler failed too often.
func (h *Host) fatal(err error) {
	h.mu.Lock()
	if h.fatalErr == nil {
		h.fatalErr = err
		close(h.done)
	}
	h.mu.Unlock()
	h.log.Error("host is shutting down: the custom handler keeps failing", slog.Any("error", err))
	h.cancel()
}

// Err reports why the host stopped on its own (nil while healthy).
func (h *Host) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fatalErr
}

// Done is closed when the host stops on its own; see Err.
func (h *Host) Done() <-chan struct{} { return h.done }

// HandlerPID is the process id of the running custom handler, or 0 while
// none runs (fault-injection tests kill it to check recovery).
func (h *Host) HandlerPID() int {
	h.worker.mu.Lock()
	defer h.worker.mu.Unlock()
	if h.worker.proc == nil {
		return 0
	}
	return h.worker.proc.Pid
}

// Addr is the HTTP listener's address once started.
func (h *Host) Addr() string {
	if h.ln == nil {
		return ""
	}
	return h.ln.Addr().String()
}

// RunFunction invokes a non-HTTP function now, as POST
// /admin/functions/{name} with {"input": ""} does, and waits for the result.
func (h *Host) RunFunction(ctx context.Context, name string) error {
	fn := h.function(name)
	if fn == nil {
		return fmt.Errorf("run function %q: no such function", name)
	}
	h.mu.Lock()
	started := h.started && !h.closed
	h.mu.Unlock()
	if !started {
		return fmt.Errorf("run function %s: host is not running", fn.Name)
	}
	return h.runFunction(ctx, fn, "", "Manual")
}

func (h *Host) runFunction(ctx context.Context, fn *function, input, reason string) error {
	switch {
	case fn.HTTP != nil:
		return fmt.Errorf("run function %s: it has an httpTrigger; call its route instead", fn.Name)
	case fn.Timer != nil:
		r := h.timers[fn.Name]
		if r == nil {
			r = newTimerRunner(h, fn) // disabled functions can still run manually
		}
		return r.fire(ctx, fireManual)
	case fn.EventGrid:
		events, err := decodeEvents([]byte(input))
		if err != nil {
			return fmt.Errorf("run function %s: input must be an Event Grid event: %w", fn.Name, err)
		}
		var errs []error
		for _, ev := range events {
			errs = append(errs, h.deliverEvent(ctx, fn, ev, reason))
		}
		return errors.Join(errs...)
	default:
		var data any = sbBody(fn.ServiceBus.DataType, []byte(input))
		if fn.ServiceBus.Many {
			data = hostArray([]any{data})
		}
		_, err := h.invoker.invoke(ctx, newInvocation(fn, reason), &invocationRequest{
			Data:     map[string]any{fn.Trigger.Name: data},
			Metadata: map[string]any{"sys": newSys(fn.Name, h.now())},
		})
		return err
	}
}

// Close stops the triggers and the HTTP server, kills the handler and waits
// for background work, bounded by ctx.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed || !h.started {
		h.closed = true
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	return h.shutdown(ctx)
}

func (h *Host) shutdown(ctx context.Context) error {
	var errs []error
	if h.srv != nil {
		if err := h.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		}
	} else if h.ln != nil {
		h.ln.Close()
	}
	if h.cancel != nil {
		h.cancel()
	}
	waited := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("wait for background work: %w", ctx.Err()))
	}
	if h.egState != nil { // the deliveries since the last scan's write
		if err := h.egState.flush(time.Now(), true); err != nil {
			errs = append(errs, fmt.Errorf("write event grid state: %w", err))
		}
	}
	h.mu.Lock()
	closers := h.sbClose
	h.sbClose = nil
	h.mu.Unlock()
	for _, c := range closers {
		if err := c(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close service bus client: %w", err))
		}
	}
	return errors.Join(errs...)
}
