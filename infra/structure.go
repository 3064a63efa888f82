package infra

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Problem is one finding, named by file and, where it applies, by setting,
// parameter or resource.
type Problem struct {
	File    string
	Subject string
	Msg     string
}

func (p Problem) String() string {
	if p.Subject == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Subject + ": " + p.Msg
}

// checkedAPIVersions lists, per resource type, the API versions whose
// schema was read in the Azure template reference
// (https://learn.microsoft.com/azure/templates/<provider>/<type>) while
// writing the templates. A new type or version has to be looked up and added
// here, which is the point: it keeps unchecked versions out.
var checkedAPIVersions = map[string][]string{
	"Microsoft.Authorization/roleAssignments":                   {"2022-04-01"},
	"Microsoft.Batch/batchAccounts":                             {"2024-07-01"},
	"Microsoft.EventGrid/systemTopics":                          {"2025-02-15"},
	"Microsoft.EventGrid/systemTopics/eventSubscriptions":       {"2025-02-15"},
	"Microsoft.Insights/components":                             {"2020-02-02"},
	"Microsoft.ManagedIdentity/userAssignedIdentities":          {"2023-01-31"},
	"Microsoft.OperationalInsights/workspaces":                  {"2023-09-01"},
	"Microsoft.ServiceBus/namespaces":                           {"2024-01-01"},
	"Microsoft.ServiceBus/namespaces/queues":                    {"2024-01-01"},
	"Microsoft.ServiceBus/namespaces/topics":                    {"2024-01-01"},
	"Microsoft.ServiceBus/namespaces/topics/subscriptions":      {"2024-01-01"},
	"Microsoft.Storage/storageAccounts":                         {"2023-05-01"},
	"Microsoft.Storage/storageAccounts/blobServices":            {"2023-05-01"},
	"Microsoft.Storage/storageAccounts/blobServices/containers": {"2023-05-01"},
	"Microsoft.Storage/storageAccounts/managementPolicies":      {"2023-05-01"},
	"Microsoft.Web/serverfarms":                                 {"2024-04-01"},
	"Microsoft.Web/sites":                                       {"2024-04-01"},
	"Microsoft.Web/sites/config":                                {"2024-04-01"},
}

// CheckStructure lints a set of Bicep and bicepparam files given as
// slash-separated path -> content (paths relative to one root, such as
// "infra/main.bicep"). A module or `using` path that is not in files counts
// as missing. See the package comment for what this does not check.
func CheckStructure(files map[string]string) []Problem {
	var probs []Problem
	add := func(file, subject, format string, args ...any) {
		probs = append(probs, Problem{file, subject, fmt.Sprintf(format, args...)})
	}
	parsed := map[string]*BicepFile{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".bicep") {
			continue
		}
		f, err := ParseBicep(files[name])
		if err != nil {
			add(name, "", "%v", err)
			continue
		}
		parsed[name] = f
		for _, p := range sortedParams(f) {
			if !p.HasDescription {
				add(name, "param "+p.Name, "line %d: has no @description", p.Line)
			}
		}
		for _, m := range sortedModules(f) {
			target := path.Join(path.Dir(name), m.Path)
			if _, ok := files[target]; !ok {
				add(name, "module "+m.Symbol, "line %d: module path %s does not exist", m.Line, m.Path)
			}
		}
		for _, r := range f.Resources {
			versions, known := checkedAPIVersions[r.Type]
			switch {
			case !known:
				add(name, "resource "+r.Symbol, "line %d: type %s is not in the checked list (look it up in the template reference, then add it to checkedAPIVersions)", r.Line, r.Type)
			case !contains(versions, r.APIVersion):
				add(name, "resource "+r.Symbol, "line %d: %s@%s is not a checked API version (checked: %s)", r.Line, r.Type, r.APIVersion, strings.Join(versions, ", "))
			}
		}
	}
	for _, name := range names {
		if f, ok := parsed[name]; ok {
			probs = append(probs, checkModuleInterfaces(name, f, parsed)...)
		}
	}
	for _, name := range names {
		if !strings.HasSuffix(name, ".bicepparam") {
			continue
		}
		p, err := ParseBicepParams(files[name])
		if err != nil {
			add(name, "", "%v", err)
			continue
		}
		if p.Using == "" {
			add(name, "", "has no using '<template>.bicep' line")
			continue
		}
		target := path.Join(path.Dir(name), p.Using)
		t, ok := parsed[target]
		if !ok {
			if _, exists := files[target]; !exists {
				add(name, "", "using %s: file does not exist", p.Using)
			}
			continue
		}
		for _, k := range sortedKeys(p.Values) {
			if _, ok := t.Params[k]; !ok {
				add(name, "param "+k, "line %d: %s has no such parameter", p.Lines[k], target)
			}
		}
		for _, tp := range sortedParams(t) {
			if _, ok := p.Values[tp.Name]; ok {
				continue
			}
			if !tp.HasDefault {
				add(name, "param "+tp.Name, "required by %s (no default) but not set", target)
			} else {
				add(name, "param "+tp.Name, "not set; an inline override (-p %s=...) next to this file is ignored unless the file sets the parameter (Azure/bicep#12647), so list it with its default", tp.Name)
			}
		}
	}
	for _, name := range names {
		if f, ok := parsed[name]; ok {
			probs = append(probs, checkRoleAssignments(name, f)...)
		}
	}
	return probs
}

