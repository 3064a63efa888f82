package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanUploads(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, notes, song := write("a.mp4"), write("notes.txt"), write("song.MP3")
	tests := []struct {
		name      string
		files     []string
		blobName  string
		wantBlobs []string
		wantErr   []string
	}{
		{"an mp4", []string{good}, "", []string{"a.mp4"}, nil},
		{"a non-mp4 is uploaded (and answered ignored)", []string{notes}, "", []string{"notes.txt"}, nil},
		{"--name", []string{good}, "x/y.mp4", []string{"x/y.mp4"}, nil},
		{"an mp3 is refused", []string{good, song}, "", nil, []string{"nothing uploaded", "song.MP3 is an MP3, an output name"}},
		{"--name of an mp3 is refused", []string{good}, "out.mp3", nil, []string{"out.mp3 is an MP3"}},
		{"a missing file uploads nothing", []string{good, filepath.Join(dir, "missing.mp4")}, "", nil, []string{"nothing uploaded", "missing.mp4"}},
		{"a directory uploads nothing", []string{dir + string(filepath.Separator) + "."}, "x.mp4", nil, []string{"not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ups, err := planUploads(tt.files, tt.blobName)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("planUploads = %+v, want an error", ups)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range ups {
				got = append(got, u.blob)
				if u.size != 4 {
					t.Errorf("%s: size %d, want 4", u.blob, u.size)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantBlobs, ",") {
				t.Errorf("blobs = %q, want %q", got, tt.wantBlobs)
			}
		})
	}
}
