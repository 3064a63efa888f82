package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// staleWait is how long Start waits for the processes of a stack whose
// ffbatch was killed to finish exiting (they get SIGTERM from the kernel
// when it dies) before it refuses to start.
const staleWait = 5 * time.Second

// clearStaleRecord deals with a stack.json left in dir, which the caller
// has locked, so its writer is gone. When none of its processes runs any
// more, the file is removed. When some still run after wait, Start refuses
// and names them: a second stack must not start over their data.
func clearStaleRecord(ctx context.Context, dir string, wait time.Duration, log *slog.Logger) error {
	r, err := ReadRecord(dir)
	if errors.Is(err, ErrNoStack) {
		return nil
	}
	if err != nil {
		log.Warn("removing an unreadable stack.json", "error", err)
		return RemoveEndpoints(dir)
	}
	live := waitExited(ctx, r, wait)
	if len(live) > 0 {
		names := make([]string, len(live))
		for i, p := range live {
			names[i] = p.String()
		}
		return fmt.Errorf("state dir %s: processes of an earlier stack still run (%s): stop them with `ffbatch -state %s down`",
			dir, strings.Join(names, ", "), dir)
	}
	log.Warn("removed a stale stack.json: the stack that wrote it is no longer running", "dir", dir, "pid", r.Owner.PID)
	return RemoveEndpoints(dir)
}

// waitExited waits up to d for the record's processes, other than the
// calling process, to exit and returns those still running.
func waitExited(ctx context.Context, r *Record, d time.Duration) []ProcessRef {
	deadline := time.Now().Add(d)
	for {
		var live []ProcessRef
		for _, p := range r.Live() {
			if p.PID != os.Getpid() {
				live = append(live, p)
			}
		}
		if len(live) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return live
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
