package amqpwire

// Role values of attach and disposition.
const (
	RoleSender   = false
	RoleReceiver = true
)

// Sender settle modes.
const (
	SndUnsettled uint8 = 0
	SndSettled   uint8 = 1
	SndMixed     uint8 = 2
)

// Receiver settle modes.
const (
	RcvFirst  uint8 = 0
	RcvSecond uint8 = 1
)

// Open negotiates connection parameters.
type Open struct {
	ContainerID         string
	Hostname            string
	MaxFrameSize        uint32 // default 4294967295
	ChannelMax          uint16 // default 65535
	IdleTimeOut         uint32 // milliseconds, 0 = none
	OutgoingLocales     []Symbol
	IncomingLocales     []Symbol
	OfferedCapabilities []Symbol
	DesiredCapabilities []Symbol
	Properties          Map
}

func (*Open) Descriptor() uint64 { return DescOpen }
func (o *Open) fields() []any {
	return []any{o.ContainerID, optStr(o.Hostname), o.MaxFrameSize, o.ChannelMax, nonZeroU32(o.IdleTimeOut),
		optSyms(o.OutgoingLocales), optSyms(o.IncomingLocales), optSyms(o.OfferedCapabilities),
		optSyms(o.DesiredCapabilities), optMap(o.Properties)}
}

func decodeOpen(l []any) (*Open, error) {
	r := fieldReader{name: "open", l: l}
	r.required(0)
	o := &Open{ContainerID: r.string(0), Hostname: r.string(1), MaxFrameSize: r.uint32(2, 1<<32-1),
		ChannelMax: r.uint16(3, 65535), IdleTimeOut: r.uint32(4, 0), OutgoingLocales: r.symbols(5),
		IncomingLocales: r.symbols(6), OfferedCapabilities: r.symbols(7), DesiredCapabilities: r.symbols(8),
		Properties: r.mapField(9)}
	return o, r.err
}

// Begin starts a session.
type Begin struct {
	RemoteChannel       *uint16
	NextOutgoingID      uint32
	IncomingWindow      uint32
	OutgoingWindow      uint32
	HandleMax           uint32 // default 4294967295
	OfferedCapabilities []Symbol
	DesiredCapabilities []Symbol
	Properties          Map
}

func (*Begin) Descriptor() uint64 { return DescBegin }
func (b *Begin) fields() []any {
	var rc any
	if b.RemoteChannel != nil {
		rc = *b.RemoteChannel
	}
	return []any{rc, b.NextOutgoingID, b.IncomingWindow, b.OutgoingWindow, b.HandleMax,
		optSyms(b.OfferedCapabilities), optSyms(b.DesiredCapabilities), optMap(b.Properties)}
}

func decodeBegin(l []any) (*Begin, error) {
	r := fieldReader{name: "begin", l: l}
	r.required(1)
	r.required(2)
	r.required(3)
	b := &Begin{NextOutgoingID: r.uint32(1, 0), IncomingWindow: r.uint32(2, 0), OutgoingWindow: r.uint32(3, 0),
		HandleMax: r.uint32(4, 1<<32-1), OfferedCapabilities: r.symbols(5), DesiredCapabilities: r.symbols(6),
		Properties: r.mapField(7)}
	if r.get(0) != nil {
		v := r.uint16(0, 0)
		b.RemoteChannel = &v
	}
	return b, r.err
}

// Attach attaches a link to a session.
type Attach struct {
	Name                 string
	Handle               uint32
	Role                 bool // RoleSender or RoleReceiver
	SndSettleMode        *uint8
	RcvSettleMode        *uint8
	Source               *Source
	Target               *Target
	Unsettled            Map
	IncompleteUnsettled  bool
	InitialDeliveryCount *uint32
	MaxMessageSize       uint64 // 0 = no limit
	OfferedCapabilities  []Symbol
	DesiredCapabilities  []Symbol
	Properties           Map
}

func (*Attach) Descriptor() uint64 { return DescAttach }
func (a *Attach) fields() []any {
	var src, tgt, mms any
	if a.Source != nil {
		src = a.Source
	}
	if a.Target != nil {
		tgt = a.Target
	}
	if a.MaxMessageSize != 0 {
		mms = a.MaxMessageSize
	}
	return []any{a.Name, a.Handle, a.Role, optU8(a.SndSettleMode), optU8(a.RcvSettleMode), src, tgt,
		optMap(a.Unsettled), optFalse(a.IncompleteUnsettled), optU32(a.InitialDeliveryCount), mms,
		optSyms(a.OfferedCapabilities), optSyms(a.DesiredCapabilities), optMap(a.Properties)}
}

