package request

import (
	"regexp"
	"strings"
	"testing"
)

var batchID = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func TestTaskID(t *testing.T) {
	r := Request{ID: "req-1", Version: Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 10}, Preset: "mp3-192k-cbr", Output: "a.mp3"}
	hashed := r
	hashed.ContentMD5 = "1B2M2Y8AsgTpgAmY7PhCfg=="
	tests := []struct {
		name    string
		base    Request
		mutate  func(*Request)
		attempt int
		same    bool
	}{
		{"other request, same work", r, func(r *Request) { r.ID = "req-2"; r.Correlation = "c" }, 0, true},
		{"other version, same hash and size", hashed, func(r *Request) { r.ID, r.ETag = "req-2", "0x2" }, 0, true},
		{"other version, same hash, other size", hashed, func(r *Request) { r.ETag, r.Size = "0x2", 11 }, 0, false},
		{"other version without hash", r, func(r *Request) { r.ETag = "0x2" }, 0, false},
		{"forced", r, func(r *Request) { r.Force = true }, 0, false},
		{"other preset", r, func(r *Request) { r.Preset = "mp3-v2-vbr" }, 0, false},
		{"other output", r, func(r *Request) { r.Output = "b.mp3" }, 0, false},
		{"case differs", r, func(r *Request) { r.Blob = "A.mp4" }, 0, false},
		{"boundary shift", r, func(r *Request) { r.Container, r.Blob = "inputa", ".mp4" }, 0, false},
		{"next attempt", r, func(*Request) {}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := TaskID(tc.base, 0)
			if !batchID.MatchString(base) || len(base) != 64 {
				t.Fatalf("TaskID = %q (%d chars), want 64 lower-case chars of the Batch id alphabet", base, len(base))
			}
			o := tc.base
			tc.mutate(&o)
			id := TaskID(o, tc.attempt)
			if !batchID.MatchString(id) {
				t.Errorf("TaskID = %q: not a valid Batch id", id)
			}
			if (id == base) != tc.same {
				t.Errorf("TaskID = %q, base %q: same = %v, want %v", id, base, id == base, tc.same)
			}
		})
	}
	other := r
	other.ID = "req-2"
	if TaskID(r, 1) == TaskID(other, 1) {
		t.Errorf("the resubmissions of two requests share a task id")
	}
	if TaskID(r, 0) != TaskID(r, 0) || TaskID(r, 2) != TaskID(r, 2) {
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
