package funchost

import (
	"strings"
	"testing"
	"time"
)

// FuzzRoute checks that route parsing and matching never panic and that a
// template without parameters matches its own text.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{"items/{id}", "{*rest}", "a/{b?}", "status", "{x:int}/y", "{}", "a//b", "{*a}/b"} {
		f.Add(s, "items/42")
	}
	f.Fuzz(func(t *testing.T, tmpl, path string) {
		rt, err := parseRoute(tmpl)
		if err != nil {
			return
		}
		rt.match(path)
		if !strings.ContainsAny(tmpl, "{}") && !strings.Contains(strings.Trim(tmpl, "/"), "//") {
			if _, ok := rt.match(tmpl); !ok {
				t.Errorf("literal route %q does not match itself", tmpl)
			}
		}
	})
}

// FuzzDecodeEvents checks the webhook body decoder never panics and returns
// at least one event when it accepts a body.
func FuzzDecodeEvents(f *testing.F) {
	for _, s := range []string{`[{"id":"1"}]`, `{"id":"1"}`, `[]`, ``, `[1]`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		evs, err := decodeEvents([]byte(s))
		if err == nil && len(evs) == 0 {
			t.Errorf("decodeEvents(%q) accepted no events", s)
		}
	})
}

// FuzzParseSchedule checks schedule parsing never panics and accepted
// schedules move forward in time.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 */5 * * * *", "* * * * * *", "00:00:10", "0 0 0 29 2 *", "a b c d e f"} {
		f.Add(s)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := parseSchedule(s)
		if err != nil {
			return
		}
		if next := sc.Next(from); !next.IsZero() && !next.After(from) {
			t.Errorf("schedule %q: Next(%s) = %s is not later", s, from, next)
		}
	})
}
