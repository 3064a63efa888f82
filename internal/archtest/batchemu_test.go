package archtest

import (
	"slices"
	"strings"
	"testing"
)

// batchemuLayers lists, for every package of the Batch emulator, the other
// emulator packages it may import (its own tests included). The emulator is
// split the way Azurite splits a service: the root package is the server
// (public API, routes, handlers, the scheduler loop) and may use every internal
// package; below it each package has one job and depends only downwards:
//
//	wire      JSON wire types, timestamps, durations, states (leaf)
//	wireerr   every wire error (uses wire; autoscale for the formula errors)
//	auth      request authentication (uses wireerr)
//	store     state and its persistence (uses wire)
//	taskrun   task → process spec, attempt outcomes (uses wire, store, executor)
//	placement scheduling decisions: task order, node choice (uses wire, store)
//	executor, odata, autoscale: self-contained engines (leaves)
//
// A new package must be added here, which makes its place in the layering
// a decision someone writes down.
var batchemuLayers = map[string][]string{
	"emulators/batchemu": {"internal/auth", "internal/autoscale", "internal/executor", "internal/odata",
		"internal/placement", "internal/store", "internal/taskrun", "internal/wire", "internal/wireerr"},
	"emulators/batchemu/clientcompat":       {""},
	"emulators/batchemu/internal/wire":      {},
	"emulators/batchemu/internal/wireerr":   {"internal/autoscale", "internal/wire"},
	"emulators/batchemu/internal/auth":      {"internal/wireerr"},
	"emulators/batchemu/internal/store":     {"internal/wire"},
	"emulators/batchemu/internal/taskrun":   {"internal/executor", "internal/store", "internal/wire"},
	"emulators/batchemu/internal/placement": {"internal/store", "internal/wire"},
	"emulators/batchemu/internal/executor":  {},
	"emulators/batchemu/internal/odata":     {},
	"emulators/batchemu/internal/autoscale": {},
}

// TestBatchEmulatorLayers checks the imports between the Batch emulator's
// packages against batchemuLayers ("" stands for the root package).
func TestBatchEmulatorLayers(t *testing.T) {
	const root = module + "/emulators/batchemu"
	seen := map[string]bool{}
	for _, p := range listPackages(t) {
		if !under(p.ImportPath, "emulators/batchemu") {
			continue
		}
		name := strings.TrimPrefix(p.ImportPath, module+"/")
		seen[name] = true
		allowed, ok := batchemuLayers[name]
		if !ok {
			t.Errorf("package %s is not in batchemuLayers: add it with the emulator packages it may import", name)
			continue
		}
		all := append(append(append([]string{}, p.Imports...), p.TestImports...), p.XTestImports...)
		for _, d := range all {
			if d == p.ImportPath || (d != root && !strings.HasPrefix(d, root+"/")) {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(d, root), "/")
			if !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s; its layer allows only %q", name, d, allowed)
			}
		}
	}
	for name := range batchemuLayers {
		if !seen[name] {
			t.Errorf("batchemuLayers lists %s, which does not exist any more", name)
		}
	}
}
