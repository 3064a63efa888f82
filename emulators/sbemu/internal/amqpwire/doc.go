// Package amqpwire is a pure AMQP 1.0 codec and frame layer for the Service
// Bus emulator: primitive and composite types, frames, performatives, SASL
// frames, delivery states and message sections.
//
// It performs no I/O and keeps no connection state; the connection state
// machine lives in the parent package. Decoders never panic on malformed
// input and bound every allocation by the length of the input. Decimal
// values are carried as opaque bytes and arrays of described types keep
// their descriptor, but no arithmetic or validation beyond framing is done.
//
// Written from the OASIS AMQP 1.0 specification (part 1 types, part 2
// transport, part 3 messaging, part 5 security); no third-party codec is used.
package amqpwire
