package cli

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlagsInterleaved(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantNames []string
		wantName  string // --name
		wantMsg   bool   // --message
		wantOut   string // -o
		wantErr   error
	}{
		{"flags first", []string{"--name", "x.mp4", "a.mp4"}, []string{"a.mp4"}, "x.mp4", false, "", nil},
		{"flag after the name", []string{"a.mp4", "--name", "x.mp4"}, []string{"a.mp4"}, "x.mp4", false, "", nil},
		{"flags between names", []string{"a.mp4", "-o", "dir", "b.mp4", "--message", "c.mp4"}, []string{"a.mp4", "b.mp4", "c.mp4"}, "", true, "dir", nil},
		{"value with =", []string{"a.mp4", "--name=x y.mp4"}, []string{"a.mp4"}, "x y.mp4", false, "", nil},
		{"bool does not take the next name", []string{"--message", "a.mp4"}, []string{"a.mp4"}, "", true, "", nil},
		{"bool with =false", []string{"a.mp4", "--message=false"}, []string{"a.mp4"}, "", false, "", nil},
		{"value that looks like a flag", []string{"--name", "-odd.mp4", "a.mp4"}, []string{"a.mp4"}, "-odd.mp4", false, "", nil},
		{"double dash ends the flags", []string{"a.mp4", "--", "--name", "-b.mp4"}, []string{"a.mp4", "--name", "-b.mp4"}, "", false, "", nil},
		{"a lone dash is a name", []string{"-", "--message"}, []string{"-"}, "", true, "", nil},
		{"no arguments", nil, nil, "", false, "", nil},
		{"unknown flag after a name", []string{"a.mp4", "--nope"}, nil, "", false, "", errFlags},
		{"missing value at the end", []string{"a.mp4", "--name"}, nil, "", false, "", errFlags},
		{"help after a name", []string{"a.mp4", "-h"}, nil, "", false, "", flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			name := fs.String("name", "", "")
			msg := fs.Bool("message", false, "")
			out := fs.String("o", "", "")
			fs.Duration("interval", time.Second, "")
			err := parseFlags(fs, tt.args)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("parseFlags(%q) error = %v, want %v", tt.args, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := fs.Args(); !slices.Equal(got, tt.wantNames) && !(len(got) == 0 && len(tt.wantNames) == 0) {
				t.Errorf("names = %q, want %q", got, tt.wantNames)
			}
			if *name != tt.wantName || *msg != tt.wantMsg || *out != tt.wantOut {
				t.Errorf("--name=%q --message=%v -o=%q, want %q %v %q", *name, *msg, *out, tt.wantName, tt.wantMsg, tt.wantOut)
			}
		})
	}
}
