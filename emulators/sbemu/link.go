package sbemu

import (
	"encoding/binary"
	"errors"
	"strings"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
)

// linkKind says what a link is attached to.
type linkKind int

const (
	kindEntity linkKind = iota // a queue, topic, subscription or dead-letter queue
	kindCBS                    // $cbs request/response
	kindMgmt                   // <entity>/$management request/response
)

const (
	// linkCredit is the credit we grant on links where the client sends.
	linkCredit = 500
	// maxAcquire bounds one broker.Acquire call.
	maxAcquire = 100
	// batchFormat is the Service Bus batched message format (reference §3).
	batchFormat uint32 = 0x80013700
	// maxRPCMessageSize bounds $cbs and $management requests.
	maxRPCMessageSize = 4 << 20
)

// link is one attached link; owned by the connection loop. role is OUR
// role: RoleReceiver when the client sends on it.
type link struct {
	s       *session
	name    string
	handle  uint32
	role    bool
	kind    linkKind
	addr    string // the node address as attached ("$cbs", "q/$management", "q")
	path    string // entity path (without /$management for kindMgmt)
	mode    broker.ReceiveMode
	refused bool // we sent detach with an error; waiting for the client's
	gone    bool // torn down

	// Our receiving side.
	deliveryCount uint32
	credit        uint32
	inFirst       *amqpwire.Transfer // first frame of the delivery being reassembled
	inBuf         []byte
	inOversize    bool

	// Our sending side (deliveryCount and credit above are reused).
	queue     []*pending
	drain     bool
	settled   bool   // snd-settle-mode settled: deliveries are pre-settled
	replyAddr string // for $cbs/$management reply links
	waiting   bool
	stop      chan struct{} // closed on teardown; stops the waiter
	tagSeq    uint64
}

// pending is an encoded message waiting for credit.
type pending struct {
	payload []byte
	tag     []byte
	format  uint32
	od      *outDelivery // nil for pre-settled deliveries
	// held is the broker lock of an entity message not yet sent. Receive-
	// and-delete messages are also acquired under a lock and completed
	// only as they are sent, so a link that ends first loses nothing.
	held *[16]byte
}

// outDelivery is an unsettled delivery we sent in peek-lock mode.
type outDelivery struct {
	link      *link
	lockToken [16]byte
}

// attach handles the client's attach.
func (s *session) attach(a *amqpwire.Attach) {
	c := s.c
	l := &link{s: s, name: a.Name, handle: a.Handle, role: !a.Role}
	s.links[a.Handle] = l
	var addr string
	if a.Role == amqpwire.RoleSender {
		if a.Target != nil {
			addr = a.Target.Address
		}
	} else if a.Source != nil {
		addr = a.Source.Address
	}
	addr = nodeAddress(addr)
	l.addr = addr
	lower := strings.ToLower(addr)
	switch {
	case addr == "$cbs":
		l.kind = kindCBS
	case lower == "$management" || strings.HasSuffix(lower, "/$management"):
		l.kind = kindMgmt
		l.path = strings.TrimSuffix(addr[:len(addr)-len("$management")], "/")
	default:
		l.kind = kindEntity
		l.path = addr
	}
	if l.kind != kindCBS && !c.auth.allowed(addr, c.srv.now()) {
		l.refuse(a, errUnauthorized(addr))
		return
	}
	if l.kind == kindEntity {
		if addr == "" {
			l.refuse(a, amqpError(condInvalidField, "link has no entity address"))
			return
		}
		if err := c.srv.checkLinkTarget(addr, l.role == amqpwire.RoleReceiver); err != nil {
			l.refuse(a, l.linkError(err))
			return
		}
	}
	reply := &amqpwire.Attach{Name: a.Name, Handle: a.Handle, Role: l.role, SndSettleMode: a.SndSettleMode,
		RcvSettleMode: a.RcvSettleMode, Source: a.Source, Target: a.Target}
	if reply.Source == nil {
		reply.Source = &amqpwire.Source{}
	}
	if reply.Target == nil {
		reply.Target = &amqpwire.Target{}
	}
	if l.role == amqpwire.RoleReceiver {
		reply.MaxMessageSize = uint64(c.srv.opts.MaxMessageSize)
		if l.kind != kindEntity {
			reply.MaxMessageSize = maxRPCMessageSize
		}
		if a.InitialDeliveryCount != nil {
			l.deliveryCount = *a.InitialDeliveryCount
		}
		// We settle every delivery we receive at once (first): a request
		// for second (uamqp's default) is answered with our actual mode,
		// as the attach exchange allows.
		if a.RcvSettleMode != nil && *a.RcvSettleMode == amqpwire.RcvSecond {
			reply.RcvSettleMode = amqpwire.Ptr(amqpwire.RcvFirst)
		}
	} else {
		reply.InitialDeliveryCount = amqpwire.Ptr[uint32](0)
		l.settled = a.SndSettleMode != nil && *a.SndSettleMode == amqpwire.SndSettled
		l.mode = broker.PeekLock
		if l.settled {
			l.mode = broker.ReceiveAndDelete
		}
		l.stop = make(chan struct{})
		if l.kind != kindEntity {
			// Responses go to the link whose target address is the
			// request's reply-to (Go, .NET); rhea-based clients leave the
			// target empty and use the link name as reply-to.
			l.replyAddr = a.Name
			if a.Target != nil && a.Target.Address != "" {
				l.replyAddr = a.Target.Address
			}
			c.replyLinks[l.replyAddr] = l
		}
	}
	c.send(s.localCh, reply, nil)
	if l.role == amqpwire.RoleReceiver {
		l.credit = linkCredit
		c.send(s.localCh, l.flow(), nil)
	}
}

