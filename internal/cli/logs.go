package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

// handlerPrefix begins the custom handler's own output lines in
// funchost.log (funchost.HandlerOutputPrefix; the CLI does not import the
// emulators).
const handlerPrefix = "[handler] "

// logServices are the services logs knows, in the order it shows them.
var logServices = []string{localstack.Azurite, localstack.ServiceBus, localstack.Batch, localstack.Functions, "handler"}

// logSource returns the log file of a service. "handler" is the
// handler's lines of funchost.log, without their prefix.
func logSource(logDir, service string) *logFile {
	if service == "handler" {
		return &logFile{path: filepath.Join(logDir, localstack.Functions+".log"), keep: func(l string) (string, bool) {
			return strings.CutPrefix(l, handlerPrefix)
		}}
	}
	return &logFile{path: filepath.Join(logDir, service+".log")}
}

func cmdLogs(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "logs", "[-f] [-n N] [SERVICE]  (SERVICE: "+strings.Join(logServices, ", ")+"; default: all but handler, whose lines are in funchost's)")
	follow := fs.Bool("f", false, "follow: keep printing new lines until Ctrl-C")
	lines := fs.Int("n", 100, "show the last N lines of each log first (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) > 1 {
		return fmt.Errorf("%w: one service at most, got %q", errUsage, rest)
	}
	logDir := filepath.Join(e.stateDir, "logs")
	if _, err := os.Stat(logDir); err != nil {
		return fmt.Errorf("no logs in %s (start the stack with `ffbatch up`): %w", logDir, err)
	}
	var files []*logFile
	if len(rest) == 1 {
		f, err := serviceLog(logDir, rest[0])
		if err != nil {
			return err
		}
		files = append(files, f)
	} else {
		for _, s := range logServices[:4] {
			f := logSource(logDir, s)
			f.prefix = fmt.Sprintf("%-8s | ", s)
			files = append(files, f)
		}
	}
	return showLogs(ctx, e.stdout, files, *lines, *follow, 250*time.Millisecond)
}

// serviceLog is the log of one named service, or a usage error.
func serviceLog(logDir, name string) (*logFile, error) {
	for _, s := range logServices {
		if s == name {
			return logSource(logDir, s), nil
		}
	}
	return nil, fmt.Errorf("%w: unknown service %q (want one of %s)", errUsage, name, strings.Join(logServices, ", "))
}
