package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

// stackFlags are the flags shared by up and run.
type stackFlags struct {
	fresh    bool
	binDir   string
	appDir   string
	settings settingsFlag
	timeout  time.Duration
	ports    localstack.Ports
	free     bool
	sbConfig string
}

func (f *stackFlags) register(fs *flag.FlagSet) {
	f.settings = settingsFlag{}
	fs.BoolVar(&f.fresh, "fresh", false, "delete the data of earlier runs before starting")
	fs.StringVar(&f.binDir, "bin", "", "directory with sbemu, batchemu, funchost and handler (default: next to ffbatch, else built into <state>/bin)")
	fs.StringVar(&f.appDir, "app", "", "deployable function app layout (make dist); default: assembled in <state>/app")
	fs.Var(f.settings, "set", "override an app setting of the generated local.settings.json: KEY=VALUE (repeatable)")
	fs.DurationVar(&f.timeout, "start-timeout", 60*time.Second, "how long each component may take to become healthy")
	fs.StringVar(&f.sbConfig, "sb-config", "", "the Service Bus emulator's entities from this Config.json (the official emulator's format) instead of the built-in ones; `ffbatch results` needs its topic results to have the subscription "+localstack.CLISubscription)
	// The port flags default to 0, which localstack resolves to the default
	// port, or to a free one with --free-ports; a port given explicitly is
	// always used, even with --free-ports.
	d := localstack.DefaultPorts
	port := func(v *int, name string, def int, what string) {
		fs.IntVar(v, name, 0, fmt.Sprintf("%s (0: %d, or a free port with --free-ports)", what, def))
	}
	port(&f.ports.Blob, "blob-port", d.Blob, "Azurite blob port")
	port(&f.ports.AMQP, "amqp-port", d.AMQP, "Service Bus emulator AMQP port")
	port(&f.ports.SBHTTP, "sb-http-port", d.SBHTTP, "Service Bus emulator HTTP port (/health, /entities)")
	port(&f.ports.Batch, "batch-port", d.Batch, "Batch emulator port")
	port(&f.ports.Functions, "functions-port", d.Functions, "Functions host port")
	fs.BoolVar(&f.free, "free-ports", false, "use free ports for the ports not given explicitly, instead of the defaults (other commands find them in <state>/stack.json)")
}

func (f *stackFlags) start(ctx context.Context, e *env, fresh bool) (*localstack.Stack, error) {
	fmt.Fprintln(e.stdout, "Starting the local stack (logs in "+e.stateDir+"/logs)...")
	st, err := localstack.Start(ctx, f.options(e, fresh))
	if errors.Is(err, localstack.ErrUnknownSetting) {
		return nil, fmt.Errorf("%w: --set: %w", errUsage, err)
	}
	if err != nil {
		return nil, err
	}
	if err := st.WriteRecord(); err != nil {
		_ = st.Stop()
		return nil, err
	}
	return st, nil
}

// stopStack stops the stack; Stop also removes its stack.json.
func stopStack(e *env, st *localstack.Stack) error {
	fmt.Fprintln(e.stdout, "Stopping the local stack...")
	return st.Stop()
}

func cmdUp(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "up", "[flags]")
	var sf stackFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	st, err := sf.start(ctx, e, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "The local stack is up:\n%s", st.Endpoints)
	fmt.Fprintf(e.stdout, "Dashboard: %s\n", st.Endpoints.DashboardURL())
	fmt.Fprintf(e.stdout, "\nFor other tools (this stack's own keys, keep them private; `eval \"$(ffbatch%s env)\"` sets them):\n", stateFlag(e))
	printExports(e.stdout, st.Endpoints.Environment())
	fmt.Fprintf(e.stdout, "\nDrop MP4s with `ffbatch submit FILE...` (or upload to the %q container), follow them with `ffbatch watch`.\nPress Ctrl-C to stop.\n", st.Endpoints.InputContainer)
	var runErr error
	select {
	case <-ctx.Done():
	case <-st.Done():
		runErr = fmt.Errorf("a component stopped: %w", st.Err())
	}
	return errors.Join(runErr, stopStack(e, st))
}

// stateFlag is " -state DIR" when the state directory is not the one the
// commands find on their own from the working directory, else "".
func stateFlag(e *env) string {
	if abs, err := filepath.Abs(e.stateDir); err == nil && abs == defaultStateDir() {
		return ""
	}
	return " -state " + shellQuote(e.stateDir)
}

// options returns the localstack options for the flags.
func (f *stackFlags) options(e *env, fresh bool) *localstack.Options {
	return &localstack.Options{
		StateDir: e.stateDir, Fresh: fresh || f.fresh, BinDir: f.binDir, AppDir: f.appDir,
		Settings: f.settings, StartTimeout: f.timeout, Logger: e.log,
		Ports: f.ports, FreePorts: f.free, ServiceBusConfig: f.sbConfig,
	}
}
