package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// defaultPresetSetting is the app setting that names the default preset.
const defaultPresetSetting = "FFBATCH_DEFAULT_PRESET"

func cmdPresets(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "presets", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	def, source := defaultPreset(e.stateDir)
	printPresets(e.stdout, def, source)
	return nil
}

// defaultPreset is the preset requests get when they name none, and where
// that comes from: the settings of the local stack in stateDir, else the
// built-in default.
func defaultPreset(stateDir string) (name, source string) {
	if v, err := localstack.ReadSettings(stateDir); err == nil && v[defaultPresetSetting] != "" {
		return v[defaultPresetSetting], defaultPresetSetting + " of the local stack in " + stateDir
	}
	return plan.DefaultPresetName, "built in; " + defaultPresetSetting + " changes it"
}

// printPresets lists every preset with its ffmpeg encoder arguments and
// marks the default.
func printPresets(w io.Writer, def, source string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRESET\tDEFAULT\tDESCRIPTION\tFFMPEG ENCODER ARGUMENTS")
	for _, name := range plan.PresetNames() {
		p, _ := plan.LookupPreset(name)
		mark := ""
		if name == def {
			mark = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, mark, p.Description, strings.Join(p.Args, " "))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nDefault: %s (%s).\n", def, source)
	cmd := plan.CommandLine(plan.Preset{Args: []string{"<ENCODER ARGUMENTS>"}})
	fmt.Fprintf(w, "Each task runs (a fixed script; no file name is in it): %s\n", cmd)
	fmt.Fprintln(w, "Pick one per request with `ffbatch submit --message --preset NAME BLOB` or the arrival's \"preset\" field.")
}
