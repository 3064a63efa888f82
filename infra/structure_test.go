package infra

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bicepFiles reads every .bicep and .bicepparam file under infra/, keyed by
// repository-relative path.
func bicepFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == "testdata" {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".bicep") || strings.HasSuffix(p, ".bicepparam") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files["infra/"+filepath.ToSlash(p)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk infra: %v", err)
	}
	return files
}

func TestRepositoryBicepStructure(t *testing.T) {
	files := bicepFiles(t)
	for _, want := range []string{MainBicepPath, MainParamsPath, "infra/modules/functionapp.bicep", "infra/modules/eventgrid.bicep"} {
		if _, ok := files[want]; !ok {
			t.Fatalf("%s not found", want)
		}
	}
	for _, p := range CheckStructure(files) {
		t.Error(p)
	}
}

func TestCheckStructureFindsBreakage(t *testing.T) {
	const mod = "@description('x')\nparam x string\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of one problem; nil means no problem
	}{
		{
			name: "clean",
			files: map[string]string{
				"infra/main.bicep": "// a comment with { and '\n@description('Name; with } and \\' inside.')\n@minLength(3)\nparam name string = 'a${toLower(\"x\")}b'\n" +
					"var v = '''\nmulti { line\n'''\nmodule m 'modules/m.bicep' = {\n  name: 'm'\n  params: {\n    x: '${name}-{'\n  }\n}\n" +
					"resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {\n  name: m.outputs.id\n  location: 'westeurope' /* } */\n}\n",
				"infra/modules/m.bicep":    mod + "@description('id')\noutput id string = x\n",
				"infra/main.bicepparam":    "using 'main.bicep'\nparam name = 'abc'\n",
				"infra/other.bicepparam":   "using './main.bicep'\nparam name = 'xyz'\n",
				"infra/modules/n.bicep":    "@sys.description('y')\nparam y int = 1\n",
				"infra/modules/README.txt": "not bicep {",
				"infra/modules/roles.bicep": "@description('a')\nparam appPrincipalId string\n@description('u')\nparam arrivalSenderPrincipalIds array = []\n" +
					"resource app 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n  name: guid('a')\n  properties: {\n    principalId: appPrincipalId\n    principalType: 'ServicePrincipal'\n    roleDefinitionId: 'r'\n  }\n}\n" +
					"resource users 'Microsoft.Authorization/roleAssignments@2022-04-01' = [\n  for p in arrivalSenderPrincipalIds: {\n    name: guid(p)\n    properties: {\n      principalId: p\n      roleDefinitionId: 'r'\n    }\n  }\n]\n",
			},
		},
		{
			name:  "unclosed brace",
			files: map[string]string{"infra/a.bicep": "var x = {\n  a: 1\n"},
			want:  []string{"infra/a.bicep", "line 1", "never closed"},
		},
		{
			name:  "mismatched bracket",
			files: map[string]string{"infra/a.bicep": "var x = [\n  1\n}\n"},
			want:  []string{"infra/a.bicep", "line 3", "does not match"},
		},
		{
			name:  "extra closer",
			files: map[string]string{"infra/a.bicep": "var x = 1\n}\n"},
			want:  []string{"infra/a.bicep", "line 2", "closes nothing"},
		},
		{
			name:  "unterminated string",
			files: map[string]string{"infra/a.bicep": "var x = 'abc\nvar y = 1\n"},
			want:  []string{"infra/a.bicep", "line 1", "string literal not closed"},
		},
		{
			name:  "unterminated block comment",
			files: map[string]string{"infra/a.bicep": "/* open\nvar y = 1\n"},
			want:  []string{"infra/a.bicep", "block comment not closed"},
		},
		{
			name:  "stray closer inside an interpolation hole",
			files: map[string]string{"infra/a.bicep": "var x = '${foo)}'\n"},
			want:  []string{"infra/a.bicep", "inside a ${...} hole"},
		},
		{
			name:  "param without description",
			files: map[string]string{"infra/a.bicep": "@description('ok')\nparam a string\n@minLength(1)\nparam b string\n"},
			want:  []string{"infra/a.bicep", "param b", "no @description"},
		},
		{
			name:  "description on an earlier declaration does not carry over",
			files: map[string]string{"infra/a.bicep": "@description('a var')\nvar v = 1\nparam b string\n"},
			want:  []string{"param b", "no @description"},
		},
		{
			name:  "missing module",
			files: map[string]string{"infra/a.bicep": "module m 'modules/gone.bicep' = {\n  name: 'm'\n}\n"},
			want:  []string{"infra/a.bicep", "module m", "modules/gone.bicep does not exist"},
		},
		{
			name:  "unchecked api version",
			files: map[string]string{"infra/a.bicep": "resource s 'Microsoft.Storage/storageAccounts@2019-06-01' = {\n  name: 'x'\n}\n"},
			want:  []string{"resource s", "2019-06-01", "not a checked API version"},
		},
		{
			name:  "unchecked resource type",
			files: map[string]string{"infra/a.bicep": "resource k 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: 'x'\n}\n"},
			want:  []string{"resource k", "Microsoft.KeyVault/vaults", "not in the checked list"},
		},
		{
			name: "module given an undeclared param",
			files: map[string]string{
				"infra/a.bicep": "module m 'm.bicep' = {\n  name: 'm'\n  params: {\n    x: 'a'\n    typo: 'b'\n  }\n}\n",
				"infra/m.bicep": mod,
			},
			want: []string{"infra/a.bicep", "module m", "passes param typo", "does not declare"},
		},
		{
			name: "module missing a required param",
			files: map[string]string{
				"infra/a.bicep": "module m 'm.bicep' = {\n  name: 'm'\n  params: {\n  }\n}\n",
				"infra/m.bicep": mod,
			},
			want: []string{"infra/a.bicep", "module m", "does not pass x"},
		},
		{
			name: "undeclared module output",
			files: map[string]string{
				"infra/a.bicep": "module m 'm.bicep' = {\n  name: 'm'\n  params: {\n    x: 'a'\n  }\n}\n@description('o')\nparam p string = m.outputs.nope\n",
				"infra/m.bicep": mod + "@description('id')\noutput id string = x\n",
			},
			want: []string{"infra/a.bicep", "module m", "line 8", "uses output nope"},
		},
		{
			name: "bicepparam sets an unknown parameter",
			files: map[string]string{
				"infra/main.bicep":      "@description('a')\nparam a string = 'x'\n",
				"infra/main.bicepparam": "using 'main.bicep'\nparam a = 'y'\nparam b = 'z'\n",
			},
			want: []string{"infra/main.bicepparam", "param b", "no such parameter"},
		},
		{
			name: "bicepparam misses a required parameter",
			files: map[string]string{
				"infra/main.bicep":      "@description('a')\nparam a string\n",
				"infra/main.bicepparam": "using 'main.bicep'\n",
			},
			want: []string{"infra/main.bicepparam", "param a", "not set"},
		},
		{
			name: "bicepparam omits a parameter that has a default",
			files: map[string]string{
				"infra/main.bicep":      "@description('a')\nparam a string = 'x'\n@description('b')\nparam b bool = false\n",
				"infra/main.bicepparam": "using 'main.bicep'\nparam a = 'y'\n",
			},
			want: []string{"infra/main.bicepparam", "param b", "not set", "inline override"},
		},
		{
			name: "role assignment to a managed identity without principalType",
			files: map[string]string{"infra/m.bicep": "@description('p')\nparam appPrincipalId string\n" +
				"resource q 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {\n  name: 'n/q'\n}\n" +
				"resource r 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n  name: guid('x')\n  scope: q\n  properties: {\n    principalId: appPrincipalId\n    // principalType: 'ServicePrincipal' only in a comment\n    roleDefinitionId: 'y'\n  }\n}\n"},
			want: []string{"infra/m.bicep", "resource r", "line 6", "no principalType", "PrincipalNotFound"},
		},
		{
			name: "role assignment loop over identities without principalType",
			files: map[string]string{"infra/m.bicep": "@description('p')\nparam arrivalReceiverPrincipalIds array\n" +
				"resource r 'Microsoft.Authorization/roleAssignments@2022-04-01' = [\n  for p in arrivalReceiverPrincipalIds: {\n    name: guid(p)\n    properties: {\n      principalId: p\n      roleDefinitionId: 'y'\n    }\n  }\n]\n"},
			want: []string{"resource r", "no principalType"},
		},
		{
			name: "role assignment loop over operator-supplied principals with a fixed principalType",
			files: map[string]string{"infra/m.bicep": "@description('p')\nparam resultReceiverPrincipalIds array\n" +
				"resource r 'Microsoft.Authorization/roleAssignments@2022-04-01' = [\n  for (p, i) in resultReceiverPrincipalIds: {\n    name: guid(p)\n    properties: {\n      principalId: p\n      principalType: 'ServicePrincipal'\n      roleDefinitionId: 'y'\n    }\n  }\n]\n"},
			want: []string{"resource r", "operator-supplied", "resultReceiverPrincipalIds"},
		},
		{
			name: "managed identity passed among operator-supplied principals",
			files: map[string]string{
				"infra/a.bicep":  "module sb 'sb.bicep' = {\n  name: 'sb'\n  params: {\n    arrivalSenderPrincipalIds: concat([funcIdentity.outputs.principalId], arrivalSenderPrincipalIds)\n  }\n}\n",
				"infra/sb.bicep": "@description('u')\nparam arrivalSenderPrincipalIds array\n",
			},
			want: []string{"infra/a.bicep", "module sb", "managed identity", "arrivalSenderPrincipalIds"},
		},
		{
			name:  "bicepparam uses a missing template",
			files: map[string]string{"infra/main.bicepparam": "using 'gone.bicep'\n"},
			want:  []string{"infra/main.bicepparam", "gone.bicep", "does not exist"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := CheckStructure(tt.files)
			if tt.want == nil {
				if len(probs) > 0 {
					t.Errorf("want no problems, got:\n%s", list(probs))
				}
				return
			}
			if !anyProblem(probs, tt.want) {
				t.Errorf("no problem containing %q; got:\n%s", tt.want, list(probs))
			}
		})
	}
}

