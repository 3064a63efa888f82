package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

// env is what every command gets.
type env struct {
	stdout, stderr io.Writer
	stateDir       string
	log            *slog.Logger
	tty            bool // stdout is a terminal: redraw the progress view in place
}

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, e *env, args []string) error
}

var commands = []command{
	{"up", "[flags]", "start the local stack (Azurite, Service Bus, Batch, Functions host) until Ctrl-C", cmdUp},
	{"down", "[flags]", "stop the stack running from this state dir (in another terminal, or left by a killed ffbatch)", cmdDown},
	{"env", "[--json]", "print the stack's connection strings and endpoints as export lines", cmdEnv},
	{"logs", "[-f] [-n N] [SERVICE]", "show (or follow) the services' logs", cmdLogs},
	{"submit", "[flags] FILES...", "upload MP4s to the input container (or --message: send arrival messages)", cmdSubmit},
	{"watch", "[flags] [BLOBS...]", "show live progress: of BLOBS until they are done, else of all work until Ctrl-C", cmdWatch},
	{"status", "[flags] [BLOBS...]", "print the status once: the last hour, the first --limit files and the latest answers (--all: every file; with BLOBS: those and every request of each)", cmdStatus},
	{"get", "[flags] BLOBS...|--all", "download MP3s (and with --logs the task logs) to a local folder", cmdGet},
	{"retry", "FILES...", "send a new request for finished (e.g. failed) files", cmdRetry},
	{"presets", "", "list the presets and their ffmpeg arguments", cmdPresets},
	{"results", "[flags]", "list outputs and failures with reasons from the results topic", cmdResults},
	{"run", "[flags]", "start the stack, transcode 5 generated samples, print a summary, stop the stack", cmdRun},
}

// errUsage marks errors that are answered with the usage text (exit 2).
var errUsage = errors.New("usage")

// Options are the process-level inputs of Main.
type Options struct {
	Stdout, Stderr io.Writer
	// TTY says stdout is a terminal.
	TTY bool
}

// Main runs the command line args (without the program name) and returns
// the process exit code: 0 success, 1 failure, 2 usage error.
func Main(ctx context.Context, args []string, o Options) int {
	fs := flag.NewFlagSet("ffbatch", flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	state := fs.String("state", "", "state directory of the local stack: data, logs, settings, stack.json (default: "+localstack.DefaultStateDir+" at the project root, found from the working directory)")
	verbose := fs.Bool("v", false, "log the stack's progress")
	fs.Usage = func() { usage(o.Stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		usage(o.Stderr, fs)
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	if *state == "" {
		*state = defaultStateDir()
	}
	e := &env{stdout: o.Stdout, stderr: o.Stderr, stateDir: *state, tty: o.TTY,
		log: slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: level}))}
	name, rest := fs.Arg(0), fs.Args()[1:]
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, rest)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errFlags):
			return 2
		case errors.Is(err, errUsage):
			fmt.Fprintf(o.Stderr, "ffbatch %s: %v\n", name, err)
			return 2
		default:
			fmt.Fprintf(o.Stderr, "ffbatch %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(o.Stderr, "ffbatch: unknown command %q\n", name)
	usage(o.Stderr, fs)
	return 2
}

// defaultStateDir is the project's state directory found from the working
// directory (localstack.FindStateDir), or .local when it cannot be read.
func defaultStateDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return localstack.DefaultStateDir
	}
	return localstack.FindStateDir(wd)
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage: ffbatch [-state DIR] [-v] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nRun `ffbatch COMMAND -h` for a command's flags.")
}

// newFlags returns a flag set for a subcommand.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("ffbatch "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: ffbatch %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// settingsFlag collects repeated KEY=VALUE flags.
type settingsFlag map[string]string

func (s settingsFlag) String() string { return fmt.Sprint(len(s)) }
func (s settingsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	s[k] = val
	return nil
}
