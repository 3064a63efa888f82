package lifecycle

import (
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/request"
)

func TestRecordName(t *testing.T) {
	long := strings.Repeat("é", 600) + ".mp4" // 1,204 bytes
	deep := strings.Repeat("d/", 252) + "x.mp4"
	key := func(b string) string { return hashMark + request.FileKey("input", b) }
	tests := []struct {
		name, blob, want string
	}{
		{"plain", "shows/ep 1.mp4", "files/input/shows/ep 1.mp4"},
		{"unicode and quotes", `a "b" ü;$().mp4`, `files/input/a "b" ü;$().mp4`},
		{"too long: cut on a rune boundary", long, "files/input/" + strings.Repeat("é", 400) + key(long)},
		{"too many segments", deep, "files/input/" + strings.Repeat("d/", cutSegments-1) + "d" + key(deep)},
		{"trailing dot", "notes.", "files/input/notes." + key("notes.")},
		{"backslash: cut before it", `a\b.mp4`, "files/input/a" + key(`a\b.mp4`)},
		{"control character", "a\x01b.mp4", "files/input/a" + key("a\x01b.mp4")},
		{"holds the hash mark", "a~~b.mp4", "files/input/a~~b.mp4" + key("a~~b.mp4")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RecordName("input", tc.blob)
			if got != tc.want {
				t.Errorf("RecordName = %q, want %q", got, tc.want)
			}
			if len(got) > 1024 || strings.Count(got, "/") >= 254 {
				t.Errorf("RecordName is not a valid blob name: %d bytes, %d segments", len(got), strings.Count(got, "/")+1)
			}
			n, complete := nameInRecordName(got, "input")
			if complete && n != tc.blob || !strings.HasPrefix(tc.blob, n) {
				t.Errorf("nameInRecordName = %q, %v; want the name or a prefix of it", n, complete)
			}
		})
	}
}

// TestRecordNamesDisjoint: a short form never equals a long form, even for
// a blob named like another file's long form.
func TestRecordNamesDisjoint(t *testing.T) {
	long := RecordName("input", "x.")
	impostor := strings.TrimPrefix(long, "files/input/")
	if RecordName("input", impostor) == long {
		t.Fatalf("blob %q shares the record of %q", impostor, "x.")
	}
	if RecordName("input", "a/b.mp4") == RecordName("inpu", "t/a/b.mp4") {
		t.Fatal("container and blob boundary is ambiguous")
	}
}

func TestListingPrefix(t *testing.T) {
	tests := []struct {
		prefix, want string
		refilter     bool
	}{
		{"", "files/input/", false},
		{"shows/", "files/input/shows/", false},
		{`a\b`, "files/input/a", true},
		{"a~", "files/input/a", true},
		{strings.Repeat("x", 900), "files/input/" + strings.Repeat("x", cutBytes), true},
	}
	for _, tc := range tests {
		got, refilter := listingPrefix("input", tc.prefix)
		if got != tc.want || refilter != tc.refilter {
			t.Errorf("listingPrefix(%.20q) = %.40q, %v; want %.40q, %v", tc.prefix, got, refilter, tc.want, tc.refilter)
		}
	}
}
