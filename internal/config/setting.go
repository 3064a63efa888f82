package config

import (
	"sort"
)

// setting declares one app setting. Parsing (through envconfig), the
// per-setting validation, Redacted, Settings and the README table are all
// derived from these declarations (declare in settings.go).
type setting struct {
	name string // environment variable
	def  string // envconfig default, applied when the variable is unset; "" for none
	doc  string // one line of Markdown for the README table

	// value binds the setting to its Config field. It is nil for the
	// settings the Functions host owns, which Load reads itself.
	value value
	// check validates the decoded text when it is not empty; nil for none.
	check func(string) string

	required bool // an empty value is a problem
	secret   bool // the value is never shown, only whether it is set
}

// host reports whether the Functions host owns the setting: Load reads it
// directly, because envconfig upper-cases names and the host's names are
// mixed case.
func (s setting) host() bool { return s.value == nil }

// problem is the setting's own validation row: the value's decode and
// bounds, then required, then check.
func (s setting) problem() string {
	if s.host() {
		return ""
	}
	if p := s.value.problem(); p != "" {
		return p
	}
	text := s.value.String()
	switch {
	case text == "" && s.required:
		return "is required"
	case text == "" || s.check == nil:
		return ""
	}
	return s.check(text)
}

// shown is the value for Redacted: secrets only say whether they are set.
func (s setting) shown() string {
	v := s.value.String()
	switch {
	case !s.secret:
		return v
	case v == "":
		return "(unset)"
	}
	return "(set)"
}

// Settings lists every setting name Load reads, for documentation checks.
func Settings() []string {
	decls := declare(new(Config))
	names := make([]string, len(decls))
	for i, s := range decls {
		names[i] = s.name
	}
	sort.Strings(names)
	return names
}

// Defaults returns the default of every setting that has one, by name:
// the value Load uses when the variable is unset.
func Defaults() map[string]string {
	m := map[string]string{}
	for _, s := range declare(new(Config)) {
		if s.def != "" {
			m[s.name] = s.def
		}
	}
	return m
}

// Redacted returns the settings as name → value for logging at start-up,
// with secrets replaced by "(set)" or "(unset)". The host-owned Service Bus
// settings are folded into FFBATCH_SERVICEBUS_* and not listed.
func (c *Config) Redacted() map[string]string {
	m := map[string]string{}
	for _, s := range declare(c) {
		if !s.host() {
			m[s.name] = s.shown()
		}
	}
	return m
}
