package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// logFile is one log being shown: where it is, which lines of it, how they
// are prefixed, and how far it has been read.
type logFile struct {
	path   string
	keep   func(line string) (string, bool) // nil: every line as it is
	prefix string

	offset  int64  // bytes read so far
	partial []byte // read bytes after the last newline
	ino     uint64 // to notice a file deleted and written anew
}

// read passes every line completed since the last read to emit. A file
// that shrank or was replaced is read again from its start; a missing one
// has no lines.
func (f *logFile) read(emit func(string)) error {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	if ino := inode(st); ino != f.ino || st.Size() < f.offset {
		f.ino, f.offset, f.partial = ino, 0, nil
	}
	if _, err := fh.Seek(f.offset, io.SeekStart); err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := fh.Read(buf)
		f.offset += int64(n)
		f.split(buf[:n], emit)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read log %s: %w", f.path, err)
		}
	}
}

// split emits the complete lines of partial+b that keep accepts and keeps
// the rest in partial.
func (f *logFile) split(b []byte, emit func(string)) {
	data := append(f.partial, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(data[:i]), "\r")
		data = data[i+1:]
		if f.keep == nil {
			emit(line)
		} else if l, ok := f.keep(line); ok {
			emit(l)
		}
	}
	f.partial = append([]byte(nil), data...)
}

func inode(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}

// last returns the last n kept lines (all with n <= 0), reading the file
// to its end.
func (f *logFile) last(n int) ([]string, error) {
	var lines []string
	err := f.read(func(l string) {
		lines = append(lines, l)
		if n > 0 && len(lines) >= 2*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	})
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, err
}

// showLogs prints the last n lines of each file, then, with follow,
// every new line until ctx ends, checking every interval.
func showLogs(ctx context.Context, w io.Writer, files []*logFile, n int, follow bool, interval time.Duration) error {
	for _, f := range files {
		lines, err := f.last(n)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Fprintln(w, f.prefix+l)
		}
	}
	if !follow {
		return nil
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, f := range files {
			if err := f.read(func(l string) { fmt.Fprintln(w, f.prefix+l) }); err != nil {
				return err
			}
		}
	}
}
