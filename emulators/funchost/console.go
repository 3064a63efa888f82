package funchost

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// HandlerOutputPrefix begins each of the handler's own output lines in
// Options.HandlerOutput, so they can be told from the host's log lines
// (ffbatch logs handler filters on it).
const HandlerOutputPrefix = "[handler] "

// maxLogLine bounds a line: longer output without a newline is passed on
// in pieces.
const maxLogLine = 64 << 10

// tailLines is how many of the handler's last stderr lines an exit error
// quotes.
const tailLines = 5

// sink is where the handler's output lines go: written through unchanged
// after HandlerOutputPrefix when out is set, otherwise logged as the real
// host logs worker output (category Host.Function.Console: stdout at
// Information, stderr at Error, or Warning when the line mentions "warn").
// mu serialises whole lines from the handler's two streams onto out.
type sink struct {
	out io.Writer
	log *slog.Logger
	mu  sync.Mutex
}

func (s *sink) line(line string, stderr bool) {
	if s.out != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, _ = io.WriteString(s.out, HandlerOutputPrefix+line+"\n")
		return
	}
	attrs := []any{slog.String("category", "Host.Function.Console")}
	switch {
	case !stderr:
		s.log.Info(line, attrs...)
	case strings.Contains(strings.ToLower(line), "warn"):
		s.log.Warn(line, attrs...)
	default:
		s.log.Error(line, attrs...)
	}
}

// console is one output stream of one handler process, split into lines
// for the sink. The stderr console also keeps the last lines in tail.
type console struct {
	sink   *sink
	stderr bool
	tail   *lineTail // nil for stdout

	mu  sync.Mutex // guards buf
	buf []byte
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			if len(c.buf) > maxLogLine {
				c.emit(string(c.buf))
				c.buf = c.buf[:0]
			}
			return len(p), nil
		}
		c.emit(strings.TrimRight(string(c.buf[:i]), "\r"))
		c.buf = c.buf[i+1:]
	}
}

func (c *console) emit(line string) {
	if line == "" {
		return
	}
	c.sink.line(line, c.stderr)
	if c.tail != nil {
		c.tail.add(line)
	}
}

// lineTail keeps the last n lines written to it.
type lineTail struct {
	n     int
	mu    sync.Mutex // guards lines
	lines []string
}

func (t *lineTail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// suffix is "; its stderr ended with: ..." for an error about the
// process, or "" when it wrote nothing to stderr.
func (t *lineTail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return ""
	}
	return "; its stderr ended with: " + strings.Join(t.lines, " | ")
}
