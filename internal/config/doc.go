// Package config holds the handler's settings: parsed once from the
// environment (Functions app settings) with envconfig, validated as a whole
// so that every problem is reported at once with the setting's name, and
// passed down as a typed struct.
//
// Each setting is declared once, as data, in settings.go: its name,
// default, bounds, whether it is secret, and a line of documentation.
// Parsing, the per-setting checks, Redacted, Settings, Defaults and the
// README table are derived from those declarations; only the checks that
// relate settings to each other are written out (validate.go).
//
// It is the only package that reads the environment, and it never prints
// secret values: Redacted and every error name secret settings without
// showing their values. It does not connect to anything.
package config
