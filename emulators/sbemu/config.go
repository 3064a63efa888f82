package sbemu

import "github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"

// Config is the emulator's entity configuration (the official emulator's
// Config.json format, parsed and validated).
type Config = broker.Config

// LoadConfig parses and validates a Config.json in the official emulator's
// format.
func LoadConfig(data []byte) (*Config, error) { return broker.LoadConfig(data) }

// DefaultConfigJSON is the built-in Config.json of the local stack's
// entities (queue "arrivals", topic "results" with subscriptions "all" and
// "cli").
var DefaultConfigJSON = broker.DefaultConfigJSON
