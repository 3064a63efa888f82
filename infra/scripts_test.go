package infra

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stubTool is a shell script standing in for az, func, make or zip: it
// appends its arguments to calls.log and, for `az deployment group show
// ... --query properties.outputs.<name>.value`, prints the value of the
// environment variable OUT_<name>.
const stubTool = `#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
if [ "$(basename "$0")" = az ] && [ "$1 $2 $3" = "deployment group show" ]; then
  for a in "$@"; do
    case "$a" in
      properties.outputs.*.value) n=${a#properties.outputs.}; n=${n%.value}; v="OUT_$n"; echo "${!v}";;
    esac
  done
fi
if [ "$(basename "$0")" = az ] && [ "$1 $2" = "functionapp show" ]; then
  echo /subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/func-x
fi
if [ "$(basename "$0")" = az ] && [ "$1 $2" = "functionapp list" ]; then
  echo "$OUT_resourceGroup"
fi
exit 0
`

// runPublish runs scripts/publish.sh from a copy of the repository layout
// with stubbed tools and returns the logged calls, one per line.
func runPublish(t *testing.T, outputs map[string]string, args ...string) ([]string, string, error) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not available")
	}
	root := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "scripts", "publish.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"scripts", "dist"} { // dist/ as the stubbed make would leave it
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "scripts", "publish.sh"), src, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "stubs")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"az", "func", "make", "zip", "sleep"} {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(stubTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(root, "calls.log")
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "publish.sh")}, args...)...)
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "STUB_LOG=" + log, "HOME=" + root}
	for k, v := range outputs {
		env = append(env, "OUT_"+k+"="+v)
	}
	cmd.Env = env
	out, runErr := cmd.CombinedOutput()
	b, _ := os.ReadFile(log)
	return strings.Split(strings.TrimSpace(string(b)), "\n"), string(out), runErr
}

// callIndex returns the index of the first call containing every one of
// parts, or -1.
func callIndex(calls []string, parts ...string) int {
	for i, c := range calls {
		all := true
		for _, p := range parts {
			if !strings.Contains(c, p) {
				all = false
				break
			}
		}
		if all {
			return i
		}
	}
	return -1
}

// TestPublishElasticPremium: on Elastic Premium the script uploads the
// package to the blob the app runs from (the deployment's packageUrl) with
// the signed-in identity, then restarts the app and syncs its triggers, in
// that order, and never uses Core Tools.
func TestPublishElasticPremium(t *testing.T) {
	calls, out, err := runPublish(t, map[string]string{
		"hostingPlan":     "ElasticPremium",
		"functionAppName": "func-x",
		"packageUrl":      "https://sthost.blob.core.windows.net/app-package/ffbatch.zip",
	}, "rg-1")
	if err != nil {
		t.Fatalf("publish.sh: %v\n%s", err, out)
	}
	upload := callIndex(calls, "az storage blob upload", "--auth-mode login", "--account-name sthost", "--container-name app-package", "--name ffbatch.zip", "--file bin/ffbatch.zip", "--overwrite")
	pkg := callIndex(calls, "make package")
	restart := callIndex(calls, "az functionapp restart", "--resource-group rg-1", "--name func-x")
	sync := callIndex(calls, "az rest --method post", "/providers/Microsoft.Web/sites/func-x/syncfunctiontriggers")
	if pkg < 0 || upload < 0 || restart < 0 || sync < 0 || !(pkg < upload && upload < restart && restart < sync) {
		t.Errorf("want make package, upload, restart, sync in that order; calls:\n%s", strings.Join(calls, "\n"))
	}
	if i := callIndex(calls, "func "); i >= 0 {
		t.Errorf("Core Tools used on Elastic Premium: %s", calls[i])
	}
	if i := callIndex(calls, "deployment group show", "--name ffbatch-infra"); i < 0 {
		t.Errorf("outputs not read from the ffbatch-infra deployment; calls:\n%s", strings.Join(calls, "\n"))
	}
}

func TestPublishFlexConsumption(t *testing.T) {
	calls, out, err := runPublish(t, map[string]string{
		"hostingPlan":     "FlexConsumption",
		"functionAppName": "func-x",
		"packageUrl":      "",
	}, "rg-1", "my-deployment")
	if err != nil {
		t.Fatalf("publish.sh: %v\n%s", err, out)
	}
	if callIndex(calls, "func azure functionapp publish func-x --custom") < 0 || callIndex(calls, "make dist") < 0 {
		t.Errorf("want make dist and func publish --custom; calls:\n%s", strings.Join(calls, "\n"))
	}
	if i := callIndex(calls, "storage blob upload"); i >= 0 {
		t.Errorf("blob upload on Flex Consumption: %s", calls[i])
	}
	if callIndex(calls, "deployment group show", "--name my-deployment") < 0 {
		t.Errorf("deployment name argument not used; calls:\n%s", strings.Join(calls, "\n"))
	}
}

// TestPublishByAppName: make publish APP=<name> finds the app's resource
// group and publishes from its ffbatch-infra deployment.
func TestPublishByAppName(t *testing.T) {
	calls, out, err := runPublish(t, map[string]string{
		"resourceGroup":   "rg-found",
		"hostingPlan":     "FlexConsumption",
		"functionAppName": "func-x",
	}, "--app", "func-x")
	if err != nil {
		t.Fatalf("publish.sh: %v\n%s", err, out)
	}
	if callIndex(calls, "deployment group show", "--resource-group rg-found", "--name ffbatch-infra") < 0 ||
		callIndex(calls, "func azure functionapp publish func-x --custom") < 0 {
		t.Errorf("want the outputs of rg-found/ffbatch-infra and a publish of func-x; calls:\n%s", strings.Join(calls, "\n"))
	}
}

func TestPublishRefusesBadInput(t *testing.T) {
	tests := []struct {
		name    string
		outputs map[string]string
		args    []string
		want    string
	}{
		{"no arguments", nil, nil, "usage"},
		{"no deployment outputs", map[string]string{}, []string{"rg-1"}, "run the infrastructure step first"},
		{"package URL not a blob URL", map[string]string{"hostingPlan": "ElasticPremium", "functionAppName": "f", "packageUrl": "sthost/app-package"}, []string{"rg-1"}, "not a blob URL"},
		{"unknown plan", map[string]string{"hostingPlan": "Dynamic", "functionAppName": "f"}, []string{"rg-1"}, "unknown hostingPlan"},
		{"app not found", map[string]string{}, []string{"--app", "nope"}, "no function app named nope"},
		{"app of another deployment", map[string]string{"resourceGroup": "rg-1", "hostingPlan": "FlexConsumption", "functionAppName": "func-other"}, []string{"--app", "func-x"}, "is for func-other"},
		{"option instead of a resource group", nil, []string{"--rg"}, "usage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls, out, err := runPublish(t, tc.outputs, tc.args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("publish.sh = %v, output %q; want a failure mentioning %q", err, out, tc.want)
			}
			if i := callIndex(calls, "upload"); i >= 0 {
				t.Errorf("uploaded anyway: %s", calls[i])
			}
		})
	}
}