// nodeAddress reduces an absolute address such as
// amqps://ns.servicebus.windows.net/q1 (uamqp sends those) to the node
// path "q1"; relative addresses are returned unchanged.
func nodeAddress(addr string) string {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok || strings.ContainsAny(scheme, "/$") {
		return addr
	}
	_, path, _ := strings.Cut(rest, "/")
	return path
}

// refuse answers an attach with null terminus and a closing detach
// carrying err (reference §7 "Entity not found on attach").
func (l *link) refuse(a *amqpwire.Attach, err *amqpwire.Error) {
	l.refused = true
	l.s.c.log.Info("refusing amqp link", "link", a.Name, "condition", err.Condition)
	reply := &amqpwire.Attach{Name: a.Name, Handle: a.Handle, Role: l.role, SndSettleMode: a.SndSettleMode,
		RcvSettleMode: a.RcvSettleMode}
	if l.role == amqpwire.RoleSender {
		reply.InitialDeliveryCount = amqpwire.Ptr[uint32](0)
	}
	l.s.c.send(l.s.localCh, reply, nil)
	l.s.c.send(l.s.localCh, &amqpwire.Detach{Handle: a.Handle, Closed: true, Error: err}, nil)
}

// detachWith detaches a live link with an error.
func (l *link) detachWith(err *amqpwire.Error) {
	if l.refused || l.gone {
		return
	}
	l.refused = true
	l.release()
	l.s.c.send(l.s.localCh, &amqpwire.Detach{Handle: l.handle, Closed: true, Error: err}, nil)
}

// teardown forgets the link and stops its waiter.
func (l *link) teardown() {
	if l.gone {
		return
	}
	l.gone = true
	l.release()
	if l.stop != nil {
		close(l.stop)
	}
	delete(l.s.links, l.handle)
	if l.replyAddr != "" && l.s.c.replyLinks[l.replyAddr] == l {
		delete(l.s.c.replyLinks, l.replyAddr)
	}
	for id, od := range l.s.unsettled {
		if od.link == l {
			delete(l.s.unsettled, id)
		}
	}
}

// release hands acquired but unsent peek-lock messages back to the broker.
func (l *link) release() {
	for _, p := range l.queue {
		if p.held != nil {
			if err := l.s.c.srv.releaseLock(l.path, *p.held); err != nil {
				l.s.c.log.Debug("release unsent message", "err", err)
			}
		}
	}
	l.queue = nil
}

