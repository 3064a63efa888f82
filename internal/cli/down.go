package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

func cmdDown(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "down", "[flags]")
	timeout := fs.Duration("timeout", time.Minute, "how long the running ffbatch gets to stop its stack before it is killed")
	grace := fs.Duration("grace", 10*time.Second, "how long leftover processes get after SIGTERM before SIGKILL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	rep, err := localstack.Down(ctx, e.stateDir, &localstack.DownOptions{OwnerTimeout: *timeout, Grace: *grace})
	if rep != nil {
		reportDown(e.stdout, e.stateDir, rep)
	}
	return err
}

// reportDown says what Down did, one line per action.
func reportDown(w io.Writer, dir string, rep *localstack.DownReport) {
	if rep.Owner != nil {
		how := "stopped"
		if rep.OwnerKilled {
			how = "killed (it did not stop in time)"
		}
		fmt.Fprintf(w, "The stack run by %s was %s.\n", rep.Owner, how)
	}
	if len(rep.Stopped) > 0 {
		fmt.Fprintf(w, "Stopped processes left behind: %s.\n", refs(rep.Stopped))
	}
	if len(rep.Killed) > 0 {
		fmt.Fprintf(w, "Killed after SIGTERM was not enough: %s.\n", refs(rep.Killed))
	}
	if rep.RemovedRecord && rep.Owner == nil {
		fmt.Fprintf(w, "Removed the stale %s/stack.json.\n", dir)
	}
	if rep.Owner == nil && len(rep.Stopped) == 0 && !rep.RemovedRecord {
		fmt.Fprintf(w, "No stack was running in %s.\n", dir)
	}
}

func refs(ps []localstack.ProcessRef) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
