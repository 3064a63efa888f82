package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalName(t *testing.T) {
	tests := []struct {
		name, blob, want string
		unsafe           bool
	}{
		{"plain", "a.mp3", "a.mp3", false},
		{"nested keeps the folders", "album/disc 1/ep.1.mp3", filepath.Join("album", "disc 1", "ep.1.mp3"), false},
		{"unicode and shell characters", "été/$(id);`x`.mp3", filepath.Join("été", "$(id);`x`.mp3"), false},
		{"logs", "logs/t-1/stderr.txt", filepath.Join("logs", "t-1", "stderr.txt"), false},
		{"empty", "", "", true},
		{"absolute", "/etc/passwd", "", true},
		{"dot dot", "../x.mp3", "", true},
		{"dot dot inside", "a/../../x.mp3", "", true},
		{"dot dot that stays inside", "a/../x.mp3", "", true},
		{"dot segment", "a/./x.mp3", "", true},
		{"empty segment", "a//x.mp3", "", true},
		{"trailing slash", "a/", "", true},
		{"only dots", "..", "", true},
		{"NUL", "a\x00.mp3", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := localName(tt.blob)
			if tt.unsafe {
				if !errors.Is(err, errUnsafeName) {
					t.Errorf("localName(%q) = %q, %v; want errUnsafeName", tt.blob, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("localName(%q) = %q, %v; want %q", tt.blob, got, err, tt.want)
			}
		})
	}
}

func TestLocalDirWrite(t *testing.T) {
	outside := t.TempDir()
	fill := func(data string) func(*os.File) (int64, error) {
		return func(f *os.File) (int64, error) {
			n, err := io.WriteString(f, data)
			return int64(n), err
		}
	}
	failing := func(f *os.File) (int64, error) {
		io.WriteString(f, "half")
		return 4, errors.New("connection reset")
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		rel     string
		fill    func(*os.File) (int64, error)
		wantErr bool
		want    string // content of rel after write; "" means the file must not exist
	}{
		{"creates folders", nil, filepath.Join("a", "b", "c.mp3"), fill("mp3"), false, "mp3"},
		{"replaces a file", func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "x.mp3"), "old") }, "x.mp3", fill("new"), false, "new"},
		{"a failed download leaves nothing", nil, "y.mp3", failing, true, ""},
		{"a failed download keeps the previous file", func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "z.mp3"), "old") }, "z.mp3", failing, true, "old"},
		{"a symbolic link out of the folder is refused", func(t *testing.T, dir string) {
			if err := os.Symlink(outside, filepath.Join(dir, "evil")); err != nil {
				t.Fatal(err)
			}
		}, filepath.Join("evil", "x.mp3"), fill("mp3"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			d, err := openLocalDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			path, _, err := d.write(tt.rel, tt.fill)
			if (err != nil) != tt.wantErr {
				t.Fatalf("write(%q) = %q, %v; want error %v", tt.rel, path, err, tt.wantErr)
			}
			if err == nil && path != filepath.Join(dir, tt.rel) {
				t.Errorf("path = %q, want %q", path, filepath.Join(dir, tt.rel))
			}
			got, rerr := os.ReadFile(filepath.Join(dir, tt.rel))
			switch {
			case tt.want == "" && rerr == nil:
				t.Errorf("%s exists with %q, want no file", tt.rel, got)
			case tt.want != "" && string(got) != tt.want:
				t.Errorf("%s = %q, %v; want %q", tt.rel, got, rerr, tt.want)
			}
			assertNoTempFiles(t, dir)
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Errorf("wrote outside the folder: %v", entries)
			}
		})
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.Contains(e.Name(), ".part-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
