package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/syncbuf"
)

func TestLogFileLast(t *testing.T) {
	content := "---- start\nhost line 1\n[handler] h1\nhost line 2\n[handler] h2\n[handler] h3\npartial"
	tests := []struct {
		name    string
		service string
		n       int
		want    []string
	}{
		{"all lines", "funchost", 0, []string{"---- start", "host line 1", "[handler] h1", "host line 2", "[handler] h2", "[handler] h3"}},
		{"last two", "funchost", 2, []string{"[handler] h2", "[handler] h3"}},
		{"handler lines without their prefix", "handler", 0, []string{"h1", "h2", "h3"}},
		{"last handler line", "handler", 1, []string{"h3"}},
		{"more asked than there are", "handler", 10, []string{"h1", "h2", "h3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "funchost.log"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := logSource(dir, tt.service).last(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("last(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestLogFileFollows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sbemu.log")
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := io.WriteString(f, s); err != nil {
			t.Fatal(err)
		}
	}
	f := logSource(dir, "sbemu")
	read := func() []string {
		var got []string
		if err := f.read(func(l string) { got = append(got, l) }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		name  string
		do    func()
		wants []string
	}{
		{"missing file", func() {}, nil},
		{"first lines", func() { appendTo("a\nb") }, []string{"a"}},
		{"line completed", func() { appendTo("c\r\nd\n") }, []string{"bc", "d"}},
		{"nothing new", func() {}, nil},
		{"file replaced", func() {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			appendTo("new\n")
		}, []string{"new"}},
		{"file truncated", func() {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			appendTo("x\n")
		}, []string{"x"}},
	}
	for _, s := range steps {
		s.do()
		if got := read(); !slices.Equal(got, s.wants) {
			t.Errorf("%s: read %q, want %q", s.name, got, s.wants)
		}
	}
}

func TestShowLogsPrefixesAndFollows(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"sbemu.log": "s1\ns2\n", "batchemu.log": "b1\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := []*logFile{logSource(dir, "sbemu"), logSource(dir, "batchemu")}
	files[0].prefix, files[1].prefix = "sbemu | ", "batchemu | "
	ctx, cancel := context.WithCancel(context.Background())
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- showLogs(ctx, &out, files, 1, true, 10*time.Millisecond) }()
	waitForOutput(t, &out, "batchemu | b1\n")
	f, err := os.OpenFile(filepath.Join(dir, "sbemu.log"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(f, "s3\n")
	f.Close()
	waitForOutput(t, &out, "sbemu | s3\n")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("showLogs: %v", err)
	}
	if got, want := out.String(), "sbemu | s2\nbatchemu | b1\nsbemu | s3\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func waitForOutput(t *testing.T, out *syncbuf.Buffer, want string) {
	t.Helper()
	for range 500 {
		if strings.Contains(out.String(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("output %q never contained %q", out.String(), want)
}

func TestParseWithFlagsAnywhere(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantRest   []string
		wantFollow bool
		wantN      int
	}{
		{"flags first", []string{"-f", "-n", "5", "funchost"}, []string{"funchost"}, true, 5},
		{"flags after the service", []string{"funchost", "-f", "-n", "7"}, []string{"funchost"}, true, 7},
		{"mixed", []string{"-n", "2", "sbemu", "-f"}, []string{"sbemu"}, true, 2},
		{"no positional", []string{"-f"}, nil, true, 100},
		{"two positionals", []string{"a", "b"}, []string{"a", "b"}, false, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("logs", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			follow := fs.Bool("f", false, "")
			n := fs.Int("n", 100, "")
			if err := parseFlags(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			rest := fs.Args()
			if !slices.Equal(rest, tt.wantRest) || *follow != tt.wantFollow || *n != tt.wantN {
				t.Errorf("parse %q: rest %q f=%v n=%d; want %q %v %d", tt.args, rest, *follow, *n, tt.wantRest, tt.wantFollow, tt.wantN)
			}
		})
	}
}
