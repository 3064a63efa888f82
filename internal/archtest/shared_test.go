package archtest

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// emulatorMayImport lists every package outside emulators/ that an
// emulator package may import (in code or tests), with the record that
// says why. Anything else from this module is refused, so sharing code
// between the product and an emulator is a written decision, not an
// accident.
var emulatorMayImport = map[string]string{
	"internal/dotnettime":          "docs/decisions/0100-codec-dotnettime.md: the .NET time formats, a neutral codec",
	"internal/ncrontab":            "docs/decisions/0066-shared-ncrontab-parser.md: the same third-party NCRONTAB parser",
	"internal/localtoken":          "docs/decisions/0101-closed-local-stack.md: the local token issuer's token format, which tests sign and the emulators verify",
	"internal/azurite":             "the local stack's Azurite process, which funchost's blob watcher reads",
	"internal/azurite/azuritetest": "tests start Azurite with it",
	"internal/media":               "tests generate sample MP4 files with it",
	"internal/syncbuf":             "tests collect concurrent output in it (a goroutine-safe buffer that imports nothing from the module)",
}

// neutralCodecs are shared with the emulators because they encode a
// format both sides must read exactly as the service does. They import
// nothing from this module, so sharing them shares no client or wire
// types.
var neutralCodecs = []string{"internal/dotnettime", "internal/ncrontab", "internal/localtoken"}

// TestEmulatorsImportOnlyListedPackages checks emulatorMayImport.
func TestEmulatorsImportOnlyListedPackages(t *testing.T) {
	var checked int
	for _, p := range listPackages(t) {
		if !under(p.ImportPath, "emulators") {
			continue
		}
		checked++
		for _, d := range append(append(append([]string{}, p.Imports...), p.TestImports...), p.XTestImports...) {
			rel, ok := strings.CutPrefix(d, module+"/")
			if !ok || under(d, "emulators") {
				continue
			}
			if _, allowed := emulatorMayImport[rel]; !allowed {
				t.Errorf("emulator package %s imports %s; emulators may import only %v from outside emulators/ (add a decision record and an entry to emulatorMayImport if it is truly neutral)",
					p.ImportPath, d, slices.Sorted(maps.Keys(emulatorMayImport)))
			}
		}
	}
	if checked == 0 {
		t.Fatal("no emulator packages found; is the module layout intact?")
	}
}

// TestNeutralCodecsImportNothingFromTheModule checks neutralCodecs.
func TestNeutralCodecsImportNothingFromTheModule(t *testing.T) {
	found := map[string]bool{}
	for _, p := range listPackages(t) {
		for _, c := range neutralCodecs {
			if p.ImportPath != module+"/"+c {
				continue
			}
			found[c] = true
			for _, d := range p.Imports {
				if strings.HasPrefix(d, module+"/") {
					t.Errorf("neutral codec %s imports %s; it must import nothing from %s", c, d, module)
				}
			}
		}
	}
	for _, c := range neutralCodecs {
		if !found[c] {
			t.Errorf("neutral codec %s not found; update neutralCodecs", c)
		}
	}
}
