package sbemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
)

const (
	// ourChannelMax is the channel-max we advertise.
	ourChannelMax = 4095
	// handshakeTimeout bounds header, SASL and open exchange.
	handshakeTimeout = 30 * time.Second
	// maxHeartbeat caps the interval between frames we send.
	maxHeartbeat = 15 * time.Second
)

// conn is one AMQP connection. Fields below "loop state" are owned by the
// loop goroutine (serve) and must not be touched by others.
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger

	out    chan []byte   // encoded frames for the writer
	events chan func()   // closures run by the loop (wake-ups)
	done   chan struct{} // closed when the loop exits; stops writer and waiters
	wdone  chan struct{} // closed when the writer exits

	// loop state
	peerMaxFrame uint32
	peerIdle     time.Duration
	peerChanMax  uint16
	sessions     map[uint16]*session // by the peer's channel
	localChans   map[uint16]bool     // our channels in use
	replyLinks   map[string]*link    // $cbs/$management reply links by target address
	auth         authState
	host         string // open's hostname (the namespace the client named), for error descriptions
	closing      bool
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{srv: s, nc: nc, log: s.log.With("remote", nc.RemoteAddr().String()),
		out: make(chan []byte, 256), events: make(chan func(), 64), done: make(chan struct{}),
		wdone: make(chan struct{}), sessions: map[uint16]*session{}, localChans: map[uint16]bool{},
		replyLinks: map[string]*link{}, auth: authState{tokens: map[string]time.Time{}}}
}

// serve runs the connection to completion and closes the socket.
func (c *conn) serve() {
	defer c.nc.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-c.srv.ctx.Done():
			// Unblock a handshake read; the loop sends close itself.
			c.nc.SetReadDeadline(time.Now())
		case <-stop:
		}
	}()
	if err := c.handshake(); err != nil {
		c.log.Debug("amqp handshake failed", "err", err)
		return
	}
	c.loop()
}

// readFull reads exactly len(b) bytes with a deadline.
func (c *conn) readFull(b []byte, d time.Duration) error {
	if err := c.nc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	_, err := io.ReadFull(c.nc, b)
	return err
}

// readFrame reads one frame of at most max bytes.
func (c *conn) readFrame(max uint32, d time.Duration) (amqpwire.Frame, error) {
	hdr := make([]byte, amqpwire.FrameHeaderSize)
	if err := c.readFull(hdr, d); err != nil {
		return amqpwire.Frame{}, err
	}
	size, err := amqpwire.FrameSize(hdr)
	if err != nil {
		return amqpwire.Frame{}, err
	}
	if size > max {
		return amqpwire.Frame{}, fmt.Errorf("%w: frame of %d bytes exceeds max-frame-size %d", errFrameTooLarge, size, max)
	}
	buf := make([]byte, size)
	copy(buf, hdr)
	if err := c.readFull(buf[amqpwire.FrameHeaderSize:], d); err != nil {
		return amqpwire.Frame{}, err
	}
	return amqpwire.ParseFrame(buf)
}

var errFrameTooLarge = errors.New("frame too large")

// writeNow encodes and writes a frame synchronously (handshake only).
func (c *conn) writeNow(typ byte, ch uint16, body amqpwire.Composite) error {
	b, err := amqpwire.AppendFrame(nil, typ, ch, body, nil)
	if err != nil {
		return err
	}
	c.nc.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	_, err = c.nc.Write(b)
	return err
}

// handshake negotiates the protocol headers, SASL and open.
func (c *conn) handshake() error {
	var hdr [8]byte
	if err := c.readFull(hdr[:], handshakeTimeout); err != nil {
		return fmt.Errorf("read protocol header: %w", err)
	}
	if hdr != amqpwire.ProtoSASL {
		// We only accept SASL first: answer with the header we support and
		// close (AMQP 1.0 part 2, 2.2).
		c.nc.Write(amqpwire.ProtoSASL[:])
		return fmt.Errorf("unsupported protocol header %q", hdr[:])
	}
	if _, err := c.nc.Write(amqpwire.ProtoSASL[:]); err != nil {
		return fmt.Errorf("write sasl header: %w", err)
	}
	if err := c.sasl(); err != nil {
		return err
	}
	if err := c.readFull(hdr[:], handshakeTimeout); err != nil {
		return fmt.Errorf("read amqp header: %w", err)
	}
	c.nc.Write(amqpwire.ProtoAMQP[:])
	if hdr != amqpwire.ProtoAMQP {
		return fmt.Errorf("unsupported protocol header after sasl %q", hdr[:])
	}
	f, err := c.readFrame(defaultMaxFrameSize, handshakeTimeout)
	if err != nil {
		return fmt.Errorf("read open: %w", err)
	}
	open, ok := f.Body.(*amqpwire.Open)
	if !ok || f.Type != amqpwire.FrameAMQP {
		c.writeNow(amqpwire.FrameAMQP, 0, &amqpwire.Open{ContainerID: "sbemu", MaxFrameSize: defaultMaxFrameSize, ChannelMax: ourChannelMax})
		c.writeNow(amqpwire.FrameAMQP, 0, &amqpwire.Close{Error: amqpError(condNotAllowed, "expected open, got %T", f.Body)})
		return fmt.Errorf("expected open frame, got %T", f.Body)
	}
	c.peerMaxFrame = max(open.MaxFrameSize, amqpwire.MinMaxFrameSize)
	c.peerChanMax = open.ChannelMax
	c.peerIdle = time.Duration(open.IdleTimeOut) * time.Millisecond
	c.host = open.Hostname
	if c.host == "" {
		c.host = c.nc.LocalAddr().String()
	}
	reply := &amqpwire.Open{ContainerID: "sbemu", Hostname: open.Hostname, MaxFrameSize: defaultMaxFrameSize,
		ChannelMax: min(ourChannelMax, open.ChannelMax), IdleTimeOut: uint32(c.srv.opts.IdleTimeout / time.Millisecond),
		Properties: amqpwire.Map{{Key: amqpwire.Symbol("product"), Value: "sbemu"}}}
	if err := c.writeNow(amqpwire.FrameAMQP, 0, reply); err != nil {
		return fmt.Errorf("write open: %w", err)
	}
	c.log.Debug("amqp connection open", "container", open.ContainerID, "maxFrame", open.MaxFrameSize, "idle", c.peerIdle)
	return nil
}