// flow returns this link's flow state together with the session's.
func (l *link) flow() *amqpwire.Flow {
	f := l.s.sessionFlow()
	f.Handle = amqpwire.Ptr(l.handle)
	f.DeliveryCount = amqpwire.Ptr(l.deliveryCount)
	f.LinkCredit = amqpwire.Ptr(l.credit)
	f.Drain = l.drain
	return f
}

func (l *link) handleFlow(f *amqpwire.Flow) {
	if l.role == amqpwire.RoleSender && !l.refused {
		// link-credit(snd) = delivery-count(rcv) + link-credit(rcv) - delivery-count(snd) (2.6.7)
		dc := l.deliveryCount
		if f.DeliveryCount != nil {
			dc = *f.DeliveryCount
		}
		if f.LinkCredit != nil {
			l.credit = dc + *f.LinkCredit - l.deliveryCount
			if int32(l.credit) < 0 {
				l.credit = 0
			}
		}
		l.drain = f.Drain
	}
	if f.Echo {
		l.s.c.send(l.s.localCh, l.flow(), nil)
	}
}

// handleTransfer reassembles a delivery from the client and acts on it.
func (l *link) handleTransfer(t *amqpwire.Transfer, payload []byte) {
	if l.refused {
		return
	}
	if l.inFirst == nil {
		if t.DeliveryID == nil {
			l.detachWith(amqpError(condInvalidField, "first transfer of a delivery has no delivery-id"))
			return
		}
		l.inFirst = t
		l.inBuf = l.inBuf[:0]
		l.inOversize = false
		l.deliveryCount++
		if l.credit > 0 {
			l.credit--
		}
	}
	if t.Aborted {
		l.inFirst, l.inBuf = nil, nil
		return
	}
	limit := l.s.c.srv.opts.MaxMessageSize
	if l.kind != kindEntity {
		limit = maxRPCMessageSize
	}
	if !l.inOversize {
		if len(l.inBuf)+len(payload) > limit {
			l.inOversize, l.inBuf = true, nil
		} else {
			l.inBuf = append(l.inBuf, payload...)
		}
	}
	if t.More {
		return
	}
	first := l.inFirst
	l.inFirst = nil
	var state amqpwire.DeliveryState
	var after func()
	if l.inOversize {
		state = &amqpwire.Rejected{Error: amqpError(condMessageSizeExceeded,
			"the message exceeds the maximum message size of %d bytes", limit)}
	} else {
		format := uint32(0)
		if first.MessageFormat != nil {
			format = *first.MessageFormat
		}
		state, after = l.deliver(format, l.inBuf)
	}
	l.inBuf = nil
	if first.Settled == nil || !*first.Settled {
		l.s.c.send(l.s.localCh, &amqpwire.Disposition{Role: amqpwire.RoleReceiver, First: *first.DeliveryID,
			Settled: true, State: state}, nil)
	}
	if after != nil {
		// RPC responses follow the request's settlement: uamqp's management
		// client drops a response that arrives before it.
		after()
	}
	if l.credit < linkCredit/2 && !l.refused {
		l.credit = linkCredit
		l.s.c.send(l.s.localCh, l.flow(), nil)
	}
}

// deliver acts on a complete message from the client and returns the
// outcome to report and, for RPC requests, the response to send after it.
func (l *link) deliver(format uint32, payload []byte) (amqpwire.DeliveryState, func()) {
	c := l.s.c
	switch l.kind {
	case kindCBS, kindMgmt:
		req, err := amqpwire.DecodeMessage(payload)
		if err != nil {
			return &amqpwire.Rejected{Error: amqpError(condDecodeError, "decode request: %v", err)}, nil
		}
		var resp *amqpwire.Message
		if l.kind == kindCBS {
			resp = c.handleCBS(req)
		} else {
			resp = c.handleMgmt(l.path, req)
		}
		return &amqpwire.Accepted{}, func() { c.reply(l, req, resp) }
	}
	msgs, err := decodeIncoming(format, payload)
	if err != nil {
		return &amqpwire.Rejected{Error: amqpError(condDecodeError, "%v", err)}, nil
	}
	if _, err := c.srv.broker.Send(l.path, msgs); err != nil {
		return &amqpwire.Rejected{Error: l.linkError(err)}, nil
	}
	return &amqpwire.Accepted{}, nil
}

