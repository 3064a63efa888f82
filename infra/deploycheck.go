package infra

import (
	"regexp"
	"strconv"
	"strings"
)

// slotsFitVM: the VM size and task slots the template deploys
// (main.bicepparam, else the parameter defaults) must be a pair Batch
// accepts: at most 4 task slots per vCPU. A larger value deploys, and then
// every pool creation fails with 400.
func (c *checker) slotsFitVM() {
	const vmSetting, slotsSetting = "FFBATCH_VM_SIZE", "FFBATCH_TASK_SLOTS_PER_NODE"
	if c.r.TaskSlots == nil {
		c.add(ConfigSourcePath, slotsSetting, "no TaskSlots given (expected plan.MaxTaskSlots)")
		return
	}
	vm, vmOK := c.resolveOne(c.app[vmSetting])
	text, slotsOK := c.resolveOne(c.app[slotsSetting])
	slots, err := strconv.Atoi(text)
	if !vmOK || !slotsOK || err != nil {
		c.add(MainBicepPath, slotsSetting, "%s = %s and %s = %s must resolve to literals so the task slot limit can be checked",
			vmSetting, c.app[vmSetting], slotsSetting, c.app[slotsSetting])
		return
	}
	most, known := c.r.TaskSlots(vm)
	switch {
	case !known:
		c.add(c.bicepAt, vmSetting, "%q is not a VM size internal/plan knows; add it to plan's VM table so its task slot limit (4 × vCPUs) is checked", vm)
	case slots > most:
		c.add(c.bicepAt, slotsSetting, "taskSlotsPerNode is %d but %s allows at most %d (4 task slots per vCPU); every pool creation would fail with 400", slots, vm, most)
	}
}

// runFromPackage: the Elastic Premium app runs from a package blob read
// with its identity, without an Azure Files content share (whose
// connection string needs a key the host account refuses). The package
// settings must come from the template itself: the appsettings resource
// replaces every setting on each deployment, so a setting written by a
// publish step would be removed by the next infrastructure run.
func (c *checker) runFromPackage() {
	f, err := ParseBicep(c.r.Files[FunctionAppModule])
	if err != nil {
		c.add(FunctionAppModule, "", "%v", err)
		return
	}
	prem, ok := f.Objects["premiumSettings"]
	if !ok {
		c.add(FunctionAppModule, "premiumSettings", "no `var premiumSettings = {` object with the Elastic Premium settings")
		return
	}
	for _, k := range []string{"WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"} {
		if _, ok := prem[k]; !ok {
			c.add(FunctionAppModule, k, "missing from premiumSettings: Elastic Premium runs from the package blob with the app's identity, and a value set outside the template is removed by the next deployment")
		}
	}
	for _, obj := range []string{"hostSettings", "premiumSettings"} {
		for _, k := range []string{"WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE", "AzureWebJobsStorage"} {
			if _, ok := f.Objects[obj][k]; ok {
				c.add(FunctionAppModule, k, "set in %s: it needs a storage account key, which the host storage account refuses (allowSharedKeyAccess false)", obj)
			}
		}
	}
	p, ok := f.Params["packageBlobName"]
	if name, isLit := literal(p.defaultOrEmpty()); !ok || !isLit || !strings.HasSuffix(name, ".zip") {
		c.add(FunctionAppModule, "packageBlobName", "must default to a literal name ending in .zip (run from package accepts only .zip URLs)")
	}
}

func (p *Param) defaultOrEmpty() string {
	if p == nil {
		return ""
	}
	return p.Default
}

var deploymentOutputRE = regexp.MustCompile(`properties\.outputs\.([A-Za-z_]\w*)\.value`)

// outputsRead: every deployment output the scripts and docs/deploy.md read
// (`--query properties.outputs.<name>.value`) is declared in main.bicep.
func (c *checker) outputsRead() {
	for _, p := range sortedKeys(c.r.Files) {
		if p != DeployDocPath && !strings.HasPrefix(p, ScriptsDir+"/") {
			continue
		}
		for _, m := range deploymentOutputRE.FindAllStringSubmatch(c.r.Files[p], -1) {
			if _, ok := c.main.Outputs[m[1]]; !ok {
				c.add(p, m[1], "reads the deployment output %s, which %s does not declare", m[1], MainBicepPath)
			}
		}
	}
}
