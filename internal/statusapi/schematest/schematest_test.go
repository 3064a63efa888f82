package schematest

import "testing"

// TestCheckRejects: the schema is strict enough to catch a drifted shape.
func TestCheckRejects(t *testing.T) {
	page := func(extra string) string {
		return `{"schema":"ffbatch.status/v1","generatedAt":"2026-12-01T12:00:00Z","query":{"container":"input","limit":100},
		"containers":["input"],"rows":[` + extra + `],"scan":{"listed":0,"requests":1,"limited":false},
		"activity":{"windowMinutes":60,"minutes":[],"totals":{"succeeded":0,"failed":0,"reused":0,"refused":0,"audioMillis":0},"recent":[]},
		"pool":null,"tasks":null,"queue":{"name":"arrivals","known":false,"active":0,"scheduled":0,"deadLetter":0}}`
	}
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"empty page", page(""), true},
		{"a row", page(`{"container":"input","blob":"a.mp4","state":"running","startedAt":"2026-12-01T12:00:00Z"}`), true},
		{"unknown row field", page(`{"container":"input","blob":"a.mp4","state":"running","colour":"red"}`), false},
		{"unknown state", page(`{"container":"input","blob":"a.mp4","state":"done"}`), false},
		{"bad time", page(`{"container":"input","blob":"a.mp4","state":"queued","queuedAt":"yesterday"}`), false},
		{"file view", `{"container":"input","blob":"a.mp4","etag":"0x1","preset":"p","output":"a.mp3","state":"queued","requests":[{"container":"input","blob":"a.mp4","etag":"0x1","preset":"p","output":"a.mp3","state":"queued"}],"updatedAt":"2026-12-01T12:00:00Z"}`, true},
		{"file view without history", `{"container":"input","blob":"a.mp4","etag":"0x1","preset":"p","output":"a.mp3","state":"queued","updatedAt":"2026-12-01T12:00:00Z"}`, false},
		{"not an object", `[]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.doc))
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
