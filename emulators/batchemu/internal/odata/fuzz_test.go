package odata

import (
	"testing"
)

// FuzzParseFilter checks that no input makes ParseFilter or Match panic and
// that a successful parse always yields a filter that can be matched. The
// seed corpus lives in testdata/fuzz/FuzzParseFilter and runs under plain
// `go test`.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"state eq 'completed'",
		"(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)",
		"not (a eq 1) and b ne 'x''y'",
	} {
		f.Add(s)
	}
	obj := map[string]any{
		"id":    "task1",
		"state": "completed",
		"executionInfo": map[string]any{
			"result": "failure", "exitCode": 1.0, "endTime": "2025-11-22T19:40:00Z",
		},
		"flag": true,
		"null": nil,
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseFilter(%q) returned an empty error", expr)
			}
			return
		}
		// Type errors are fine; panics are not.
		_, _ = flt.Match(obj)
		_, _ = flt.Match(map[string]any{})
		_ = flt.Properties()
	})
}
