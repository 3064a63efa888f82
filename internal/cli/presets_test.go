package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/plan"
)

func TestPresets(t *testing.T) {
	withSettings := t.TempDir()
	if err := os.WriteFile(filepath.Join(withSettings, "local.settings.json"), []byte(`{"Values":{"FFBATCH_DEFAULT_PRESET":"mp3-v2-vbr"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		stateDir   string
		wantDef    string
		wantSource string
	}{
		{"built-in default", t.TempDir(), plan.DefaultPresetName, "built in"},
		{"the local stack's setting", withSettings, "mp3-v2-vbr", "FFBATCH_DEFAULT_PRESET of the local stack in " + withSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, source := defaultPreset(tt.stateDir)
			if def != tt.wantDef || !strings.Contains(source, tt.wantSource) {
				t.Fatalf("defaultPreset = %q (%s), want %q (%s)", def, source, tt.wantDef, tt.wantSource)
			}
			var b bytes.Buffer
			printPresets(&b, def, source)
			out := b.String()
			for _, name := range plan.PresetNames() {
				p, _ := plan.LookupPreset(name)
				mark := ""
				if name == tt.wantDef {
					mark = "yes"
				}
				row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +` + mark + ` *` + regexp.QuoteMeta(p.Description) + ` +` + regexp.QuoteMeta(strings.Join(p.Args, " ")) + `$`)
				if !row.MatchString(out) {
					t.Errorf("no row for %s (default %q):\n%s", name, mark, out)
				}
			}
			if !strings.Contains(out, "Default: "+tt.wantDef) || !strings.Contains(out, "-i input.mp4 <ENCODER ARGUMENTS>") {
				t.Errorf("presets output lacks the default or the command line:\n%s", out)
			}
		})
	}
}