// userPrincipalParams are the parameters holding principal ids that
// operators supply (users, groups or service principals). Role assignments
// looping over them leave principalType to Azure; every other assignment
// is to a managed identity and must say so.
var userPrincipalParams = map[string]bool{
	"arrivalSenderPrincipalIds":  true,
	"resultReceiverPrincipalIds": true,
}

var (
	principalTypeRE = regexp.MustCompile(`\bprincipalType\s*:`)
	loopOverRE      = regexp.MustCompile(`\bfor\s+(?:[A-Za-z_]\w*|\(\s*[A-Za-z_]\w*\s*,\s*[A-Za-z_]\w*\s*\))\s+in\s+([A-Za-z_]\w*)\s*:`)
)

// checkRoleAssignments: an assignment to an identity created in the same
// deployment can fail with PrincipalNotFound while Entra ID replicates the
// new principal unless it sets principalType
// (learn.microsoft.com/azure/role-based-access-control/role-assignments-template#new-service-principal).
// Assignments to operator-supplied principals must not guess the type.
func checkRoleAssignments(name string, f *BicepFile) []Problem {
	var probs []Problem
	for _, r := range f.Resources {
		if r.Type != "Microsoft.Authorization/roleAssignments" {
			continue
		}
		var over string
		if m := loopOverRE.FindStringSubmatch(r.Body); m != nil {
			over = m[1]
		}
		typed := principalTypeRE.MatchString(r.Body)
		switch {
		case userPrincipalParams[over] && typed:
			probs = append(probs, Problem{name, "resource " + r.Symbol, fmt.Sprintf("line %d: sets principalType for the operator-supplied principals in %s, which may be users, groups or service principals; leave it to Azure", r.Line, over)})
		case !userPrincipalParams[over] && !typed:
			probs = append(probs, Problem{name, "resource " + r.Symbol, fmt.Sprintf("line %d: sets no principalType; an assignment to a managed identity created in the same deployment can fail with PrincipalNotFound. Set principalType: 'ServicePrincipal' (or list the parameter in userPrincipalParams if it holds operator-supplied principals)", r.Line)})
		}
	}
	for _, m := range sortedModules(f) {
		for _, k := range sortedKeys(m.Params) {
			if userPrincipalParams[k] && strings.Contains(m.Params[k], ".outputs.principalId") {
				probs = append(probs, Problem{name, "module " + m.Symbol, fmt.Sprintf("line %d: passes a managed identity in %s, whose assignments carry no principalType; give the identity its own assignments", m.Line, k)})
			}
		}
	}
	return probs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedParams(f *BicepFile) []*Param {
	out := make([]*Param, 0, len(f.Params))
	for _, k := range sortedKeys(f.Params) {
		out = append(out, f.Params[k])
	}
	return out
}

func sortedModules(f *BicepFile) []*Module {
	out := make([]*Module, 0, len(f.Modules))
	for _, k := range sortedKeys(f.Modules) {
		out = append(out, f.Modules[k])
	}
	return out
}

// checkModuleInterfaces compares each module call in f with the module it
// calls: every parameter passed must be declared there, every declared
// parameter without a default must be passed, and every
// <module>.outputs.<name> used must be declared as an output.
func checkModuleInterfaces(name string, f *BicepFile, parsed map[string]*BicepFile) []Problem {
	var probs []Problem
	add := func(subject, format string, args ...any) {
		probs = append(probs, Problem{name, subject, fmt.Sprintf(format, args...)})
	}
	for _, m := range sortedModules(f) {
		target := path.Join(path.Dir(name), m.Path)
		t, ok := parsed[target]
		if !ok {
			continue // missing or unparsable: reported elsewhere
		}
		for _, k := range sortedKeys(m.Params) {
			if _, ok := t.Params[k]; !ok {
				add("module "+m.Symbol, "line %d: passes param %s, which %s does not declare", m.Line, k, m.Path)
			}
		}
		for _, p := range sortedParams(t) {
			if _, ok := m.Params[p.Name]; !ok && !p.HasDefault {
				add("module "+m.Symbol, "line %d: does not pass %s, which %s requires (no default)", m.Line, p.Name, m.Path)
			}
		}
	}
	for _, r := range f.OutputRefs {
		m, ok := f.Modules[r.Module]
		if !ok {
			continue // a resource or variable named like that, not a module
		}
		t, ok := parsed[path.Join(path.Dir(name), m.Path)]
		if !ok {
			continue
		}
		if _, ok := t.Outputs[r.Output]; !ok {
			add("module "+r.Module, "line %d: uses output %s, which %s does not declare", r.Line, r.Output, m.Path)
		}
	}
	return probs
}
