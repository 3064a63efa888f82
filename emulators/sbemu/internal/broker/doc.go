// Package broker implements the Service Bus entities and messaging semantics
// behind the sbemu emulator: queues, topics with subscriptions and rules,
// dead-letter sub-queues, sequence numbers, peek-lock with lock tokens,
// receive-and-delete, complete/abandon/dead-letter/defer, lock expiry and
// redelivery, MaxDeliveryCount, time-to-live, scheduled messages, duplicate
// detection, deferral, peek, auto-forwarding, optional durable persistence in a
// bbolt file, and the official emulator's Config.json format.
//
// The package deliberately knows nothing about AMQP: messages arrive with the
// few fields the broker needs already extracted (Message), and the encoded
// message is carried as an opaque byte slice (Message.Raw) that the AMQP layer
// re-encodes on delivery together with the broker-assigned state (sequence
// number, lock token, delivery count, dead-letter reason, modified
// properties). Sessions (RequiresSession entities) are not implemented: such
// entities load, but every operation on them fails with
// ErrSessionsNotSupported.
//
// # Timing
//
// All timing uses the injected clock (Options.Now). State changes that depend
// on time (lock expiry, scheduled messages becoming active, time-to-live) are
// applied lazily at the start of every operation on an entity and by a
// background timer goroutine that calls Tick when the earliest deadline is
// due, so receivers blocked on Wait wake up. Tests that use a fake clock
// advance it and call Tick.
//
// # Concurrency
//
// A Broker is safe for concurrent use. One mutex (Broker.mu) guards all
// entity state and serialises writes to the store, so every operation is
// atomic with respect to every other and is durable (when a data directory is
// configured) before it returns. See broker.go for the details.
package broker
