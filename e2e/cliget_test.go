package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/media"
)

// TestCLIGet: files submitted with the CLI (the MP4s stored as video/mp4)
// become MP3s stored as audio/mpeg that keep the MP4's title, artist and
// album but not its container brand tags; `ffbatch get` writes every MP3
// and log blob to a folder byte for byte under its blob name, finds files
// by input or output name, and answers an unknown name as unknown; a
// successful task's log shows ffmpeg's input duration and summary.
func TestCLIGet(t *testing.T) {
	p := startPipeline(t, nil)
	state := p.stack.Dir
	if err := localstack.SaveEndpoints(state, p.ep); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	tagged, plain := filepath.Join(work, "one.mp4"), filepath.Join(work, "two.mp4")
	mustWriteFile(t, tagged, sample(t, "tagged.mp4"))
	mustWriteFile(t, plain, sample(t, "tone2s.mp4"))
	const one, two = "album/disc 1/one.mp4", "two.mp4"
	cliOK(t, state, "submit", tagged, "--name", one) // the flag after the file
	cliOK(t, state, "submit", plain)
	cliOK(t, state, "watch", "-interval", "100ms", one, two)

	t.Run("content types", func(t *testing.T) {
		for _, c := range []struct{ container, blob, want string }{
			{p.ep.InputContainer, one, "video/mp4"},
			{p.ep.InputContainer, two, "video/mp4"},
			{p.ep.OutputContainer, "album/disc 1/one.mp3", "audio/mpeg"},
			{p.ep.OutputContainer, "two.mp3", "audio/mpeg"},
		} {
			if got := p.contentType(c.container, c.blob); got != c.want {
				t.Errorf("%s/%s: Content-Type %q, want %q", c.container, c.blob, got, c.want)
			}
		}
	})

	out := filepath.Join(t.TempDir(), "out")
	stdout := cliOK(t, state, "get", "--all", "--logs", "-o", out)
	if !strings.Contains(stdout, "2 MP3(s) in "+out) {
		t.Errorf("get --all output:\n%s", stdout)
	}
	t.Run("files equal the blobs", func(t *testing.T) {
		blobs := p.blobNames(p.ep.OutputContainer)
		if onDisk := filesUnder(t, out); !slices.Equal(onDisk, blobs) {
			t.Fatalf("files under %s = %q, want the output container's blobs %q", out, onDisk, blobs)
		}
		if logs := slices.DeleteFunc(slices.Clone(blobs), func(n string) bool { return !strings.HasSuffix(n, "/stderr.txt") }); len(logs) != 2 {
			t.Errorf("stderr.txt logs = %q, want one per task (2)", logs)
		}
		for _, name := range blobs {
			got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			if want := p.download(p.ep.OutputContainer, name); !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes on disk differ from the blob's %d", name, len(got), len(want))
			}
			if strings.HasSuffix(name, "/stderr.txt") {
				checkSuccessLog(t, name, string(got))
			}
		}
	})

	t.Run("tags", func(t *testing.T) {
		info, err := media.Probe(p.ctx(), filepath.Join(out, "album", "disc 1", "one.mp3"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"title": "Episode 1: Tags", "artist": "The Artist", "album": "The Album"}
		for k, v := range want {
			if info.Tags[k] != v {
				t.Errorf("MP3 tag %s = %q, want %q (tags %v)", k, info.Tags[k], v, info.Tags)
			}
		}
		for _, k := range []string{"major_brand", "minor_version", "compatible_brands"} {
			if v, ok := info.Tags[k]; ok {
				t.Errorf("MP3 carries the MP4 container tag %s=%q", k, v)
			}
		}
	})

	t.Run("by name", func(t *testing.T) {
		tests := []struct {
			name     string
			args     []string
			wantCode int
			wantFile string
			wantErr  string
		}{
			{"input name", []string{one}, 0, filepath.Join("album", "disc 1", "one.mp3"), ""},
			{"output name, flags after it", []string{"two.mp3", "--logs"}, 0, "two.mp3", ""},
			{"unknown name", []string{"nothere.mp4"}, 1, "", `nothere.mp4: unknown: no blob "nothere.mp4" in the input container`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				code, stdout, stderr := ffbatch(t, state, append([]string{"get", "-o", dir}, tt.args...)...)
				if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
					t.Fatalf("get %q: exit %d, stderr %q; want exit %d and %q\n%s", tt.args, code, stderr, tt.wantCode, tt.wantErr, stdout)
				}
				if tt.wantFile == "" {
					if files := filesUnder(t, dir); len(files) != 0 {
						t.Errorf("get %q wrote %q", tt.args, files)
					}
					return
				}
				if _, err := os.Stat(filepath.Join(dir, tt.wantFile)); err != nil {
					t.Errorf("get %q: %v\n%s", tt.args, err, stdout)
				}
			})
		}
	})
}

// checkSuccessLog checks that a successful task's stderr.txt is useful:
// the input's duration and ffmpeg's final summary with the output's.
func checkSuccessLog(t *testing.T, name, log string) {
	t.Helper()
	for _, want := range []string{"Duration: 00:00:02", "Stream mapping:", "size=", "time=00:00:0", "bitrate="} {
		if !strings.Contains(log, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, log)
		}
	}
}

// cliOK runs the CLI and fails the test unless it exits 0; it returns
// stdout.
func cliOK(t *testing.T, state string, args ...string) string {
	t.Helper()
	code, stdout, stderr := ffbatch(t, state, args...)
	if code != 0 {
		t.Fatalf("ffbatch %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	return stdout
}

func mustWriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// filesUnder lists the regular files below dir as sorted slash paths.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
