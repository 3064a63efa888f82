package infra

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/config"
	"github.com/ffbatch/ffbatch/internal/plan"
)

// loadRepo reads the real repository and the settings and defaults from
// the code that runs.
func loadRepo(t *testing.T) *Repo {
	t.Helper()
	r, err := LoadRepo("..")
	if err != nil {
		t.Fatalf("LoadRepo: %v", err)
	}
	r.Settings, r.Defaults, r.TaskSlots = config.Settings(), config.Defaults(), plan.MaxTaskSlots
	return r
}

// TestRepositorySettingsAgree is the real check: it fails when the function
// app would read a setting the deployment does not set, or when names drift.
func TestRepositorySettingsAgree(t *testing.T) {
	r := loadRepo(t)
	for _, p := range CheckSettings(r) {
		t.Error(p)
	}
}

// TestCheckSettingsFindsDrift breaks a copy of the real files in one way
// per case and checks that the checker names the setting and the file.
func TestCheckSettingsFindsDrift(t *testing.T) {
	type edit struct{ path, old, new string }
	tests := []struct {
		name     string
		edits    []edit
		settings []string // extra settings config "reads"
		defaults map[string]string
		want     []string // substrings of one problem
	}{
		{
			name:  "setting missing from bicep",
			edits: []edit{{MainBicepPath, "  FFBATCH_LOG_LEVEL: logLevel\n", ""}},
			want:  []string{MainBicepPath, "FFBATCH_LOG_LEVEL", "missing from `var appSettings`"},
		},
		{
			name:  "setting missing from local settings example",
			edits: []edit{{LocalSettingsPath, `"FFBATCH_SAS_QUEUEING": "2h",`, ""}},
			want:  []string{LocalSettingsPath, "FFBATCH_SAS_QUEUEING", "missing from Values"},
		},
		{
			name:     "new config setting not yet deployed",
			settings: []string{"FFBATCH_NEW_KNOB"},
			want:     []string{MainBicepPath, "FFBATCH_NEW_KNOB", "missing"},
		},
		{
			name:  "misspelt setting in bicep",
			edits: []edit{{MainBicepPath, "FFBATCH_SAS_QUEUEING: '2h'", "FFBATCH_SAS_QUEUE: '2h'"}},
			want:  []string{MainBicepPath, "FFBATCH_SAS_QUEUE", "not read by internal/config"},
		},
		{
			name:  "secret deployed to azure",
			edits: []edit{{MainBicepPath, "  FFBATCH_LOG_LEVEL: logLevel\n", "  FFBATCH_LOG_LEVEL: logLevel\n  FFBATCH_BATCH_ACCOUNT_KEY: 'x'\n"}},
			want:  []string{MainBicepPath, "FFBATCH_BATCH_ACCOUNT_KEY", "must not be an app setting"},
		},
		{
			name:  "queue renamed in bicepparam only",
			edits: []edit{{MainParamsPath, "param arrivalsQueueName = 'arrivals'", "param arrivalsQueueName = 'incoming'"}},
			want:  []string{MainParamsPath, "FFBATCH_ARRIVALS_QUEUE", `"incoming"`, `"arrivals"`},
		},
		{
			name:  "topic default changed in bicep",
			edits: []edit{{MainParamsPath, "param resultsTopicName = 'results'\n", ""}, {MainBicepPath, "param resultsTopicName string = 'results'", "param resultsTopicName string = 'outcomes'"}},
			want:  []string{MainBicepPath, "FFBATCH_RESULTS_TOPIC", `"outcomes"`},
		},
		{
			name:  "container name differs in example",
			edits: []edit{{LocalSettingsPath, `"FFBATCH_OUTPUT_CONTAINER": "output"`, `"FFBATCH_OUTPUT_CONTAINER": "mp3"`}},
			want:  []string{LocalSettingsPath, "FFBATCH_OUTPUT_CONTAINER", `"mp3"`},
		},
		{
			name:  "container not created by the storage module",
			edits: []edit{{MainBicepPath, "      statusContainerName\n      deadLetterContainerName", "      deadLetterContainerName"}},
			want:  []string{MainBicepPath, "FFBATCH_STATUS_CONTAINER", "module dataStorage", "does not create it"},
		},
		{
			name:  "event grid watches another container",
			edits: []edit{{MainBicepPath, "    inputContainerName: inputContainerName\n    functionAppId", "    inputContainerName: outputContainerName\n    functionAppId"}},
			want:  []string{MainBicepPath, "FFBATCH_INPUT_CONTAINER", "module eventGrid"},
		},
		{
			name:  "event grid targets a function that does not exist",
			edits: []edit{{MainParamsPath, "param blobCreatedFunctionName = 'BlobCreated'", "param blobCreatedFunctionName = 'OnBlob'"}},
			want:  []string{MainParamsPath, "module eventGrid", `"OnBlob"`, "function.json"},
		},
		{
			name:  "event grid targets a function without an event grid trigger",
			edits: []edit{{MainParamsPath, "param blobCreatedFunctionName = 'BlobCreated'", "param blobCreatedFunctionName = 'Status'"}},
			want:  []string{"module eventGrid", `"Status"`, "no eventGridTrigger"},
		},
		{
			name:  "no subscription feeds TaskFinished",
			edits: []edit{{MainParamsPath, "param taskFinishedFunctionName = 'TaskFinished'", "param taskFinishedFunctionName = 'BlobCreated'"}},
			want:  []string{"function-definitions/TaskFinished/function.json", "no Event Grid subscription targets it"},
		},
		{
			name:  "task logs watched under another prefix",
			edits: []edit{{MainBicepPath, "    logsPrefix: logsPrefix\n", "    logsPrefix: 'tasklogs/'\n"}},
			want:  []string{MainBicepPath, "FFBATCH_LOGS_PREFIX", "module eventGrid"},
		},
		{
			name:  "function.json refers to an unknown setting",
			edits: []edit{{"function-definitions/SweepPools/function.json", "%FFBATCH_SWEEP_SCHEDULE%", "%FFBATCH_SWEEP_CRON%"}},
			want:  []string{"function-definitions/SweepPools/function.json", "FFBATCH_SWEEP_CRON", "does not read"},
		},
		{
			name:  "literal queue name in function.json disagrees",
			edits: []edit{{"function-definitions/SubmitTasks/function.json", `"%FFBATCH_ARRIVALS_QUEUE%"`, `"arrival"`}},
			want:  []string{"function-definitions/SubmitTasks/function.json", "queueName", `"arrival"`},
		},
		{
			name:  "trigger connection not configured in bicep",
			edits: []edit{{MainBicepPath, "  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace\n  ServiceBusConnection__credential: 'managedidentity'\n  ServiceBusConnection__clientId: funcIdentity.outputs.clientId\n", ""}},
			want:  []string{MainBicepPath, "ServiceBusConnection", "uses connection"},
		},
		{
			name:  "batch trigger without dataType",
			edits: []edit{{"function-definitions/SubmitTasks/function.json", `"dataType": "string",`, ""}},
			want:  []string{"function-definitions/SubmitTasks/function.json", "dataType", "cardinality many"},
		},
		{
			name:  "empty value hides a default",
			edits: []edit{{MainBicepPath, "FFBATCH_SAS_QUEUEING: '2h'", "FFBATCH_SAS_QUEUEING: ''"}},
			want:  []string{MainBicepPath, "FFBATCH_SAS_QUEUEING", "replaces the internal/config default"},
		},
		{
			name:  "batch wait longer than half the lock",
			edits: []edit{{HostJSONPath, `"maxBatchWaitTime": "00:00:05"`, `"maxBatchWaitTime": "00:02:31"`}},
			want:  []string{HostJSONPath, "maxBatchWaitTime", "more than half", "PT5M"},
		},
		{
			name:  "lock longer than service bus allows",
			edits: []edit{{ServiceBusModule, "param arrivalsLockDuration string = 'PT5M'", "param arrivalsLockDuration string = 'PT10M'"}},
			want:  []string{ServiceBusModule, "arrivalsLockDuration", "exceeds"},
		},
		{
			name:  "lock passed from main overrides the module default",
			edits: []edit{{MainBicepPath, "    arrivalsQueueName: arrivalsQueueName\n", "    arrivalsQueueName: arrivalsQueueName\n    arrivalsLockDuration: 'PT8S'\n"}},
			want:  []string{HostJSONPath, "maxBatchWaitTime", "PT8S", MainBicepPath},
		},
		{
			name:  "computed setting without an output",
			edits: []edit{{MainBicepPath, "output batchEndpoint string = batch.outputs.endpoint\n", ""}},
			want:  []string{MainBicepPath, "FFBATCH_BATCH_ENDPOINT", "batch.outputs.endpoint", "not a template output"},
		},
		{
			name:  "task slots above the VM size's limit",
			edits: []edit{{MainParamsPath, "param taskSlotsPerNode = 2\n", "param taskSlotsPerNode = 9\n"}},
			want:  []string{MainParamsPath, "FFBATCH_TASK_SLOTS_PER_NODE", "is 9", "Standard_D2s_v3", "at most 8"},
		},
		{
			name:  "task slots above the limit in the template defaults",
			edits: []edit{{MainParamsPath, "param taskSlotsPerNode = 2\n", ""}, {MainBicepPath, "param taskSlotsPerNode int = 2", "param taskSlotsPerNode int = 64"}},
			want:  []string{MainBicepPath, "FFBATCH_TASK_SLOTS_PER_NODE", "is 64", "at most 8"},
		},
		{
			name:  "VM size the slot check does not know",
			edits: []edit{{MainParamsPath, "param vmSize = 'Standard_D2s_v3'", "param vmSize = 'Standard_NC6s_v3'"}},
			want:  []string{MainParamsPath, "FFBATCH_VM_SIZE", "Standard_NC6s_v3", "not a VM size internal/plan knows"},
		},
		{
			name:  "task slots not checkable",
			edits: []edit{{MainBicepPath, "FFBATCH_TASK_SLOTS_PER_NODE: string(taskSlotsPerNode)", "FFBATCH_TASK_SLOTS_PER_NODE: string(taskSlotsPerNode * 2)"}},
			want:  []string{MainBicepPath, "FFBATCH_TASK_SLOTS_PER_NODE", "must resolve to literals"},
		},
		{
			name:  "elastic premium package URL left to the publish step",
			edits: []edit{{FunctionAppModule, "  WEBSITE_RUN_FROM_PACKAGE: packageUrl\n", ""}},
			want:  []string{FunctionAppModule, "WEBSITE_RUN_FROM_PACKAGE", "missing from premiumSettings"},
		},
		{
			name:  "elastic premium package read without the app identity",
			edits: []edit{{FunctionAppModule, "  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId\n", ""}},
			want:  []string{FunctionAppModule, "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID", "missing"},
		},
		{
			name:  "content share connection string",
			edits: []edit{{FunctionAppModule, "  FUNCTIONS_WORKER_RUNTIME: 'custom'\n", "  FUNCTIONS_WORKER_RUNTIME: 'custom'\n  WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: 'DefaultEndpointsProtocol=https'\n"}},
			want:  []string{FunctionAppModule, "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "storage account key"},
		},
		{
			name:  "package that is not a zip",
			edits: []edit{{FunctionAppModule, "param packageBlobName string = 'ffbatch.zip'", "param packageBlobName string = 'ffbatch.tar.gz'"}},
			want:  []string{FunctionAppModule, "packageBlobName", ".zip"},
		},
		{
			name:  "script reads an output the template does not declare",
			edits: []edit{{MainBicepPath, "output functionAppName string = functionApp.outputs.name\n", ""}},
			want:  []string{"scripts/deploy.sh", "functionAppName", "does not declare"},
		},
		{
			name:  "docs read an output the template does not declare",
			edits: []edit{{MainBicepPath, "output dataStorageAccountName string = dataStorage.outputs.name\n", ""}},
			want:  []string{DeployDocPath, "dataStorageAccountName", "does not declare"},
		},
		{
			name:  "app settings object renamed",
			edits: []edit{{MainBicepPath, "var appSettings = {", "var settings = {"}, {MainBicepPath, "appSettings: appSettings", "appSettings: settings"}},
			want:  []string{MainBicepPath, "no `var appSettings = {`"},
		},
		{
			name:  "unbalanced bicep",
			edits: []edit{{MainBicepPath, "var appSettings = {", "var appSettings = {{"}},
			want:  []string{MainBicepPath, "never closed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := loadRepo(t)
			r.Files = maps.Clone(r.Files)
			r.Settings = append(slices.Clone(r.Settings), tt.settings...)
			for _, e := range tt.edits {
				src, ok := r.Files[e.path]
				if !ok {
					t.Fatalf("fixture: no file %s", e.path)
				}
				if !strings.Contains(src, e.old) {
					t.Fatalf("fixture: %s no longer contains %q; update the case", e.path, e.old)
				}
				r.Files[e.path] = strings.Replace(src, e.old, e.new, 1)
			}
			probs := CheckSettings(r)
			if !anyProblem(probs, tt.want) {
				t.Errorf("no problem containing %q; got:\n%s", tt.want, list(probs))
			}
		})
	}
}

func anyProblem(probs []Problem, want []string) bool {
	for _, p := range probs {
		s, all := p.String(), true
		for _, w := range want {
			if !strings.Contains(s, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func list(probs []Problem) string {
	if len(probs) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, p := range probs {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// TestHostBatchWaitDefault: without the setting, host.json's batch wait
// is the extension's default.
func TestHostBatchWaitDefault(t *testing.T) {
	if got, err := hostBatchWait(`{"version":"2.0"}`); err != nil || got != defaultMaxBatchWaitTime {
		t.Errorf("hostBatchWait without the setting = %v, %v; want the default %v", got, err, defaultMaxBatchWaitTime)
	}
}

// TestSlotsFitVMAcceptsLargerSizes: the slot check follows the VM size, so
// a larger size allows more slots.
func TestSlotsFitVMAcceptsLargerSizes(t *testing.T) {
	r := loadRepo(t)
	r.Files = maps.Clone(r.Files)
	src := r.Files[MainParamsPath]
	for _, old := range []string{"param vmSize = 'Standard_D2s_v3'", "param taskSlotsPerNode = 2\n"} {
		if !strings.Contains(src, old) {
			t.Fatalf("fixture: %s no longer contains %q", MainParamsPath, old)
		}
	}
	src = strings.Replace(src, "param vmSize = 'Standard_D2s_v3'", "param vmSize = 'Standard_F8s_v2'", 1)
	r.Files[MainParamsPath] = strings.Replace(src, "param taskSlotsPerNode = 2\n", "param taskSlotsPerNode = 32\n", 1)
	for _, p := range CheckSettings(r) {
		t.Error(p)
	}
}
