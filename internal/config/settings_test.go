package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestDeclarations checks each declaration on its own: a name envconfig can
// read, a one-line doc, and a default that passes the setting's own row.
func TestDeclarations(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range declare(new(Config)) {
		t.Run(s.name, func(t *testing.T) {
			if seen[s.name] {
				t.Errorf("declared twice")
			}
			seen[s.name] = true
			if !s.host() && (!strings.HasPrefix(s.name, "FFBATCH_") || strings.ToUpper(s.name) != s.name) {
				t.Errorf("name must be upper case and start with FFBATCH_ (envconfig upper-cases names)")
			}
			if s.doc == "" || strings.Contains(s.doc, "\n") || !strings.HasSuffix(s.doc, ".") {
				t.Errorf("doc %q must be one non-empty line ending in a full stop", s.doc)
			}
			if s.secret && s.def != "" {
				t.Errorf("a secret must not have a default")
			}
			if s.host() {
				if s.def != "" || s.required || s.check != nil {
					t.Errorf("a host-owned setting has no default, requirement or check here")
				}
				return
			}
			if s.value.bounds() != "" && s.def == "" {
				t.Errorf("a bounded setting needs a default")
			}
			if s.def == "" {
				return
			}
			alone := declarationOf(t, s.name)
			if err := alone.value.Decode(s.def); err != nil {
				t.Fatalf("Decode(%q): %v", s.def, err)
			}
			if p := alone.problem(); p != "" {
				t.Errorf("default %q is invalid: %s", s.def, p)
			}
		})
	}
}

// declarationOf returns the declaration named name, bound to a new Config.
func declarationOf(t *testing.T, name string) setting {
	t.Helper()
	for _, s := range declare(new(Config)) {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no declaration %s", name)
	return setting{}
}

// TestEveryConfigFieldDeclaredOnce: a Config field without a declaration
// would never be set; one with two would be set twice.
func TestEveryConfigFieldDeclaredOnce(t *testing.T) {
	c := new(Config)
	bound := map[any][]string{}
	for _, s := range declare(c) {
		if !s.host() {
			bound[s.value.field()] = append(bound[s.value.field()], s.name)
		}
	}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		addr := v.Field(i).Addr().Interface()
		if names := bound[addr]; len(names) != 1 {
			t.Errorf("Config.%s is bound by %d settings %v, want 1", v.Type().Field(i).Name, len(names), names)
		}
		delete(bound, addr)
	}
	for _, names := range bound {
		t.Errorf("settings %v are bound to something other than a Config field", names)
	}
}

func TestSettings(t *testing.T) {
	got := Settings()
	if !slices.IsSorted(got) {
		t.Errorf("Settings() is not sorted: %v", got)
	}
	for _, want := range []string{hostSBConnection, hostSBNamespace, "FFBATCH_UPSTREAM_CONTAINERS", "FFBATCH_SWEEP_SCHEDULE"} {
		if !slices.Contains(got, want) {
			t.Errorf("Settings() lacks %s", want)
		}
	}
	if n := len(declare(new(Config))); len(got) != n {
		t.Errorf("Settings() has %d names, want %d (one per declaration)", len(got), n)
	}
}

func TestRedacted(t *testing.T) {
	clearEnv(t)
	setAll(t, localEnv())
	t.Setenv("FFBATCH_UPSTREAM_CONTAINERS", "uploads, archive")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	got := c.Redacted()
	for _, s := range declare(c) {
		v, ok := got[s.name]
		if s.host() {
			if ok {
				t.Errorf("Redacted lists host-owned %s", s.name)
			}
			continue
		}
		if !ok {
			t.Errorf("Redacted lacks %s", s.name)
		}
		if s.secret && v != "(set)" && v != "(unset)" {
			t.Errorf("Redacted()[%s] = %q, want (set) or (unset)", s.name, v)
		}
	}
	for name, want := range map[string]string{
		"FFBATCH_BATCH_ACCOUNT_KEY":            "(set)",
		"FFBATCH_STORAGE_CONNECTION_STRING":    "(set)",
		"FFBATCH_SERVICEBUS_CONNECTION_STRING": "(set)",
		"FFBATCH_INPUT_CONTAINER":              "input",
		"FFBATCH_UPSTREAM_CONTAINERS":          "uploads,archive",
		"FFBATCH_SAS_QUEUEING":                 "2h",
		"FFBATCH_TASK_SLOTS_PER_NODE":          "2",
		"FFBATCH_BATCH_AUTH":                   "sharedkey",
		"FFBATCH_LOG_LEVEL":                    "info",
	} {
		if got[name] != want {
			t.Errorf("Redacted()[%s] = %q, want %q", name, got[name], want)
		}
	}
	for k, v := range got {
		if strings.Contains(v, fakeKey) {
			t.Errorf("Redacted()[%s] leaks the key", k)
		}
	}
}
