package request

import (
	"regexp"
	"strings"
	"testing"
)

var batchID = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func TestTaskID(t *testing.T) {
	r := Request{ID: "req-1", Version: Version{Container: "input", Blob: "a.mp4", ETag: "0x1"}, Preset: "mp3-192k-cbr", Output: "a.mp3"}
	base := TaskID(r, 0)
	if !batchID.MatchString(base) || len(base) != 64 {
		t.Fatalf("TaskID = %q (%d chars), want 64 lower-case chars of the Batch id alphabet", base, len(base))
	}
	tests := []struct {
		name    string
		mutate  func(*Request)
		attempt int
	}{
		{"other request", func(r *Request) { r.ID = "req-2" }, 0},
		{"other preset", func(r *Request) { r.Preset = "mp3-v2-vbr" }, 0},
		{"other output", func(r *Request) { r.Output = "b.mp3" }, 0},
		{"other etag", func(r *Request) { r.ETag = "0x2" }, 0},
		{"case differs", func(r *Request) { r.Blob = "A.mp4" }, 0},
		{"boundary shift", func(r *Request) { r.Container, r.Blob = "inputa", ".mp4" }, 0},
		{"next attempt", func(*Request) {}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := r
			tc.mutate(&o)
			if id := TaskID(o, tc.attempt); id == base || !batchID.MatchString(id) {
				t.Errorf("TaskID = %q: want a valid id different from %q", id, base)
			}
		})
	}
	if TaskID(r, 0) != base {
		t.Errorf("TaskID is not deterministic")
	}
}

func TestSameContent(t *testing.T) {
	v := Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 10, ContentMD5: "1B2M2Y8AsgTpgAmY7PhCfg=="}
	tests := []struct {
		name string
		o    Version
		want bool
	}{
		{"same version", Version{Container: "input", Blob: "a.mp4", ETag: "0x1"}, true},
		{"new version, same hash and size", Version{Container: "input", Blob: "a.mp4", ETag: "0x2", Size: 10, ContentMD5: v.ContentMD5}, true},
		{"new version, same hash, other size", Version{Container: "input", Blob: "a.mp4", ETag: "0x2", Size: 11, ContentMD5: v.ContentMD5}, false},
		{"new version without hash", Version{Container: "input", Blob: "a.mp4", ETag: "0x2", Size: 10}, false},
		{"other blob, same hash", Version{Container: "input", Blob: "b.mp4", ETag: "0x1", Size: 10, ContentMD5: v.ContentMD5}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.SameContent(tc.o); got != tc.want {
				t.Errorf("SameContent = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMessageIDs(t *testing.T) {
	long := strings.Repeat("x", MaxIDLen)
	for _, id := range []string{"req-1", long} {
		for _, n := range []int{1, 100} {
			got := AttemptMessageID(id, n)
			if len(got) > MaxIDLen || got == id {
				t.Errorf("AttemptMessageID(%d chars, %d) = %q: want ≤%d chars, not the request id", len(id), n, got, MaxIDLen)
			}
		}
	}
	if AttemptMessageID("req-1", 1) == AttemptMessageID("req-1", 2) {
		t.Errorf("two attempts share a message id")
	}
	if r := ResultID(long); len(r) > MaxIDLen || r == ResultID("req-1") {
		t.Errorf("ResultID = %q: want ≤%d chars and distinct per request", r, MaxIDLen)
	}
}
