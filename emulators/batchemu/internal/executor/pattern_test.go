package executor

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// makeTree creates files (slash-separated, relative to root) with small contents.
func makeTree(t *testing.T, root string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFilePatternFind(t *testing.T) {
	taskDir := t.TempDir()
	wd := filepath.Join(taskDir, "wd")
	makeTree(t, taskDir, "stdout.txt", "stderr.txt", "fileuploadout.txt")
	makeTree(t, wd,
		"a.mp3", "b.mp3", "c.txt", ".hidden.mp3",
		"x1.log", "x2.log", "xa.log",
		"star*.txt", "starX.txt",
		"out/song.mp3", "out/deep/inner.mp3", "out/.secret/s.mp3",
		".cache/c.mp3",
	)
	if err := os.Mkdir(filepath.Join(wd, "emptydir.mp3"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		pattern string
		path    string
		want    []string // blob names, in order
	}{
		{"literal file, path omitted: file name", "a.mp3", "", []string{"a.mp3"}},
		{"literal file, path is the full blob name", "a.mp3", "results/renamed.mp3", []string{"results/renamed.mp3"}},
		{"literal file in a subdirectory keeps only the name", "out/song.mp3", "", []string{"song.mp3"}},
		{"star within a segment skips dot-files", "*.mp3", "", []string{"a.mp3", "b.mp3"}},
		{"star with path prefix", "*.mp3", "job/task", []string{"job/task/a.mp3", "job/task/b.mp3"}},
		{"path prefix slashes trimmed", "*.mp3", "/job/", []string{"job/a.mp3", "job/b.mp3"}},
		{"dot pattern names dot-files explicitly", ".*.mp3", "", []string{".hidden.mp3"}},
		{"double star recurses, skipping dot directories", "**/*.mp3", "", []string{"a.mp3", "b.mp3", "out/deep/inner.mp3", "out/song.mp3"}},
		{"double star below a fixed base keeps relative path", "out/**/*.mp3", "p", []string{"p/deep/inner.mp3", "p/song.mp3"}},
		{"trailing double star means everything below", "out/**", "", []string{"deep/inner.mp3", "song.mp3"}},
		{"explicit dot directory", "out/.secret/*.mp3", "", []string{"s.mp3"}},
		{"question mark is one character", "?.mp3", "", []string{"a.mp3", "b.mp3"}},
		{"question mark does not match two", "x?.log", "", []string{"x1.log", "x2.log", "xa.log"}},
		{"class", "x[12].log", "", []string{"x1.log", "x2.log"}},
		{"range", "x[1-2].log", "", []string{"x1.log", "x2.log"}},
		{"negated class", "x[!1].log", "", []string{"x2.log", "xa.log"}},
		{"two-member class is a wildcard", "[ab].mp3", "d", []string{"d/a.mp3", "d/b.mp3"}},
		{"escaped star is literal", "star[*].txt", "", []string{"star*.txt"}},
		{"unescaped star matches both", "star*.txt", "", []string{"star*.txt", "starX.txt"}},
		{"parent directory logs", "../std*.txt", "task1", []string{"task1/stderr.txt", "task1/stdout.txt"}},
		{"literal parent file", "../stdout.txt", "logs/out.txt", []string{"logs/out.txt"}},
		{"absolute pattern", filepath.ToSlash(wd) + "/out/*.mp3", "", []string{"song.mp3"}},
		{"directories are never files", "*.mp3", "", []string{"a.mp3", "b.mp3"}},
		{"missing base directory", "missing/*.mp3", "", nil},
		{"missing literal file", "nomatch.mp3", "", nil},
		{"literal directory uploads nothing", "out", "", nil},
		{"star alone", "*", "", []string{"a.mp3", "b.mp3", "c.txt", "star*.txt", "starX.txt", "x1.log", "x2.log", "xa.log"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fp, err := compilePattern(tc.pattern)
			if err != nil {
				t.Fatalf("compilePattern(%q): %v", tc.pattern, err)
			}
			ms, err := fp.find(wd)
			if err != nil {
				t.Fatalf("find(%q): %v", tc.pattern, err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, blobNameFor(fp, tc.path, m))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pattern %q path %q: got %q, want %q", tc.pattern, tc.path, got, tc.want)
			}
		})
	}
}

func TestCompilePatternErrors(t *testing.T) {
	tests := []struct {
		name, pattern string
		bad           bool // wraps ErrBadPattern
	}{
		{"empty", "", false},
		{"only slashes", "///", false},
		{"unterminated class", "x[ab.log", true},
		{"reversed range", "x[z-a].log", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compilePattern(tc.pattern)
			if err == nil {
				t.Fatalf("compilePattern(%q) succeeded, want error", tc.pattern)
			}
			if tc.bad && !errors.Is(err, ErrBadPattern) {
				t.Errorf("compilePattern(%q) = %v, want ErrBadPattern", tc.pattern, err)
			}
		})
	}
}

func TestMatchName(t *testing.T) {
	tests := []struct {
		seg, name string
		want      bool
	}{
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*.tar.gz", "x.tar.gz", true},
		{"*x", ".x", false},
		{".*", ".x", true},
		{"[.]x", ".x", true},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[a-]", "-", true},
		{"?", "é", true},
	}
	for _, tc := range tests {
		s, err := compileSegment(tc.seg)
		if err != nil {
			t.Fatalf("compileSegment(%q): %v", tc.seg, err)
		}
		if got := s.matchName(tc.name); got != tc.want {
			t.Errorf("segment %q matchName(%q) = %v, want %v", tc.seg, tc.name, got, tc.want)
		}
	}
}
