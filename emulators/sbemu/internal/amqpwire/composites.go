package amqpwire

// Descriptor codes (AMQP 1.0 parts 2, 3 and 5).
const (
	DescOpen        uint64 = 0x10
	DescBegin       uint64 = 0x11
	DescAttach      uint64 = 0x12
	DescFlow        uint64 = 0x13
	DescTransfer    uint64 = 0x14
	DescDisposition uint64 = 0x15
	DescDetach      uint64 = 0x16
	DescEnd         uint64 = 0x17
	DescClose       uint64 = 0x18
	DescError       uint64 = 0x1d
	DescReceived    uint64 = 0x23
	DescAccepted    uint64 = 0x24
	DescRejected    uint64 = 0x25
	DescReleased    uint64 = 0x26
	DescModified    uint64 = 0x27
	DescSource      uint64 = 0x28
	DescTarget      uint64 = 0x29

	DescSASLMechanisms uint64 = 0x40
	DescSASLInit       uint64 = 0x41
	DescSASLChallenge  uint64 = 0x42
	DescSASLResponse   uint64 = 0x43
	DescSASLOutcome    uint64 = 0x44

	DescHeader                uint64 = 0x70
	DescDeliveryAnnotations   uint64 = 0x71
	DescMessageAnnotations    uint64 = 0x72
	DescProperties            uint64 = 0x73
	DescApplicationProperties uint64 = 0x74
	DescData                  uint64 = 0x75
	DescAMQPSequence          uint64 = 0x76
	DescAMQPValue             uint64 = 0x77
	DescFooter                uint64 = 0x78
)

// symbolicDescriptors maps the symbolic descriptor names to codes.
var symbolicDescriptors = map[Symbol]uint64{
	"amqp:open:list": DescOpen, "amqp:begin:list": DescBegin, "amqp:attach:list": DescAttach,
	"amqp:flow:list": DescFlow, "amqp:transfer:list": DescTransfer, "amqp:disposition:list": DescDisposition,
	"amqp:detach:list": DescDetach, "amqp:end:list": DescEnd, "amqp:close:list": DescClose,
	"amqp:error:list": DescError, "amqp:received:list": DescReceived, "amqp:accepted:list": DescAccepted,
	"amqp:rejected:list": DescRejected, "amqp:released:list": DescReleased, "amqp:modified:list": DescModified,
	"amqp:source:list": DescSource, "amqp:target:list": DescTarget,
	"amqp:sasl-mechanisms:list": DescSASLMechanisms, "amqp:sasl-init:list": DescSASLInit,
	"amqp:sasl-challenge:list": DescSASLChallenge, "amqp:sasl-response:list": DescSASLResponse,
	"amqp:sasl-outcome:list": DescSASLOutcome,
	"amqp:header:list":       DescHeader, "amqp:delivery-annotations:map": DescDeliveryAnnotations,
	"amqp:message-annotations:map": DescMessageAnnotations, "amqp:properties:list": DescProperties,
	"amqp:application-properties:map": DescApplicationProperties, "amqp:data:binary": DescData,
	"amqp:amqp-sequence:list": DescAMQPSequence, "amqp:amqp-value:*": DescAMQPValue,
	"amqp:footer:map": DescFooter,
}

// descriptorCode normalises a descriptor to its numeric code (0 if unknown).
func descriptorCode(desc any) uint64 {
	switch d := desc.(type) {
	case uint64:
		return d
	case Symbol:
		return symbolicDescriptors[d]
	}
	return 0
}

// decodeComposite turns a described value into a known composite struct,
// or a Described for everything else (message sections included).
func decodeComposite(desc, v any) (any, error) {
	code := descriptorCode(desc)
	dec, ok := compositeDecoders[code]
	if !ok {
		return Described{Descriptor: desc, Value: v}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, malformed("composite 0x%x is a %T, not a list", code, v)
	}
	return dec(l)
}

var compositeDecoders map[uint64]func([]any) (any, error)

func init() {
	compositeDecoders = map[uint64]func([]any) (any, error){
		DescOpen:           func(l []any) (any, error) { return decodeOpen(l) },
		DescBegin:          func(l []any) (any, error) { return decodeBegin(l) },
		DescAttach:         func(l []any) (any, error) { return decodeAttach(l) },
		DescFlow:           func(l []any) (any, error) { return decodeFlow(l) },
		DescTransfer:       func(l []any) (any, error) { return decodeTransfer(l) },
		DescDisposition:    func(l []any) (any, error) { return decodeDisposition(l) },
		DescDetach:         func(l []any) (any, error) { return decodeDetach(l) },
		DescEnd:            func(l []any) (any, error) { return decodeEnd(l) },
		DescClose:          func(l []any) (any, error) { return decodeClose(l) },
		DescError:          func(l []any) (any, error) { return decodeError(l) },
		DescReceived:       func(l []any) (any, error) { return decodeReceived(l) },
		DescAccepted:       func(l []any) (any, error) { return &Accepted{}, nil },
		DescRejected:       func(l []any) (any, error) { return decodeRejected(l) },
		DescReleased:       func(l []any) (any, error) { return &Released{}, nil },
		DescModified:       func(l []any) (any, error) { return decodeModified(l) },
		DescSource:         func(l []any) (any, error) { return decodeSource(l) },
		DescTarget:         func(l []any) (any, error) { return decodeTarget(l) },
		DescSASLMechanisms: func(l []any) (any, error) { return decodeSASLMechanisms(l) },
		DescSASLInit:       func(l []any) (any, error) { return decodeSASLInit(l) },
		DescSASLChallenge:  func(l []any) (any, error) { return decodeSASLChallenge(l) },
		DescSASLResponse:   func(l []any) (any, error) { return decodeSASLResponse(l) },
		DescSASLOutcome:    func(l []any) (any, error) { return decodeSASLOutcome(l) },
	}
}