// reply routes a $cbs/$management response to the link whose target (or
// name) is the request's reply-to. Requests without reply-to (uamqp's C
// management client) are answered on the session's receiving link attached
// to the same node.
func (c *conn) reply(from *link, req, resp *amqpwire.Message) {
	var rl *link
	if req.Properties != nil && req.Properties.ReplyTo != "" {
		rl = c.replyLinks[req.Properties.ReplyTo]
	} else {
		for _, l := range from.s.links {
			if l.role == amqpwire.RoleSender && l.kind == from.kind && strings.EqualFold(l.addr, from.addr) && !l.refused {
				rl = l
				break
			}
		}
	}
	if rl == nil {
		c.log.Debug("dropping rpc response: no link attached for its reply-to")
		return
	}
	if req.Properties != nil {
		resp.Properties.CorrelationID = req.Properties.MessageID
	}
	payload, err := amqpwire.AppendMessage(nil, resp)
	if err != nil {
		c.log.Error("encode rpc response", "err", err)
		return
	}
	rl.queue = append(rl.queue, &pending{payload: payload, tag: rl.nextTag()})
	rl.pump()
}

func (l *link) nextTag() []byte {
	l.tagSeq++
	return binary.BigEndian.AppendUint64(nil, l.tagSeq)
}

// pump sends queued deliveries, and for entity links acquires messages
// from the broker, while credit and session window allow.
func (l *link) pump() {
	if l.gone || l.refused || l.role != amqpwire.RoleSender {
		return
	}
	for l.credit > 0 {
		if len(l.queue) == 0 {
			if l.kind != kindEntity || !l.fill() {
				break
			}
			continue
		}
		p := l.queue[0]
		frames, ok := l.framesFor(p)
		if !ok || uint64(frames) > uint64(l.s.remoteIncomingWindow) {
			break // wait for the peer's session window
		}
		l.queue = l.queue[1:]
		if p.held != nil && l.mode == broker.ReceiveAndDelete {
			if err := l.s.c.srv.broker.Complete(l.path, *p.held); err != nil {
				// The lock expired while the window was closed; the
				// broker hands the message out again.
				l.s.c.log.Debug("drop unsent receive-and-delete message", "err", err)
				continue
			}
		}
		l.writeDelivery(p, frames)
	}
	if l.drain && l.credit > 0 && len(l.queue) == 0 {
		l.deliveryCount += l.credit
		l.credit = 0
		l.s.c.send(l.s.localCh, l.flow(), nil)
		l.drain = false
	}
}

// fill acquires messages for the free credit; when none are available it
// parks a waiter that pumps again when the broker signals.
func (l *link) fill() bool {
	srv := l.s.c.srv
	n := min(int(l.credit), maxAcquire, int(l.s.remoteIncomingWindow))
	if n <= 0 {
		return false
	}
	wake := srv.broker.Wait(l.path)
	msgs, err := srv.broker.Acquire(l.path, broker.PeekLock, n)
	if err != nil {
		l.detachWith(l.linkError(err))
		return false
	}
	for _, m := range msgs {
		payload, err := encodeDelivery(m, l.mode == broker.PeekLock, false)
		if err != nil {
			l.s.c.log.Error("encode delivery", "err", err, "seq", m.SequenceNumber)
			continue
		}
		p := &pending{payload: payload, format: 0, held: &m.LockToken}
		if l.mode == broker.PeekLock {
			p.tag = dotNetGUIDBytes(m.LockToken)
			p.od = &outDelivery{link: l, lockToken: m.LockToken}
		} else {
			p.tag = l.nextTag()
		}
		l.queue = append(l.queue, p)
	}
	if len(msgs) == 0 {
		l.park(wake)
		return false
	}
	return true
}

// park starts one waiter goroutine per link.
func (l *link) park(wake <-chan struct{}) {
	if l.waiting {
		return
	}
	l.waiting = true
	c, stop := l.s.c, l.stop
	go func() {
		select {
		case <-wake:
			c.post(func() {
				l.waiting = false
				l.pump()
			})
		case <-stop:
		case <-c.done:
		}
	}()
}

