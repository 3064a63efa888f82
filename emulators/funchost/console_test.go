package funchost

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/syncbuf"
)

func TestHandlerOutputWrittenThrough(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
	logs := newLogCapture()
	opts := testOptions(a, logs)
	var out syncbuf.Buffer
	opts.HandlerOutput = &out
	startHost(t, opts)
	want := []string{"[handler] fakehandler starting\n", "[handler] warning: this is a fake handler\n"}
	waitFor(t, "the handler's lines in HandlerOutput", 5*time.Second, func() bool {
		return strings.Contains(out.String(), want[0]) && strings.Contains(out.String(), want[1])
	})
	if got := logs.find("fakehandler starting"); len(got) != 0 {
		t.Errorf("handler line also logged through Logger: %q", got)
	}
}

func TestStartErrorQuotesHandlerStderr(t *testing.T) {
	tests := []struct {
		name   string
		output bool // HandlerOutput set (else the lines go to Logger)
	}{
		{"with HandlerOutput", true},
		{"logged", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, basicHostJSON, map[string]string{"Tick": timerFunction}, nil)
			a.setConfig(t, `{"startExitTimes": 5, "startExitCode": 1}`)
			opts := testOptions(a, newLogCapture())
			opts.WorkerErrorLimit = 2
			if tt.output {
				opts.HandlerOutput = &syncbuf.Buffer{}
			}
			h, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			err = h.Start(context.Background())
			if !errors.Is(err, ErrWorkerFailed) {
				t.Fatalf("Start error = %v, want ErrWorkerFailed", err)
			}
			want := "its stderr ended with: warning: this is a fake handler | fakehandler: exiting at start as configured"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Start error = %q, want it to quote the handler's stderr %q", err, want)
			}
		})
	}
}

func TestConsoleSplitsLines(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
		tail   string
	}{
		{"one write per line", []string{"a\n", "b\n"}, "[handler] a\n[handler] b\n", "; its stderr ended with: a | b"},
		{"lines split across writes", []string{"he", "llo\nwor", "ld\n"}, "[handler] hello\n[handler] world\n", "; its stderr ended with: hello | world"},
		{"CRLF and empty lines", []string{"x\r\n\n\ny\n"}, "[handler] x\n[handler] y\n", "; its stderr ended with: x | y"},
		{"unfinished line kept", []string{"done\npartial"}, "[handler] done\n", "; its stderr ended with: done"},
		{"nothing", nil, "", ""},
		{"only the last lines in the tail", []string{"1\n2\n3\n4\n5\n6\n7\n"}, "[handler] 1\n[handler] 2\n[handler] 3\n[handler] 4\n[handler] 5\n[handler] 6\n[handler] 7\n",
			"; its stderr ended with: 3 | 4 | 5 | 6 | 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tail := &lineTail{n: tailLines}
			c := &console{sink: &sink{out: &out}, stderr: true, tail: tail}
			for _, w := range tt.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output = %q, want %q", got, tt.want)
			}
			if got := tail.suffix(); got != tt.tail {
				t.Errorf("tail = %q, want %q", got, tt.tail)
			}
		})
	}
}
