package batchemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/auth"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
)

// DefaultAccountName is the account name the emulator uses unless told otherwise.
const DefaultAccountName = "devbatch"

// DefaultAccountKey is the emulator's well-known account key (base64). Like
// Azurite's devstoreaccount1 key it is public and protects nothing.
const DefaultAccountKey = "9I9wKQ78HF84MlYcGNCytO34fQfvfE4pnZKEAiQ7yyOdKoFeoghlTipV4jW92nT2bxAXn0JEwvMDMz1k/CB99Q=="

// StorageAccount is the Storage account used for resource files that name an
// autoStorageContainerName (the Batch account's linked "auto-storage").
type StorageAccount struct{ BlobEndpoint, AccountName, AccountKey string }

// Options configures a Server. A nil *Options, or a zero field, means the default.
type Options struct {
	// AccountName and AccountKey are the Batch account credentials that Shared
	// Key signatures are verified against; defaults DefaultAccountName/Key.
	AccountName, AccountKey string
	// TokenKey, when set, makes the emulator accept Bearer tokens signed
	// with it by the local token issuer (internal/localtoken); nil refuses
	// every Bearer token.
	TokenKey []byte
	// DataDir holds the persisted state and the node directories. "" keeps
	// state in memory and puts node directories in a temporary directory
	// removed by Close.
	DataDir string
	// Storage is the auto-storage account; nil makes autoStorageContainerName
	// resource files fail like an account without auto-storage.
	Storage *StorageAccount
	// NodeStartDelay is the simulated allocation time of each node (default 0).
	NodeStartDelay time.Duration
	// Concurrency caps the task processes running at once in the whole
	// emulator (default runtime.NumCPU()).
	Concurrency int
	// AutoScaleMinInterval is the smallest autoScaleEvaluationInterval the
	// emulator accepts (default 5m like Azure); lower it for local runs.
	AutoScaleMinInterval time.Duration
	// SampleInterval is how often autoscale task metrics are sampled (default 30s).
	SampleInterval time.Duration
	// Logger receives the emulator's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// runner replaces the process executor in tests.
	runner attemptRunner
	// idleTimeout replaces httpIdleTimeout in tests.
	idleTimeout time.Duration
	// maxPoolNodes is the emulator's quota of nodes per pool (default 1000);
	// larger targets end the resize with an AccountCoreQuotaReached resize
	// error, as a real account's core quota does.
	maxPoolNodes int
	// store replaces the snapshot writer in tests (the state is still
	// loaded from DataDir).
	store store.Persister
	// tick is the scheduler loop period (default 50ms); changes wake the loop at once.
	tick time.Duration
}

// Server is a running Batch emulator. Its methods are safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	auth    *auth.Authenticator
	runner  attemptRunner
	mux     *http.ServeMux
	rootDir string // node directories live here
	tmpRoot bool   // rootDir was created by NewServer and is removed by Close
	store   store.Persister

	// mu guards every field below it up to kick (st, attempts, procs,
	// accountURL, dirty, jobsChanged, lastJobScan, closed) and the runtime
	// fields of the records in st (store.Task.Run, store.Node.StartRun,
	// store.NodePrep.PrepRun, ...). Besides it there are httpMu and
	// schemaMu, never held together with it, and flushMu, which may be held
	// while taking mu (never the other way round). Never run a process or
	// do network I/O with mu held.
	mu         sync.Mutex
	st         *store.State
	attempts   map[*store.Attempt]struct{} // running processes
	baseEnv    []string                    // PATH and HOME of the emulator process
	accountURL string                      // AZ_BATCH_ACCOUNT_URL: base URL of the first request
	procs      int                         // processes currently counted against Concurrency
	dirty      bool                        // st changed since the last snapshot
	// jobsChanged says a job or task changed since the last job scan.
	jobsChanged bool
	lastJobScan time.Time
	closed      bool

	kick     chan struct{} // wakes the scheduler loop (buffered, size 1)
	stop     chan struct{} // closed by Close to end the loop
	loopDone chan struct{}
	runs     sync.WaitGroup // attempt goroutines

	// gen counts changes to st (markDirty); guarded by mu.
	gen uint64
	// flushMu serialises snapshot writes and guards savedGen and crashed.
	// It is taken before mu, never while mu is held.
	flushMu  sync.Mutex
	savedGen uint64 // every change up to this generation is durable
	crashed  bool   // a test simulated a crash: nothing is saved any more
	// snapshotSize is the length of the last snapshot; guarded by flushMu.
	snapshotSize int64
	// Guarded by mu: the journal bookkeeping of saveLocked. changedTasks
	// holds the tasks touched and deletedTasks the tasks removed since the
	// last save; needSnapshot asks for a whole snapshot (after a failed save).
	journalN     uint64
	changedTasks map[*store.Task]store.TaskRef
	deletedTasks []store.TaskRef
	needSnapshot bool

	httpMu   sync.Mutex // guards httpSrvs
	httpSrvs []*http.Server
}

