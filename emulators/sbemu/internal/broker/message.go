package broker

import (
	"maps"
	"time"
)

// MessageState is the Service Bus message state, as carried in the
// x-opt-message-state annotation (0 active, 1 deferred, 2 scheduled).
type MessageState int

// Message states.
const (
	StateActive    MessageState = 0
	StateDeferred  MessageState = 1
	StateScheduled MessageState = 2
)

// String returns the state's name.
func (s MessageState) String() string {
	switch s {
	case StateActive:
		return "active"
	case StateDeferred:
		return "deferred"
	case StateScheduled:
		return "scheduled"
	}
	return "unknown"
}

// ReceiveMode selects how Acquire and ReceiveDeferred hand out messages.
type ReceiveMode int

// Receive modes.
const (
	// PeekLock locks each message for the entity's LockDuration; the caller
	// settles it with Complete, Abandon, DeadLetter or Defer.
	PeekLock ReceiveMode = iota
	// ReceiveAndDelete removes each message as it is handed out.
	ReceiveAndDelete
)

// Message is one Service Bus message as the broker sees it.
//
// The first group of fields is extracted by the AMQP layer from the encoded
// message before Send or Schedule; the broker uses them for duplicate
// detection, filters, time-to-live, scheduling and the size limit. Raw is
// opaque to the broker: it is stored (and persisted) as is and must not be
// modified after it has been handed to the broker.
//
// The second group is assigned by the broker and is set on the messages that
// Acquire, Peek and ReceiveDeferred return. Those are copies: callers may
// modify them freely (except Raw's backing array).
type Message struct {
	MessageID        string
	SessionID        string
	CorrelationID    string
	Subject          string // AMQP properties.subject; "Label" in correlation filters
	To               string
	ReplyTo          string
	ReplyToSessionID string // AMQP properties.reply-to-group-id
	ContentType      string
	// TimeToLive requested by the sender; 0 means the entity's
	// DefaultMessageTimeToLive. On delivery it holds the effective TTL
	// (the smaller of the two), which belongs in header.ttl.
	TimeToLive time.Duration
	// ScheduledEnqueueTime in the future makes Send schedule the message.
	// Zero means now.
	ScheduledEnqueueTime time.Time
	// ApplicationProperties are used by correlation and SQL filters (and
	// kept for filters evaluated later: scheduled topic messages,
	// auto-forwarding). Values must be nil, string, bool, int, int8..int64,
	// uint, uint8..uint64, float32, float64, time.Time, []byte or [16]byte
	// (uuid); other types fail with ErrInvalidArgument.
	ApplicationProperties map[string]any
	// Size is the encoded size used for the size limit; when it is smaller
	// than len(Raw), len(Raw) is used.
	Size int
	// Raw is the encoded message, opaque to the broker.
	Raw []byte

	// SequenceNumber is unique and monotonic per queue or subscription
	// (dead-lettered messages keep theirs in the dead-letter queue).
	SequenceNumber int64
	// EnqueuedTime is when the message became available (for a scheduled
	// message, its scheduled time).
	EnqueuedTime time.Time
	// ExpiresAt is EnqueuedTime plus the effective TTL.
	ExpiresAt time.Time
	// DeliveryCount is the number of previous delivery attempts that ended
	// in abandon or lock expiry: 0 on the first delivery. It is exactly the
	// value for the AMQP header's delivery-count (the client reports it +1).
	DeliveryCount uint32
	// LockToken and LockedUntil are set on messages handed out in PeekLock
	// mode. LockToken is a random version-4 UUID in RFC 4122 byte order.
	LockToken   [16]byte
	LockedUntil time.Time
	State       MessageState
	// DeadLetterReason and DeadLetterDescription are set on messages in a
	// dead-letter queue (application properties DeadLetterReason and
	// DeadLetterErrorDescription on the wire).
	DeadLetterReason      string
	DeadLetterDescription string
	// DeadLetterSource is the entity a message was dead-lettered in, set
	// only when the message was then forwarded by
	// ForwardDeadLetteredMessagesTo (x-opt-deadletter-source).
	DeadLetterSource string
	// PropertiesModified are application properties to merge over the
	// encoded message's own on delivery: from abandon/defer/dead-letter
	// "properties to modify" and from rule actions.
	PropertiesModified map[string]any
	// SystemPropertiesModified are AMQP properties-section fields set by a
	// rule action (SET sys.To = '...'), keyed by the AMQP field name:
	// "message-id", "correlation-id", "to", "reply-to", "subject",
	// "content-type", "group-id", "reply-to-group-id". The AMQP layer
	// overrides those fields of Raw on delivery. The matching Message
	// fields above already hold the new values.
	SystemPropertiesModified map[string]string
}

// clone returns a deep copy of m except for Raw, which is shared.
func (m *Message) clone() *Message {
	c := *m
	c.ApplicationProperties = maps.Clone(m.ApplicationProperties)
	c.PropertiesModified = maps.Clone(m.PropertiesModified)
	c.SystemPropertiesModified = maps.Clone(m.SystemPropertiesModified)
	return &c
}

// size is the size counted against the message size limit.
func (m *Message) size() int {
	return max(m.Size, len(m.Raw))
}

// mergeProps merges props into m.PropertiesModified.
func (m *Message) mergeProps(props map[string]any) {
	if len(props) == 0 {
		return
	}
	if m.PropertiesModified == nil {
		m.PropertiesModified = make(map[string]any, len(props))
	}
	maps.Copy(m.PropertiesModified, props)
}
