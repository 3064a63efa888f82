package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

func cmdEnv(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "env", "[--json]")
	asJSON := fs.Bool("json", false, "print one JSON object (name: value) instead of export lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	ep, err := localstack.LoadEndpoints(e.stateDir)
	if err != nil {
		return err
	}
	vars := ep.Environment()
	if *asJSON {
		return printEnvJSON(e.stdout, vars)
	}
	printExports(e.stdout, vars)
	return nil
}

// printExports writes one `export NAME=value` line per variable, quoted
// for a POSIX shell.
func printExports(w io.Writer, vars []localstack.EnvVar) {
	for _, v := range vars {
		fmt.Fprintf(w, "export %s=%s\n", v.Name, shellQuote(v.Value))
	}
}

// printEnvJSON writes the variables as one JSON object, in their order.
func printEnvJSON(w io.Writer, vars []localstack.EnvVar) error {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, v := range vars {
		name, _ := json.Marshal(v.Name)
		value, _ := json.Marshal(v.Value)
		sep := ","
		if i == len(vars)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s: %s%s\n", name, value, sep)
	}
	b.WriteString("}\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("print environment: %w", err)
	}
	return nil
}

// shellQuote quotes s for a POSIX shell: as it is when every byte is safe
// unquoted, else in single quotes, where a single quote of s ends the
// quoting, appears escaped, and the quoting starts again.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