// transfers returns the first and continuation transfer performatives
// of a delivery and the payload bytes each can carry at the peer's
// max-frame-size.
func (l *link) transfers(p *pending) (first, cont *amqpwire.Transfer, firstCap, contCap int, err error) {
	s := l.s
	id := s.nextDeliveryID
	settled := p.od == nil
	first = &amqpwire.Transfer{Handle: l.handle, DeliveryID: &id, DeliveryTag: p.tag, MessageFormat: &p.format,
		Settled: &settled, More: true}
	cont = &amqpwire.Transfer{Handle: l.handle, More: true}
	firstSize, err := amqpwire.EncodedSize(first)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	contSize, err := amqpwire.EncodedSize(cont)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	maxFrame := int(s.c.peerMaxFrame)
	return first, cont, maxFrame - amqpwire.FrameHeaderSize - firstSize, maxFrame - amqpwire.FrameHeaderSize - contSize, nil
}

// framesFor returns how many transfer frames a delivery needs.
func (l *link) framesFor(p *pending) (int, bool) {
	_, _, firstCap, contCap, err := l.transfers(p)
	if err != nil || firstCap <= 0 || contCap <= 0 {
		return 0, false
	}
	frames := 1
	if rest := len(p.payload) - firstCap; rest > 0 {
		frames += (rest + contCap - 1) / contCap
	}
	return frames, true
}

// writeDelivery writes one delivery as frames transfer frames.
func (l *link) writeDelivery(p *pending, frames int) {
	s := l.s
	first, cont, firstCap, contCap, _ := l.transfers(p)
	id := *first.DeliveryID
	rest := p.payload
	for i := 0; i < frames; i++ {
		t, capacity := cont, contCap
		if i == 0 {
			t, capacity = first, firstCap
		}
		chunk := rest[:min(capacity, len(rest))]
		rest = rest[len(chunk):]
		t.More = len(rest) > 0
		s.c.send(s.localCh, t, chunk)
		s.nextOutgoingID++
		s.remoteIncomingWindow--
	}
	s.nextDeliveryID++
	l.deliveryCount++
	l.credit--
	if p.od != nil {
		s.unsettled[id] = p.od
	}
}

// settle applies the client's outcome for a peek-lock delivery and returns
// the state we answer with (reference §4 "Settlement over the receive link").
func (l *link) settle(od *outDelivery, state amqpwire.DeliveryState) amqpwire.DeliveryState {
	if l.kind != kindEntity {
		return &amqpwire.Accepted{}
	}
	b := l.s.c.srv.broker
	var err error
	switch st := state.(type) {
	case *amqpwire.Accepted:
		err = b.Complete(l.path, od.lockToken)
	case *amqpwire.Released, nil:
		err = l.s.c.srv.releaseLock(l.path, od.lockToken)
	case *amqpwire.Modified:
		props := propsFromMap(st.MessageAnnotations)
		if st.UndeliverableHere {
			err = b.Defer(l.path, od.lockToken, props)
		} else {
			err = b.Abandon(l.path, od.lockToken, props)
		}
	case *amqpwire.Rejected:
		reason, desc, props := deadLetterInfo(st.Error)
		err = b.DeadLetter(l.path, od.lockToken, reason, desc, props)
	default:
		return &amqpwire.Rejected{Error: amqpError(condNotImplemented, "unsupported outcome %T", state)}
	}
	if err != nil {
		if !errors.Is(err, broker.ErrLockLost) {
			l.s.c.log.Info("settlement failed", "entity", l.path, "err", err)
		}
		return &amqpwire.Rejected{Error: l.linkError(err)}
	}
	return &amqpwire.Accepted{}
}

// dotNetGUIDBytes returns the .NET Guid.ToByteArray order of an RFC 4122
// UUID: the delivery-tag encoding of a lock token (reference §4).
func dotNetGUIDBytes(u [16]byte) []byte {
	return []byte{u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6],
		u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]}
}