// sasl runs the SASL exchange; it returns an error when the connection
// must be closed.
func (c *conn) sasl() error {
	mechs := &amqpwire.SASLMechanisms{Mechanisms: []amqpwire.Symbol{"MSSBCBS", "PLAIN", "ANONYMOUS"}}
	if err := c.writeNow(amqpwire.FrameSASL, 0, mechs); err != nil {
		return fmt.Errorf("write sasl-mechanisms: %w", err)
	}
	f, err := c.readFrame(defaultMaxFrameSize, handshakeTimeout)
	if err != nil {
		return fmt.Errorf("read sasl-init: %w", err)
	}
	init, ok := f.Body.(*amqpwire.SASLInit)
	if !ok {
		c.writeNow(amqpwire.FrameSASL, 0, &amqpwire.SASLOutcome{Code: amqpwire.SASLSysPerm})
		return fmt.Errorf("expected sasl-init, got %T", f.Body)
	}
	code := amqpwire.SASLOK
	switch init.Mechanism {
	case "ANONYMOUS", "MSSBCBS":
		// Authorization happens per entity through $cbs tokens.
	case "PLAIN":
		if c.checkPlain(init.InitialResponse) {
			c.auth.full = true
		} else {
			code = amqpwire.SASLAuth
		}
	default:
		code = amqpwire.SASLAuth
	}
	if err := c.writeNow(amqpwire.FrameSASL, 0, &amqpwire.SASLOutcome{Code: code}); err != nil {
		return fmt.Errorf("write sasl-outcome: %w", err)
	}
	if code != amqpwire.SASLOK {
		return fmt.Errorf("sasl %s authentication failed", init.Mechanism)
	}
	return nil
}

// checkPlain verifies a PLAIN response "authzid\0authcid\0password"
// against the configured key name and key.
func (c *conn) checkPlain(resp []byte) bool {
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 {
		return false
	}
	return constantEqual(string(parts[1]), c.srv.opts.KeyName) && constantEqual(string(parts[2]), c.srv.opts.Key)
}

// frameOrErr is what the reader hands to the loop.
type frameOrErr struct {
	f   amqpwire.Frame
	err error
}

