package odata

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// decode turns a JSON document into the map shape Match receives.
func decode(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return m
}

const (
	taskCompletedOK = `{"id":"task1","state":"completed","creationTime":"2025-11-22T19:39:28.5246331Z",
		"executionInfo":{"result":"success","exitCode":0,"retryCount":0,"endTime":"2025-11-22T19:40:00Z"},
		"nodeInfo":{"poolId":"LinuxFfmpegPool"},"multiInstance":false}`
	taskCompletedFail = `{"id":"Task2","state":"completed","creationTime":"2025-11-22T19:39:28Z",
		"executionInfo":{"result":"failure","exitCode":1,"retryCount":2},
		"nodeInfo":{"poolId":"otherpool"}}`
	taskNegativeExit = `{"id":"job-task-3","state":"completed","executionInfo":{"result":"failure","exitCode":-1}}`
	taskActive       = `{"id":"task4","state":"active","creationTime":"2025-11-23T08:00:00Z","displayName":null}`
)

func TestFilterMatch(t *testing.T) {
	objs := map[string]string{
		"ok":       taskCompletedOK,
		"fail":     taskCompletedFail,
		"negative": taskNegativeExit,
		"active":   taskActive,
	}
	tests := []struct {
		name   string
		filter string
		want   []string // names of objs that match, in the order ok, fail, negative, active
	}{
		{"reference state eq completed", "state eq 'completed'", []string{"ok", "fail", "negative"}},
		{"reference non-zero exit code", "(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)", []string{"fail", "negative"}},
		{"reference result eq Failure is case-insensitive", "executionInfo/result eq 'Failure'", []string{"fail", "negative"}},
		{"reference startswith", "startswith(id,'task')", []string{"ok", "fail", "active"}},
		{"startswith eq true", "startswith(id,'task') eq true", []string{"ok", "fail", "active"}},
		{"startswith eq false", "startswith(id,'task') eq false", []string{"negative"}},
		{"startswith ne true", "startswith(id,'job') ne true", []string{"ok", "fail", "active"}},
		{"startswith missing property", "startswith(displayName,'x')", nil},
		{"state ne completed", "state ne 'completed'", []string{"active"}},
		{"exit code eq 0", "executionInfo/exitCode eq 0", []string{"ok"}},
		{"exit code ge 0", "executionInfo/exitCode ge 0", []string{"ok", "fail"}},
		{"exit code le 0", "executionInfo/exitCode le 0", []string{"ok", "negative"}},
		{"exit code ne 0 missing is false", "executionInfo/exitCode ne 0", []string{"fail", "negative"}},
		{"decimal literal", "executionInfo/exitCode gt 0.5", []string{"fail"}},
		{"literal on the left", "0 lt executionInfo/exitCode", []string{"fail"}},
		{"and binds tighter than or", "state eq 'active' or state eq 'completed' and executionInfo/exitCode eq 0", []string{"ok", "active"}},
		{"parentheses override precedence", "(state eq 'active' or state eq 'completed') and executionInfo/exitCode eq 0", []string{"ok"}},
		{"not", "not (state eq 'completed')", []string{"active"}},
		{"not of missing property is true", "not (executionInfo/exitCode eq 0)", []string{"fail", "negative", "active"}},
		{"not not", "not not state eq 'active'", []string{"active"}},
		{"nested pool id", "nodeInfo/poolId eq 'linuxffmpegpool'", []string{"ok"}},
		{"value case-insensitive ordering", "id gt 'TASK1'", []string{"fail", "active"}},
		{"keywords case-insensitive", "state EQ 'active' OR id Eq 'task1'", []string{"ok", "active"}},
		{"escaped quote", "id eq 'it''s'", nil},
		{"bool literal", "multiInstance eq false", []string{"ok"}},
		{"null literal eq", "displayName eq null", []string{"ok", "fail", "negative", "active"}},
		{"null literal ne", "nodeInfo ne null", []string{"ok", "fail"}},
		{"DateTime literal ge", "creationTime ge DateTime'2025-11-23T00:00:00Z'", []string{"active"}},
		{"DateTime literal lt with fraction", "creationTime lt DateTime'2025-11-22T19:39:28.6Z'", []string{"ok", "fail"}},
		{"DateTime equals 7 fractional digits", "creationTime eq DateTime'2025-11-22T19:39:28.5246331Z'", []string{"ok"}},
		{"RFC 1123 string compared as time", "creationTime gt 'Sat, 22 Nov 2025 20:00:00 GMT'", []string{"active"}},
		{"RFC 3339 string compared as time", "executionInfo/endTime le '2025-11-22T19:40:00.0000000Z'", []string{"ok"}},
		{"whitespace and newlines", "  state\teq\n'active'  ", []string{"active"}},
		{"missing top-level property", "nosuch eq 'x'", nil},
		{"path through a non-object", "id/x eq 'x'", nil},
	}
	names := []string{"ok", "fail", "negative", "active"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
			}
			var got []string
			for _, n := range names {
				ok, err := f.Match(decode(t, objs[n]))
				if err != nil {
					t.Fatalf("Match(%s): %v", n, err)
				}
				if ok {
					got = append(got, n)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%q matched %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestFilterMatchTypeErrors(t *testing.T) {
	obj := decode(t, taskCompletedOK)
	tests := []struct {
		name    string
		filter  string
		wantErr string
	}{
		{"string property vs number", "state eq 1", "not a number"},
		{"number property vs string", "executionInfo/exitCode eq '0'", "not a string"},
		{"object property vs string", "executionInfo eq 'x'", "not a string"},
		{"bool property vs number", "multiInstance eq 1", "not a number"},
		{"DateTime vs non-date string", "id gt DateTime'2025-01-01T00:00:00Z'", "not a datetime"},
		{"DateTime vs number", "executionInfo/exitCode gt DateTime'2025-01-01T00:00:00Z'", "not a datetime"},
		{"startswith on number", "startswith(executionInfo/exitCode,'1')", "not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
			}
			_, err = f.Match(obj)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Match error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name    string
		filter  string
		wantPos int // one-based, as printed
		wantMsg string
	}{
		{"empty", "", 1, "empty"},
		{"blank", "   ", 1, "empty"},
		{"unterminated string", "state eq 'completed", 10, "unterminated string"},
		{"missing operator", "state 'completed'", 7, "expected a comparison operator"},
		{"unknown operator", "state like 'completed'", 7, "expected a comparison operator"},
		{"missing literal", "state eq", 9, "expected a literal"},
		{"two properties", "state eq id", 10, "comparing two properties"},
		{"two literals", "'a' eq 'b'", 1, "property name on one side"},
		{"unbalanced open", "(state eq 'active'", 19, "expected ')'"},
		{"unbalanced close", "state eq 'active')", 18, "unexpected ')'"},
		{"dangling and", "state eq 'active' and", 22, "expected a condition"},
		{"leading or", "or state eq 'active'", 1, "expected a property name"},
		{"juxtaposed conditions", "state eq 'a' state eq 'b'", 14, "combine conditions"},
		{"unknown function", "endswith(id,'x')", 1, "unsupported function"},
		{"startswith missing comma", "startswith(id 'x')", 15, "separated by ','"},
		{"startswith number prefix", "startswith(id,1)", 15, "string literal as its second argument"},
		{"startswith literal first", "startswith('x','x')", 12, "property name as its first argument"},
		{"startswith unclosed", "startswith(id,'x'", 18, "expected ')'"},
		{"startswith gt", "startswith(id,'x') gt true", 20, "can only be compared"},
		{"bad character", "state eq \"active\"", 10, "unexpected character"},
		{"bad DateTime", "creationTime gt DateTime'yesterday'", 17, "not a valid datetime"},
		{"ordering a boolean", "multiInstance gt true", 15, "use eq or ne"},
		{"empty path segment", "executionInfo//result eq 'x'", 1, "empty segment"},
		{"trailing slash", "executionInfo/ eq 'x'", 1, "empty segment"},
		{"lone minus", "exitCode eq -", 13, "must be followed by a number"},
		{"malformed number", "exitCode eq 12abc", 13, "malformed number"},
		{"number out of range", "exitCode eq 1e999", 13, "out of range"},
		{"too deep", strings.Repeat("(", 200) + "a eq 1" + strings.Repeat(")", 200), 102, "nested more than"},
		{"too long", "id eq '" + strings.Repeat("x", maxFilterLength) + "'", maxFilterLength + 1, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %v, want an error", tt.filter, f)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *SyntaxError", err, err)
			}
			if se.Pos+1 != tt.wantPos || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("error = %q (pos %d), want position %d and a message containing %q", err, se.Pos+1, tt.wantPos, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "invalid $filter expression: ") {
				t.Errorf("error text %q does not name the $filter option", err)
			}
		})
	}
}

func TestFilterProperties(t *testing.T) {
	f, err := ParseFilter("(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0) or startswith(id,'t') and state eq 'x'")
	if err != nil {
		t.Fatal(err)
	}
	got := f.Properties()
	want := []string{"executionInfo/exitCode", "id", "state"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Properties() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if f.Properties()[0] != "executionInfo/exitCode" {
		t.Error("Properties() exposes the filter's internal slice")
	}
}

func TestMatchNumericTypes(t *testing.T) {
	f, err := ParseFilter("executionInfo/exitCode ge 2")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value any
		want  bool
	}{
		{"json.Number", json.Number("3"), true},
		{"int", 1, false},
		{"int64", int64(2), true},
		{"float32", float32(2.5), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Match(map[string]any{"executionInfo": map[string]any{"exitCode": tt.value}})
			if err != nil || got != tt.want {
				t.Errorf("Match = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}
