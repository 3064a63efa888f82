// Package wire holds the JSON objects of the Batch REST API as the emulator
// sends and stores them, the wire formats of timestamps and ISO 8601
// durations, and the wire values of entity states.
//
// The types are the emulator's own (it must not share code with the
// production client, so a mismatch shows up as a failing test), and they
// double as the persisted state, so every field the service reports lives
// here. Objects the emulator only echoes (VM configuration, network
// configuration, user identity, ...) are kept as raw JSON. The package
// holds no behaviour beyond encoding: validation, state transitions and
// errors live in the packages that use it.
package wire
