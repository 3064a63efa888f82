package pipeline

import (
	"context"
	"os/exec"
)

// cliCommand runs the built CLI against the stack in state. The command
// dies with the benchmark: killing a long benchmark (a 10,000-file run)
// left its `ffbatch watch` running, reparented to init.
func cliCommand(ctx context.Context, cli, state string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, cli, append([]string{"-state", state}, args...)...)
	cmd.SysProcAttr = dieWithParent()
	return cmd
}