func TestParseBicepReadsObjectsAndModules(t *testing.T) {
	src := "var appSettings = {\n  A: 'x'\n  // B: 'commented out'\n  'C': foo.outputs.bar\n  D: {\n    E: 1\n  }\n}\n" +
		"module m 'm.bicep' = if (deploy) {\n  name: 'm'\n  params: {\n    list: [\n      a\n      'b'\n    ]\n    one: c\n  }\n  dependsOn: [\n    z\n  ]\n}\n"
	f, err := ParseBicep(src)
	if err != nil {
		t.Fatalf("ParseBicep: %v", err)
	}
	obj := f.Objects["appSettings"]
	want := map[string]string{"A": "'x'", "C": "foo.outputs.bar", "D": "{...}"}
	if len(obj) != len(want) {
		t.Errorf("appSettings = %v, want %v", obj, want)
	}
	for k, v := range want {
		if obj[k] != v {
			t.Errorf("appSettings[%s] = %q, want %q", k, obj[k], v)
		}
	}
	m := f.Modules["m"]
	if m == nil {
		t.Fatal("module m not found")
	}
	if got := m.Params["list"]; got != "[a, 'b']" {
		t.Errorf("params.list = %q, want %q", got, "[a, 'b']")
	}
	if got := m.Params["one"]; got != "c" {
		t.Errorf("params.one = %q, want c", got)
	}
	if _, ok := m.Params["z"]; ok {
		t.Error("dependsOn entries leaked into params")
	}
}