// NewServer builds an emulator and starts its scheduler. With a DataDir it
// loads the persisted state, requeueing tasks that were running.
func NewServer(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.AccountName == "" {
		o.AccountName = DefaultAccountName
	}
	if o.AccountKey == "" {
		o.AccountKey = DefaultAccountKey
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.AutoScaleMinInterval <= 0 {
		o.AutoScaleMinInterval = 5 * time.Minute
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = 30 * time.Second
	}
	if o.NodeStartDelay < 0 {
		return nil, fmt.Errorf("new batch emulator: negative NodeStartDelay %v", o.NodeStartDelay)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.maxPoolNodes <= 0 {
		o.maxPoolNodes = 1000
	}
	if o.tick <= 0 {
		o.tick = 50 * time.Millisecond
	}
	if !validID(o.AccountName) {
		return nil, fmt.Errorf("new batch emulator: invalid account name %q", o.AccountName)
	}
	authn, err := auth.New(o.AccountName, o.AccountKey, o.TokenKey)
	if err != nil {
		return nil, fmt.Errorf("new batch emulator: %w", err)
	}
	s := &Server{
		opts:     o,
		log:      o.Logger.With("component", "batchemu"),
		now:      o.Now,
		auth:     authn,
		attempts: map[*store.Attempt]struct{}{},
		baseEnv:  processEnv(),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	s.runner = o.runner
	if s.runner == nil {
		s.runner = newExecutorRunner(&o, s.log)
	}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "batchemu-nodes-")
		if err != nil {
			return nil, fmt.Errorf("new batch emulator: create node directory: %w", err)
		}
		s.rootDir, s.tmpRoot = dir, true
		s.st = store.NewState()
	} else {
		abs, err := filepath.Abs(o.DataDir)
		if err != nil {
			return nil, fmt.Errorf("new batch emulator: data directory: %w", err)
		}
		o.DataDir = abs
		s.opts.DataDir = abs
		s.rootDir = filepath.Join(abs, "nodes")
		if err := os.MkdirAll(s.rootDir, 0o755); err != nil {
			return nil, fmt.Errorf("new batch emulator: create data directory: %w", err)
		}
		disk := store.NewDir(o.DataDir)
		s.store = disk
		if o.store != nil {
			s.store = o.store
		}
		st, last, err := disk.Load()
		if err != nil {
			return nil, fmt.Errorf("new batch emulator: %w", err)
		}
		s.st = st
		s.journalN = last
		s.changedTasks = map[*store.Task]store.TaskRef{}
		// Start from a fresh snapshot: it folds the replayed journal in and
		// truncates it, so no record is appended after a torn one.
		s.needSnapshot = disk.JournalSize() > 0
		s.recover()
	}
	s.mux = s.routes()
	go s.loop()
	return s, nil
}

// Handler returns the emulator's HTTP handler (the Batch REST API).
func (s *Server) Handler() http.Handler { return s.mux }

// httpIdleTimeout closes keep-alive connections idle this long, so idle
// clients cannot hold connections (and file descriptors) forever.
const httpIdleTimeout = time.Minute

// Serve answers Batch requests on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	idle := httpIdleTimeout
	if s.opts.idleTimeout > 0 {
		idle = s.opts.idleTimeout
	}
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: idle,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.httpMu.Lock()
	s.httpSrvs = append(s.httpSrvs, hs)
	s.httpMu.Unlock()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve batch emulator: %w", err)
	}
	return nil
}

// Close stops HTTP serving and scheduling and kills running processes. Tasks
// that were running stay "running" in the persisted state, so a restart with
// the same DataDir requeues them (requeueCount+1) as after a node reboot.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for a := range s.attempts {
		a.Cancel()
	}
	s.mu.Unlock()

	var errs []error
	s.httpMu.Lock()
	for _, hs := range s.httpSrvs {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		}
	}
	s.httpMu.Unlock()
	close(s.stop)
	<-s.loopDone
	done := make(chan struct{})
	go func() { s.runs.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("wait for task processes: %w", ctx.Err()))
	}
	if s.store != nil {
		s.flushMu.Lock()
		crashed := s.crashed
		var err error
		if !crashed {
			err = s.saveLocked(true)
		}
		if ss, ok := s.store.(*store.Dir); ok {
			if cerr := ss.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		s.flushMu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
	}
	if s.tmpRoot {
		if err := os.RemoveAll(s.rootDir); err != nil {
			errs = append(errs, fmt.Errorf("remove node directories: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("close batch emulator: %w", errors.Join(errs...))
	}
	return nil
}

// processEnv is the part of the emulator's own environment that task
// processes inherit: PATH (to find programs) and HOME.
func processEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// wake asks the scheduler loop to run soon.
func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
