package sbemu

import (
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
)

const (
	// sessionWindow is the incoming window we advertise, in transfer frames.
	sessionWindow = 5000
	// ourOutgoingWindow is the outgoing window we advertise.
	ourOutgoingWindow = 5000
	// maxHandle is the handle-max we advertise.
	maxHandle = 1<<32 - 2
)

// session is one AMQP session; owned by the connection loop.
type session struct {
	c        *conn
	localCh  uint16
	remoteCh uint16

	// Incoming flow control (frames from the peer).
	nextIncomingID uint32
	incomingWindow uint32

	// Outgoing flow control (frames to the peer).
	nextOutgoingID       uint32
	remoteIncomingWindow uint32
	nextDeliveryID       uint32

	links map[uint32]*link // by the peer's handle (we use the same number)
	// unsettled holds our outgoing deliveries awaiting the peer's
	// disposition, by delivery-id.
	unsettled map[uint32]*outDelivery
}

func (c *conn) handleBegin(ch uint16, b *amqpwire.Begin) {
	if _, ok := c.sessions[ch]; ok {
		c.closeWith(amqpError(condFramingError, "channel %d already has a session", ch))
		return
	}
	if b.RemoteChannel != nil {
		c.closeWith(amqpError(condNotAllowed, "begin with remote-channel: the emulator does not initiate sessions"))
		return
	}
	if ch > ourChannelMax {
		c.closeWith(amqpError(condFramingError, "channel %d exceeds channel-max %d", ch, ourChannelMax))
		return
	}
	local := uint16(0)
	for c.localChans[local] {
		local++ // bounded: at most ourChannelMax+1 sessions exist
	}
	c.localChans[local] = true
	s := &session{c: c, localCh: local, remoteCh: ch, nextIncomingID: b.NextOutgoingID, incomingWindow: sessionWindow,
		nextOutgoingID: 1, remoteIncomingWindow: b.IncomingWindow, links: map[uint32]*link{},
		unsettled: map[uint32]*outDelivery{}}
	c.sessions[ch] = s
	rc := ch
	c.send(local, &amqpwire.Begin{RemoteChannel: &rc, NextOutgoingID: s.nextOutgoingID, IncomingWindow: sessionWindow,
		OutgoingWindow: ourOutgoingWindow, HandleMax: min(b.HandleMax, maxHandle)}, nil)
}

// endSession tears down a session's links; the caller sends end.
func (c *conn) endSession(s *session, _ *amqpwire.Error) {
	for _, l := range s.links {
		l.teardown()
	}
	delete(c.sessions, s.remoteCh)
	delete(c.localChans, s.localCh)
}

// sessionFlow returns a flow frame carrying only session state.
func (s *session) sessionFlow() *amqpwire.Flow {
	nid := s.nextIncomingID
	return &amqpwire.Flow{NextIncomingID: &nid, IncomingWindow: s.incomingWindow, NextOutgoingID: s.nextOutgoingID,
		OutgoingWindow: ourOutgoingWindow}
}

func (s *session) handleFlow(f *amqpwire.Flow) {
	// Peer's incoming window as seen from our next-outgoing-id (2.5.6).
	nextIn := uint32(1) // our initial next-outgoing-id, when the peer has not seen any transfer
	if f.NextIncomingID != nil {
		nextIn = *f.NextIncomingID
	}
	// Window = peer's window minus the transfers it has not seen yet
	// (serial-number arithmetic); never negative.
	inFlight := s.nextOutgoingID - nextIn
	switch {
	case inFlight > 1<<31: // the peer claims to be ahead of us; trust its window
		s.remoteIncomingWindow = f.IncomingWindow
	case inFlight >= f.IncomingWindow:
		s.remoteIncomingWindow = 0
	default:
		s.remoteIncomingWindow = f.IncomingWindow - inFlight
	}
	if f.Handle == nil {
		if f.Echo {
			s.c.send(s.localCh, s.sessionFlow(), nil)
		}
		s.pumpAll()
		return
	}
	l, ok := s.links[*f.Handle]
	if !ok {
		s.fail(amqpError(condUnattachedHandle, "flow for unattached handle %d", *f.Handle))
		return
	}
	l.handleFlow(f)
	s.pumpAll()
}

// pumpAll lets every sending link use newly opened session window.
func (s *session) pumpAll() {
	for _, l := range s.links {
		if l.role == amqpwire.RoleSender {
			l.pump()
		}
	}
}

// fail ends the session with an error.
func (s *session) fail(e *amqpwire.Error) {
	s.c.log.Info("ending amqp session with error", "err", e)
	s.c.endSession(s, e)
	s.c.send(s.localCh, &amqpwire.End{Error: e}, nil)
}

func (s *session) handleTransfer(t *amqpwire.Transfer, payload []byte) {
	s.nextIncomingID++
	s.incomingWindow--
	if s.incomingWindow < sessionWindow/2 {
		s.incomingWindow = sessionWindow
		s.c.send(s.localCh, s.sessionFlow(), nil)
	}
	l, ok := s.links[t.Handle]
	if !ok {
		s.fail(amqpError(condUnattachedHandle, "transfer for unattached handle %d", t.Handle))
		return
	}
	if l.role != amqpwire.RoleReceiver {
		s.fail(amqpError(condNotAllowed, "transfer on handle %d, which is a receiving link of the client", t.Handle))
		return
	}
	l.handleTransfer(t, payload)
}

func (s *session) handleDisposition(d *amqpwire.Disposition) {
	if d.Role == amqpwire.RoleSender {
		// The client settles deliveries it sent us (rcv-settle-mode second);
		// we already acted on them.
		return
	}
	last := d.First
	if d.Last != nil {
		last = *d.Last
	}
	if last < d.First {
		return
	}
	var ids []uint32
	if uint64(last-d.First) < uint64(len(s.unsettled)) {
		for id := d.First; ; id++ {
			if _, ok := s.unsettled[id]; ok {
				ids = append(ids, id)
			}
			if id == last {
				break
			}
		}
	} else {
		for id := range s.unsettled {
			if id >= d.First && id <= last {
				ids = append(ids, id)
			}
		}
	}
	for _, id := range ids {
		od := s.unsettled[id]
		delete(s.unsettled, id)
		state := od.link.settle(od, d.State)
		if !d.Settled {
			s.c.send(s.localCh, &amqpwire.Disposition{Role: amqpwire.RoleSender, First: id, Settled: true, State: state}, nil)
		}
	}
}

func (s *session) handleAttach(a *amqpwire.Attach) {
	if _, ok := s.links[a.Handle]; ok {
		s.fail(amqpError(condHandleInUse, "handle %d is already attached", a.Handle))
		return
	}
	s.attach(a)
}

func (s *session) handleDetach(d *amqpwire.Detach) {
	l, ok := s.links[d.Handle]
	if !ok {
		s.fail(amqpError(condUnattachedHandle, "detach for unattached handle %d", d.Handle))
		return
	}
	refused := l.refused
	l.teardown()
	if !refused {
		// A refused link already got our detach; this is the client's answer.
		s.c.send(s.localCh, &amqpwire.Detach{Handle: d.Handle, Closed: d.Closed}, nil)
	}
}