// Error is the AMQP error composite.
type Error struct {
	Condition   Symbol
	Description string
	Info        Map
}

func (e *Error) Error() string {
	if e.Description == "" {
		return string(e.Condition)
	}
	return string(e.Condition) + ": " + e.Description
}

func (*Error) Descriptor() uint64 { return DescError }
func (e *Error) fields() []any {
	return []any{e.Condition, optStr(e.Description), optMap(e.Info)}
}

func decodeError(l []any) (*Error, error) {
	r := fieldReader{name: "error", l: l}
	r.required(0)
	e := &Error{Condition: r.symbol(0), Description: r.string(1), Info: r.mapField(2)}
	return e, r.err
}

// DeliveryState is one of Accepted, Rejected, Released, Modified, Received.
type DeliveryState interface {
	Composite
	deliveryState()
}

// Accepted is the accepted outcome.
type Accepted struct{}

// Rejected is the rejected outcome.
type Rejected struct{ Error *Error }

// Released is the released outcome.
type Released struct{}

// Modified is the modified outcome.
type Modified struct {
	DeliveryFailed     bool
	UndeliverableHere  bool
	MessageAnnotations Map
}

// Received is the received delivery state.
type Received struct {
	SectionNumber uint32
	SectionOffset uint64
}

func (*Accepted) Descriptor() uint64 { return DescAccepted }
func (*Rejected) Descriptor() uint64 { return DescRejected }
func (*Released) Descriptor() uint64 { return DescReleased }
func (*Modified) Descriptor() uint64 { return DescModified }
func (*Received) Descriptor() uint64 { return DescReceived }
func (*Accepted) deliveryState()     {}
func (*Rejected) deliveryState()     {}
func (*Released) deliveryState()     {}
func (*Modified) deliveryState()     {}
func (*Received) deliveryState()     {}
func (*Accepted) fields() []any      { return nil }
func (*Released) fields() []any      { return nil }
func (s *Rejected) fields() []any    { return []any{optErr(s.Error)} }
func (s *Modified) fields() []any {
	return []any{optFalse(s.DeliveryFailed), optFalse(s.UndeliverableHere), optMap(s.MessageAnnotations)}
}
func (s *Received) fields() []any { return []any{s.SectionNumber, s.SectionOffset} }

func decodeRejected(l []any) (*Rejected, error) {
	r := fieldReader{name: "rejected", l: l}
	return &Rejected{Error: r.errorField(0)}, r.err
}

func decodeModified(l []any) (*Modified, error) {
	r := fieldReader{name: "modified", l: l}
	return &Modified{DeliveryFailed: r.bool(0, false), UndeliverableHere: r.bool(1, false), MessageAnnotations: r.mapField(2)}, r.err
}

func decodeReceived(l []any) (*Received, error) {
	r := fieldReader{name: "received", l: l}
	return &Received{SectionNumber: r.uint32(0, 0), SectionOffset: r.uint64(1, 0)}, r.err
}

// Source is the link source terminus.
type Source struct {
	Address               string
	Durable               uint32
	ExpiryPolicy          Symbol
	Timeout               uint32
	Dynamic               bool
	DynamicNodeProperties Map
	DistributionMode      Symbol
	Filter                Map
	DefaultOutcome        any
	Outcomes              []Symbol
	Capabilities          []Symbol
}

func (*Source) Descriptor() uint64 { return DescSource }
func (s *Source) fields() []any {
	return []any{optStr(s.Address), nonZeroU32(s.Durable), optSym(s.ExpiryPolicy), nonZeroU32(s.Timeout),
		optFalse(s.Dynamic), optMap(s.DynamicNodeProperties), optSym(s.DistributionMode), optMap(s.Filter),
		s.DefaultOutcome, optSyms(s.Outcomes), optSyms(s.Capabilities)}
}

func nonZeroU32(v uint32) any {
	if v == 0 {
		return nil
	}
	return v
}

func decodeSource(l []any) (*Source, error) {
	r := fieldReader{name: "source", l: l}
	s := &Source{Address: r.string(0), Durable: r.uint32(1, 0), ExpiryPolicy: r.symbol(2), Timeout: r.uint32(3, 0),
		Dynamic: r.bool(4, false), DynamicNodeProperties: r.mapField(5), DistributionMode: r.symbol(6),
		Filter: r.mapField(7), DefaultOutcome: r.get(8), Outcomes: r.symbols(9), Capabilities: r.symbols(10)}
	return s, r.err
}

// Target is the link target terminus.
type Target struct {
	Address               string
	Durable               uint32
	ExpiryPolicy          Symbol
	Timeout               uint32
	Dynamic               bool
	DynamicNodeProperties Map
	Capabilities          []Symbol
}

func (*Target) Descriptor() uint64 { return DescTarget }
func (t *Target) fields() []any {
	return []any{optStr(t.Address), nonZeroU32(t.Durable), optSym(t.ExpiryPolicy), nonZeroU32(t.Timeout),
		optFalse(t.Dynamic), optMap(t.DynamicNodeProperties), optSyms(t.Capabilities)}
}

func decodeTarget(l []any) (*Target, error) {
	r := fieldReader{name: "target", l: l}
	t := &Target{Address: r.string(0), Durable: r.uint32(1, 0), ExpiryPolicy: r.symbol(2), Timeout: r.uint32(3, 0),
		Dynamic: r.bool(4, false), DynamicNodeProperties: r.mapField(5), Capabilities: r.symbols(6)}
	return t, r.err
}
