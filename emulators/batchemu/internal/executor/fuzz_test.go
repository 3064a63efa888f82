package executor

import (
	"reflect"
	"strings"
	"testing"
)

// quoteArg single-quotes s for SplitCommandLine; an embedded single quote is
// written as close quote, backslash-escaped quote, reopen quote.
func quoteArg(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// FuzzSplitCommandLine checks that splitting never panics and that a command
// line built by quoting its own output splits back to the same argv.
func FuzzSplitCommandLine(f *testing.F) {
	for _, s := range []string{`a b`, `"a b" 'c'`, `x\ y`, `"\"" '\'`, `$(id); *`, `"unterminated`, "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommandLine(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = quoteArg(a)
		}
		again, err := SplitCommandLine(strings.Join(quoted, " "))
		if err != nil {
			t.Fatalf("re-split of %q failed: %v", quoted, err)
		}
		if len(args) == 0 {
			args = nil
		}
		if !reflect.DeepEqual(again, args) {
			t.Fatalf("round trip of %q: got %q, want %q", s, again, args)
		}
	})
}

// FuzzFilePattern checks that compiling and matching never panic and that a
// literal segment matches exactly its own text.
func FuzzFilePattern(f *testing.F) {
	for _, s := range []string{"*.mp3", "**/x", "[!a-c]?", "abc[*]", "../std*.txt", "[", "[]]", "a/**"} {
		f.Add(s, "name.mp3")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		fp, err := compilePattern(pattern)
		if err != nil {
			return
		}
		for _, s := range fp.segs {
			matched := s.matchName(name)
			if s.literal && matched != (name == s.lit) {
				t.Fatalf("literal segment %q matchName(%q) = %v", s.lit, name, matched)
			}
		}
	})
}
