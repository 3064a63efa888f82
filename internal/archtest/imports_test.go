package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ffbatch/ffbatch"

type listedPackage struct {
	ImportPath   string
	Deps         []string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(out)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list returned no packages")
	}
	return pkgs
}

func under(path, prefix string) bool {
	return path == module+"/"+prefix || strings.HasPrefix(path, module+"/"+prefix+"/")
}

// TestImportRules checks the rules written in docs/architecture.md:
//   - production code (cmd/handler, handlers, internal) never depends on emulators;
//   - emulators never import the production client packages (internal/batch, handlers),
//     not even in tests, so a wire mismatch shows up as a failing conformance test.
func TestImportRules(t *testing.T) {
	var checked int
	for _, p := range listPackages(t) {
		production := under(p.ImportPath, "cmd/handler") || under(p.ImportPath, "handlers") ||
			(under(p.ImportPath, "internal") && !under(p.ImportPath, "internal/archtest"))
		if production {
			checked++
			for _, d := range p.Deps {
				if under(d, "emulators") {
					t.Errorf("%s depends on emulator package %s; production code must not", p.ImportPath, d)
				}
			}
		}
		if under(p.ImportPath, "emulators") {
			checked++
			all := append(append(append([]string{}, p.Imports...), p.TestImports...), p.XTestImports...)
			for _, d := range all {
				if under(d, "internal/batch") || under(d, "handlers") || under(d, "internal/customhandler") {
					t.Errorf("emulator package %s imports production package %s; emulators keep their own wire types", p.ImportPath, d)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no production or emulator packages were checked; is the module layout intact?")
	}
}