func decodeAttach(l []any) (*Attach, error) {
	r := fieldReader{name: "attach", l: l}
	r.required(0)
	r.required(1)
	r.required(2)
	a := &Attach{Name: r.string(0), Handle: r.uint32(1, 0), Role: r.bool(2, false), SndSettleMode: r.uint8p(3),
		RcvSettleMode: r.uint8p(4), Unsettled: r.mapField(7), IncompleteUnsettled: r.bool(8, false),
		InitialDeliveryCount: r.uint32p(9), MaxMessageSize: r.uint64(10, 0), OfferedCapabilities: r.symbols(11),
		DesiredCapabilities: r.symbols(12), Properties: r.mapField(13)}
	switch v := r.get(5).(type) {
	case nil:
	case *Source:
		a.Source = v
	default:
		r.fail(5, "source", v)
	}
	switch v := r.get(6).(type) {
	case nil:
	case *Target:
		a.Target = v
	default:
		r.fail(6, "target", v)
	}
	return a, r.err
}

// Flow updates session and link flow control state.
type Flow struct {
	NextIncomingID *uint32
	IncomingWindow uint32
	NextOutgoingID uint32
	OutgoingWindow uint32
	Handle         *uint32
	DeliveryCount  *uint32
	LinkCredit     *uint32
	Available      *uint32
	Drain          bool
	Echo           bool
	Properties     Map
}

func (*Flow) Descriptor() uint64 { return DescFlow }
func (f *Flow) fields() []any {
	return []any{optU32(f.NextIncomingID), f.IncomingWindow, f.NextOutgoingID, f.OutgoingWindow,
		optU32(f.Handle), optU32(f.DeliveryCount), optU32(f.LinkCredit), optU32(f.Available),
		optFalse(f.Drain), optFalse(f.Echo), optMap(f.Properties)}
}

func decodeFlow(l []any) (*Flow, error) {
	r := fieldReader{name: "flow", l: l}
	r.required(1)
	r.required(2)
	r.required(3)
	f := &Flow{NextIncomingID: r.uint32p(0), IncomingWindow: r.uint32(1, 0), NextOutgoingID: r.uint32(2, 0),
		OutgoingWindow: r.uint32(3, 0), Handle: r.uint32p(4), DeliveryCount: r.uint32p(5), LinkCredit: r.uint32p(6),
		Available: r.uint32p(7), Drain: r.bool(8, false), Echo: r.bool(9, false), Properties: r.mapField(10)}
	return f, r.err
}

// Transfer carries (part of) a message; the payload follows the
// performative in the frame.
type Transfer struct {
	Handle        uint32
	DeliveryID    *uint32
	DeliveryTag   []byte
	MessageFormat *uint32
	Settled       *bool
	More          bool
	RcvSettleMode *uint8
	State         DeliveryState
	Resume        bool
	Aborted       bool
	Batchable     bool
}

func (*Transfer) Descriptor() uint64 { return DescTransfer }
func (t *Transfer) fields() []any {
	return []any{t.Handle, optU32(t.DeliveryID), optBin(t.DeliveryTag), optU32(t.MessageFormat),
		optBool(t.Settled), optFalse(t.More), optU8(t.RcvSettleMode), optState(t.State),
		optFalse(t.Resume), optFalse(t.Aborted), optFalse(t.Batchable)}
}

func decodeTransfer(l []any) (*Transfer, error) {
	r := fieldReader{name: "transfer", l: l}
	r.required(0)
	t := &Transfer{Handle: r.uint32(0, 0), DeliveryID: r.uint32p(1), DeliveryTag: r.binary(2),
		MessageFormat: r.uint32p(3), Settled: r.boolp(4), More: r.bool(5, false), RcvSettleMode: r.uint8p(6),
		State: r.state(7), Resume: r.bool(8, false), Aborted: r.bool(9, false), Batchable: r.bool(10, false)}
	if len(t.DeliveryTag) > 32 && r.err == nil {
		r.err = malformed("transfer delivery-tag of %d bytes exceeds 32", len(t.DeliveryTag))
	}
	return t, r.err
}

// Disposition informs the peer of delivery state changes for a range of
// delivery ids.
type Disposition struct {
	Role      bool
	First     uint32
	Last      *uint32
	Settled   bool
	State     DeliveryState
	Batchable bool
}

func (*Disposition) Descriptor() uint64 { return DescDisposition }
func (d *Disposition) fields() []any {
	return []any{d.Role, d.First, optU32(d.Last), optFalse(d.Settled), optState(d.State), optFalse(d.Batchable)}
}

