package sbemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

// Defaults for Options.
const (
	DefaultKeyName        = "RootManageSharedAccessKey"
	DefaultKey            = "SAS_KEY_VALUE"
	DefaultMaxMessageSize = broker.DefaultMaxMessageSize
	DefaultIdleTimeout    = 60 * time.Second
	defaultMaxFrameSize   = 256 * 1024
	defaultAuthCheckEvery = 5 * time.Second
)

// Options configure a Server. The zero value (or nil) serves the local
// stack's entities in memory with the official emulator's key.
type Options struct {
	Config       *broker.Config // nil → broker.DefaultConfig()
	DataDir      string         // "" → in memory
	KeyName, Key string         // SAS rule; defaults RootManageSharedAccessKey / SAS_KEY_VALUE
	// TokenKey, when set, makes $cbs accept "jwt" put-tokens signed with
	// it by the local token issuer (internal/localtoken) for the Service
	// Bus audience; nil refuses every jwt token (SAS only).
	TokenKey       []byte
	MaxMessageSize int // default 256 KiB (Standard tier and the official emulator)
	// IdleTimeout is the idle-time-out advertised in open: a connection
	// whose peer sends nothing for this long is closed with
	// amqp:resource-limit-exceeded. Default 60 s.
	IdleTimeout time.Duration
	// HeartbeatInterval caps the interval between frames we send (empty
	// frames when idle). Default: half the peer's idle-time-out, at most 15 s.
	HeartbeatInterval time.Duration
	Logger            *slog.Logger
	Now               func() time.Time
}

// Server is a Service Bus emulator: an AMQP listener front end over a
// broker, plus a small HTTP handler for health and statistics.
type Server struct {
	opts   Options
	tokens *localtoken.Issuer // nil: jwt put-tokens refused
	broker *broker.Broker
	log    *slog.Logger
	now    func() time.Time

	// ctx is cancelled by Close; connections watch it.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex // guards listeners, conns and closed
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	wg        sync.WaitGroup // one per connection goroutine tree

	panics atomic.Int64 // connection loops that panicked (a bug; see serveConn)

	// authCheckEvery is how often connections re-check that each link's
	// token is still valid; set before serving (tests shorten it).
	authCheckEvery time.Duration
}

// NewServer builds the broker from opts and returns a server that is ready
// to ServeAMQP.
func NewServer(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Config == nil {
		o.Config = broker.DefaultConfig()
	}
	if o.KeyName == "" {
		o.KeyName = DefaultKeyName
	}
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var tokens *localtoken.Issuer
	if o.TokenKey != nil {
		var err error
		if tokens, err = localtoken.New(o.TokenKey, o.Now); err != nil {
			return nil, err
		}
	}
	b, err := broker.New(o.Config, &broker.Options{DataDir: o.DataDir, Now: o.Now,
		Logger: o.Logger.With("component", "broker"), MaxMessageSize: o.MaxMessageSize})
	if err != nil {
		return nil, fmt.Errorf("create broker: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opts: o, tokens: tokens, broker: b, log: o.Logger.With("component", "sbemu"), now: o.Now,
		ctx: ctx, cancel: cancel, listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{},
		authCheckEvery: defaultAuthCheckEvery}, nil
}

// ErrServerClosed is returned by ServeAMQP after Close.
var ErrServerClosed = errors.New("sbemu: server closed")

// ServeAMQP accepts AMQP connections on ln until Close; it always returns a
// non-nil error (ErrServerClosed after Close).
func (s *Server) ServeAMQP(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept amqp connection: %w", err)
		}
		s.serveConn(nc)
	}
}

// serveConn runs one connection in its own goroutines.
func (s *Server) serveConn(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			// A bug in one connection must not take the emulator down:
			// log it, count it (tests assert none) and drop the connection.
			if r := recover(); r != nil {
				s.panics.Add(1)
				s.log.Error("panic serving amqp connection", "panic", r, "stack", string(debug.Stack()))
				nc.Close()
			}
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		c.serve()
	}()
}

// Close stops accepting, closes every connection (with amqp:connection:forced)
// and closes the broker. It waits for connections to finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("close sbemu server: %w", ctx.Err())
	}
	if berr := s.broker.Close(); berr != nil && err == nil {
		err = fmt.Errorf("close broker: %w", berr)
	}
	return err
}

// entityExists reports whether path names an entity (one that needs
// sessions exists too, although links to it are refused).
func (s *Server) entityExists(path string) bool {
	_, err := s.broker.Resolve(path)
	return !errors.Is(err, broker.ErrEntityNotFound)
}

// checkLinkTarget verifies that an entity address exists and supports the
// direction of the link: clientSends for links where the client sends.
func (s *Server) checkLinkTarget(path string, clientSends bool) error {
	ref, err := s.broker.Resolve(path)
	if err != nil {
		return err
	}
	if clientSends && !ref.Sendable() {
		return fmt.Errorf("send to %q: %w", path, broker.ErrNotAllowed)
	}
	if !clientSends && !ref.Receivable() {
		return fmt.Errorf("receive from %q: %w", path, broker.ErrNotAllowed)
	}
	return nil
}

// releaseLock unlocks a message without counting a delivery attempt.
func (s *Server) releaseLock(path string, token [16]byte) error {
	return s.broker.Release(path, token)
}

// Tick applies time-dependent state changes (lock expiry, scheduled
// messages becoming active, TTL expiry) at the injected clock's current time
// and wakes waiting receivers. The broker does this by itself on real-time
// timers; tests that advance Options.Now call Tick afterwards.
func (s *Server) Tick() error {
	if err := s.broker.Tick(); err != nil {
		return fmt.Errorf("tick broker: %w", err)
	}
	return nil
}

// connCount returns the number of connections being served.
func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
