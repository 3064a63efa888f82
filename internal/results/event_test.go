package results

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ffbatch/ffbatch/internal/request"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestEventMarshal(t *testing.T) {
	file := &request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 10}
	tests := []struct {
		name    string
		ev      Event
		wantErr bool
	}{
		{"succeeded", Event{Schema: SchemaVersion, ID: "r1", Status: StatusSucceeded, Time: t0, File: file,
			Output:  &Output{URL: "https://acct.blob.core.windows.net/output/a.mp3", Container: "output", Blob: "a.mp3"},
			Timings: NewTimings(t0, t0.Add(time.Second), t0.Add(3*time.Second)), Attempts: &Attempts{}}, false},
		{"succeeded with SAS in URL", Event{Schema: SchemaVersion, ID: "r1", Status: StatusSucceeded, Time: t0, File: file,
			Output: &Output{URL: "https://acct.blob.core.windows.net/output/a.mp3?sig=secret"}}, true},
		{"succeeded without output", Event{Schema: SchemaVersion, ID: "r1", Status: StatusSucceeded, Time: t0, File: file}, true},
		{"failed", Event{Schema: SchemaVersion, ID: "r2", Status: StatusFailed, Time: t0, File: file,
			Failure: &Failure{Category: CategoryFFmpeg, Code: "FailureExitCode", ExitCode: i32(1), Stderr: "Invalid data found"}}, false},
		{"failed without failure", Event{Schema: SchemaVersion, ID: "r2", Status: StatusFailed, Time: t0, File: file}, true},
		{"rejected", Event{Schema: SchemaVersion, ID: "r3", Status: StatusRejected, Time: t0,
			Rejection: &Rejection{Reason: "dot_segment", Message: "blob: ..", MessageID: "m1"}}, false},
		{"ignored", Event{Schema: SchemaVersion, ID: "r5", Status: StatusIgnored, Time: t0, File: file,
			Rejection: &Rejection{Reason: "unsupported_extension", Message: "not an .mp4 blob"}}, false},
		{"ignored without reason", Event{Schema: SchemaVersion, ID: "r5", Status: StatusIgnored, Time: t0, File: file}, true},
		{"unknown status", Event{Schema: SchemaVersion, ID: "r4", Status: "done", Time: t0}, true},
		{"no schema", Event{ID: "r4", Status: StatusRejected, Time: t0, Rejection: &Rejection{}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.ev.Marshal()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Marshal error = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && !json.Valid(b) {
				t.Errorf("invalid JSON %s", b)
			}
		})
	}
}

func TestTimings(t *testing.T) {
	tm := NewTimings(t0, t0.Add(2*time.Second), t0.Add(5*time.Second))
	if tm.QueueMillis != 2000 || tm.RunMillis != 3000 || tm.TotalMillis != 5000 {
		t.Errorf("timings = %+v", tm)
	}
	tm = NewTimings(t0, time.Time{}, t0.Add(5*time.Second))
	if tm.QueueMillis != 0 || tm.RunMillis != 0 || tm.TotalMillis != 5000 {
		t.Errorf("timings with missing start = %+v", tm)
	}
}

func TestStderrExcerpt(t *testing.T) {
	long := strings.Repeat("é", 3000) + "\ninput.mp4: Invalid data found when processing input\n"
	got := StderrExcerpt([]byte(long))
	if len(got) > MaxStderrBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "Invalid data found when processing input") {
		t.Errorf("excerpt (%d bytes) = ...%q", len(got), got[max(0, len(got)-60):])
	}
	if got := StderrExcerpt([]byte("short\n")); got != "short" {
		t.Errorf("short excerpt = %q", got)
	}
	if got := Excerpt("ééé", 3); got != "é…" {
		t.Errorf("Excerpt = %q", got)
	}
}

// TestSchemaMentionsEveryField keeps docs/schemas/result.schema.json in step
// with the Event type's top-level fields.
func TestSchemaMentionsEveryField(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "schemas", "result.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	ev := Event{Schema: SchemaVersion, ID: "x", Status: StatusFailed, Time: t0, Request: &RequestRef{}, File: &request.Version{}, Preset: "p", TaskID: "t",
		Output: &Output{}, Audio: &Audio{}, Reused: &Reuse{}, Logs: "l", Timings: &Timings{}, Attempts: &Attempts{}, Failure: &Failure{}, Rejection: &Rejection{}}
	raw, _ := json.Marshal(ev)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	for k := range fields {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("schema lacks property %q", k)
		}
	}
	if len(s.Properties) != len(fields) {
		t.Errorf("schema has %d properties, Event has %d", len(s.Properties), len(fields))
	}
}