func decodeDisposition(l []any) (*Disposition, error) {
	r := fieldReader{name: "disposition", l: l}
	r.required(0)
	r.required(1)
	d := &Disposition{Role: r.bool(0, false), First: r.uint32(1, 0), Last: r.uint32p(2), Settled: r.bool(3, false),
		State: r.state(4), Batchable: r.bool(5, false)}
	return d, r.err
}

// Detach detaches a link.
type Detach struct {
	Handle uint32
	Closed bool
	Error  *Error
}

func (*Detach) Descriptor() uint64 { return DescDetach }
func (d *Detach) fields() []any    { return []any{d.Handle, optFalse(d.Closed), optErr(d.Error)} }

func decodeDetach(l []any) (*Detach, error) {
	r := fieldReader{name: "detach", l: l}
	r.required(0)
	return &Detach{Handle: r.uint32(0, 0), Closed: r.bool(1, false), Error: r.errorField(2)}, r.err
}

// End ends a session.
type End struct{ Error *Error }

func (*End) Descriptor() uint64 { return DescEnd }
func (e *End) fields() []any    { return []any{optErr(e.Error)} }

func decodeEnd(l []any) (*End, error) {
	r := fieldReader{name: "end", l: l}
	return &End{Error: r.errorField(0)}, r.err
}

// Close closes the connection.
type Close struct{ Error *Error }

func (*Close) Descriptor() uint64 { return DescClose }
func (c *Close) fields() []any    { return []any{optErr(c.Error)} }

func decodeClose(l []any) (*Close, error) {
	r := fieldReader{name: "close", l: l}
	return &Close{Error: r.errorField(0)}, r.err
}

// SASL outcome codes.
const (
	SASLOK      uint8 = 0
	SASLAuth    uint8 = 1
	SASLSys     uint8 = 2
	SASLSysPerm uint8 = 3
	SASLSysTemp uint8 = 4
)

// SASLMechanisms advertises the server's mechanisms.
type SASLMechanisms struct{ Mechanisms []Symbol }

// SASLInit selects a mechanism.
type SASLInit struct {
	Mechanism       Symbol
	InitialResponse []byte
	Hostname        string
}

// SASLChallenge carries a challenge.
type SASLChallenge struct{ Challenge []byte }

// SASLResponse carries a response.
type SASLResponse struct{ Response []byte }

// SASLOutcome ends the SASL exchange.
type SASLOutcome struct {
	Code           uint8
	AdditionalData []byte
}

func (*SASLMechanisms) Descriptor() uint64 { return DescSASLMechanisms }
func (*SASLInit) Descriptor() uint64       { return DescSASLInit }
func (*SASLChallenge) Descriptor() uint64  { return DescSASLChallenge }
func (*SASLResponse) Descriptor() uint64   { return DescSASLResponse }
func (*SASLOutcome) Descriptor() uint64    { return DescSASLOutcome }

func (s *SASLMechanisms) fields() []any {
	// sasl-server-mechanisms is multiple="true" and mandatory: always an array.
	return []any{s.Mechanisms}
}
func (s *SASLInit) fields() []any {
	return []any{s.Mechanism, optBin(s.InitialResponse), optStr(s.Hostname)}
}
func (s *SASLChallenge) fields() []any { return []any{s.Challenge} }
func (s *SASLResponse) fields() []any  { return []any{s.Response} }
func (s *SASLOutcome) fields() []any   { return []any{s.Code, optBin(s.AdditionalData)} }

func decodeSASLMechanisms(l []any) (*SASLMechanisms, error) {
	r := fieldReader{name: "sasl-mechanisms", l: l}
	r.required(0)
	return &SASLMechanisms{Mechanisms: r.symbols(0)}, r.err
}

func decodeSASLInit(l []any) (*SASLInit, error) {
	r := fieldReader{name: "sasl-init", l: l}
	r.required(0)
	return &SASLInit{Mechanism: r.symbol(0), InitialResponse: r.binary(1), Hostname: r.string(2)}, r.err
}

func decodeSASLChallenge(l []any) (*SASLChallenge, error) {
	r := fieldReader{name: "sasl-challenge", l: l}
	r.required(0)
	return &SASLChallenge{Challenge: r.binary(0)}, r.err
}

func decodeSASLResponse(l []any) (*SASLResponse, error) {
	r := fieldReader{name: "sasl-response", l: l}
	r.required(0)
	return &SASLResponse{Response: r.binary(0)}, r.err
}

func decodeSASLOutcome(l []any) (*SASLOutcome, error) {
	r := fieldReader{name: "sasl-outcome", l: l}
	r.required(0)
	c := r.uint8p(0)
	o := &SASLOutcome{AdditionalData: r.binary(1)}
	if c != nil {
		o.Code = *c
	}
	return o, r.err
}
