package broker

import "errors"

// Errors returned by Broker methods, wrapped with the operation and entity
// path. Callers branch with errors.Is and map them to the service's wire
// errors (the AMQP layer owns that mapping).
var (
	// ErrEntityNotFound: no queue, topic or subscription has that path.
	ErrEntityNotFound = errors.New("messaging entity not found")
	// ErrLockLost: the lock token is unknown, already settled or expired.
	ErrLockLost = errors.New("message lock lost")
	// ErrMessageTooLarge: a message exceeds Options.MaxMessageSize.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrMessageNotFound: no deferred (ReceiveDeferred) or scheduled
	// (CancelScheduled) message has the sequence number.
	ErrMessageNotFound = errors.New("message not found")
	// ErrSessionsNotSupported: the entity has RequiresSession set; sessions
	// are not implemented by this emulator.
	ErrSessionsNotSupported = errors.New("sessions are not supported by this emulator")
	// ErrNotAllowed: the operation is not valid for this kind of entity, for
	// example sending to a subscription or dead-letter queue, receiving from a
	// topic, or dead-lettering a message that is already in a dead-letter
	// queue.
	ErrNotAllowed = errors.New("operation not allowed on this entity")
	// ErrInvalidArgument: a malformed request, for example an empty batch or
	// an application property of a type the broker cannot persist.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrClosed: the broker has been closed.
	ErrClosed = errors.New("broker closed")
)
