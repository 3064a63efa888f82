// Package sbemu is a local Azure Service Bus emulator speaking AMQP 1.0, so
// that the official clients (azservicebus for Go, @azure/service-bus,
// azure-servicebus for Python) work against it unchanged.
//
// This package owns the protocol side: protocol header negotiation, SASL
// (MSSBCBS, PLAIN, ANONYMOUS), connections, sessions, links, flow control,
// claims-based authorization on $cbs with SAS tokens, the $management
// request/response operations, and the conversion between AMQP messages and
// broker messages. Messaging semantics (entities, locks, delivery counts,
// TTL, scheduling, dead-lettering, persistence) live in internal/broker and
// the wire codec in internal/amqpwire.
//
// Deliberately not supported: TLS and WebSockets (the official emulator is
// plain TCP too), message sessions (RequiresSession entities), transactions,
// link recovery (unsettled maps on attach are ignored) and the HTTP
// management (ATOM) API; HTTPHandler only serves /health and /entities.
//
// # Concurrency
//
// Each connection runs three goroutines: a reader that parses frames, the
// connection loop that owns every piece of connection, session and link
// state (no mutex guards them; only the loop touches them), and a single
// writer that serialises encoded frames onto the socket and sends heartbeats.
// Receiver links waiting for messages park a goroutine on broker.Wait that
// posts a wake-up event back into the loop.
package sbemu