// reader parses frames until an error, enforcing our idle timeout.
func (c *conn) reader(in chan<- frameOrErr) {
	for {
		f, err := c.readFrame(defaultMaxFrameSize, c.srv.opts.IdleTimeout)
		select {
		case in <- frameOrErr{f: f, err: err}:
		case <-c.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// writer writes frames in order and sends an empty frame whenever the
// connection has been quiet for the heartbeat interval.
func (c *conn) writer() {
	defer close(c.wdone)
	interval := maxHeartbeat
	if c.peerIdle > 0 {
		interval = min(interval, c.peerIdle/2)
	}
	if hb := c.srv.opts.HeartbeatInterval; hb > 0 {
		interval = min(interval, hb)
	}
	empty, _ := amqpwire.AppendFrame(nil, amqpwire.FrameAMQP, 0, nil, nil)
	t := time.NewTimer(interval)
	defer t.Stop()
	write := func(b []byte) bool {
		select {
		case <-c.done: // shutting down: keep the short flush deadline
		default:
			c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.IdleTimeout))
		}
		if _, err := c.nc.Write(b); err != nil {
			c.log.Debug("amqp write failed", "err", err)
			return false
		}
		return true
	}
	for {
		select {
		case b, ok := <-c.out:
			if !ok {
				return
			}
			if !write(b) {
				c.drainOut()
				return
			}
		case <-t.C:
			if !write(empty) {
				c.drainOut()
				return
			}
		case <-c.done:
			// Flush what the loop queued before it stopped (close frame),
			// without waiting long for a peer that stopped reading.
			c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			for {
				select {
				case b := <-c.out:
					if !write(b) {
						return
					}
				default:
					return
				}
			}
		}
		t.Reset(interval)
	}
}

// drainOut discards queued frames after a write error until the loop ends,
// so the loop never blocks on a dead writer.
func (c *conn) drainOut() {
	c.nc.Close()
	for {
		select {
		case <-c.out:
		case <-c.done:
			return
		}
	}
}

// send encodes a frame and queues it for the writer.
func (c *conn) send(ch uint16, body amqpwire.Composite, payload []byte) {
	c.trace("send", ch, body, len(payload))
	b, err := amqpwire.AppendFrame(nil, amqpwire.FrameAMQP, ch, body, payload)
	if err != nil {
		// Only our own values are encoded here; this is a bug.
		c.log.Error("encode outgoing frame", "err", err, "type", fmt.Sprintf("%T", body))
		return
	}
	select {
	case c.out <- b:
	case <-c.wdone:
	}
}

// loop is the connection state machine.
func (c *conn) loop() {
	in := make(chan frameOrErr)
	go c.reader(in)
	go c.writer()
	authTick := time.NewTicker(c.srv.authCheckEvery)
	defer authTick.Stop()
	defer func() {
		// Hand unsent peek-lock messages back before the connection goes.
		for _, s := range c.sessions {
			c.endSession(s, nil)
		}
		close(c.done)
		<-c.wdone
		c.nc.Close()
	}()
	for {
		select {
		case fe := <-in:
			if fe.err != nil {
				c.readFailed(fe.err)
				return
			}
			if !c.handleFrame(fe.f) {
				return
			}
		case ev := <-c.events:
			ev()
		case <-authTick.C:
			c.checkTokens()
		case <-c.srv.ctx.Done():
			c.send(0, &amqpwire.Close{Error: amqpError(condConnectionForced, "the emulator is shutting down")}, nil)
			return
		}
		if c.closing {
			return
		}
	}
}

// readFailed handles reader errors: idle timeout, malformed frames, EOF.
func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		c.log.Info("closing idle amqp connection", "idleTimeout", c.srv.opts.IdleTimeout)
		c.send(0, &amqpwire.Close{Error: errIdleTimeout()}, nil)
	case errors.Is(err, amqpwire.ErrMalformed):
		c.send(0, &amqpwire.Close{Error: amqpError(condDecodeError, "%v", err)}, nil)
	case errors.Is(err, errFrameTooLarge):
		c.send(0, &amqpwire.Close{Error: amqpError(condFramingError, "%v", err)}, nil)
	default:
		c.log.Debug("amqp connection ended", "err", err)
	}
}

// closeWith sends close with an error and stops the loop.
func (c *conn) closeWith(e *amqpwire.Error) {
	c.send(0, &amqpwire.Close{Error: e}, nil)
	c.closing = true
}

// LevelTrace is the slog level at which every frame is logged.
const LevelTrace = slog.LevelDebug - 4

// trace logs a frame when LevelTrace is enabled.
func (c *conn) trace(dir string, ch uint16, body any, payload int) {
	if !c.log.Enabled(context.Background(), LevelTrace) {
		return
	}
	c.log.Log(context.Background(), LevelTrace, "amqp frame", "dir", dir, "channel", ch,
		"body", describe(body), "payload", payload)
}

// handleFrame dispatches one frame; false stops the loop.
func (c *conn) handleFrame(f amqpwire.Frame) bool {
	c.trace("recv", f.Channel, f.Body, len(f.Payload))
	if f.Type != amqpwire.FrameAMQP {
		c.closeWith(amqpError(condFramingError, "SASL frame after SASL completed"))
		return false
	}
	switch body := f.Body.(type) {
	case nil:
		return true // heartbeat
	case *amqpwire.Close:
		c.send(0, &amqpwire.Close{}, nil)
		return false
	case *amqpwire.Open:
		c.closeWith(amqpError(condNotAllowed, "connection already open"))
		return false
	case *amqpwire.Begin:
		c.handleBegin(f.Channel, body)
		return true
	}
	s, ok := c.sessions[f.Channel]
	if !ok {
		c.closeWith(amqpError(condFramingError, "frame %T on channel %d without a session", f.Body, f.Channel))
		return false
	}
	switch body := f.Body.(type) {
	case *amqpwire.End:
		c.endSession(s, nil)
		c.send(s.localCh, &amqpwire.End{}, nil)
	case *amqpwire.Attach:
		s.handleAttach(body)
	case *amqpwire.Flow:
		s.handleFlow(body)
	case *amqpwire.Transfer:
		s.handleTransfer(body, f.Payload)
	case *amqpwire.Disposition:
		s.handleDisposition(body)
	case *amqpwire.Detach:
		s.handleDetach(body)
	}
	return true
}

// post queues fn to run on the loop; it gives up when the connection ends.
func (c *conn) post(fn func()) {
	select {
	case c.events <- fn:
	case <-c.done:
	}
}
