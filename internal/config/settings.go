package config

import (
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/plan"
)

// Host-owned connection settings (function.json "connection":
// "ServiceBusConnection"). When the FFBATCH_SERVICEBUS_* settings are empty
// the handler uses the same values as the trigger, so they are set once.
const (
	hostSBConnection = "ServiceBusConnection"
	hostSBNamespace  = "ServiceBusConnection__fullyQualifiedNamespace"
)

// minOrphanGrace is the least FFBATCH_ORPHAN_GRACE: the functionTimeout in
// host.json (10 minutes). A SubmitTasks invocation may record a request
// submitted and add its task up to that long later; a shorter grace could
// treat the task as lost before it was ever added.
const minOrphanGrace = 10 * time.Minute

const day = 24 * time.Hour

// declare returns every setting, bound to the fields of c, in README order.
// It is the only place a setting is written down.
func declare(c *Config) []setting {
	return concat(storageSettings(c), serviceBusSettings(c), batchSettings(c), poolSettings(c), taskSettings(c))
}

func concat(groups ...[]setting) []setting {
	var all []setting
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

func storageSettings(c *Config) []setting {
	return []setting{
		{name: "FFBATCH_INPUT_CONTAINER", def: "input", value: text(&c.InputContainer), check: containerProblem, required: true,
			doc: "Container whose `.mp4` blobs (any case) are transcoded when they are created (Event Grid BlobCreated); BlobCreated ignores other blobs."},
		{name: "FFBATCH_UPSTREAM_CONTAINERS", value: list(&c.UpstreamContainers, containerNameProblem),
			doc: "Comma-separated containers, besides the input container, that upstream systems may name in arrival messages. Event Grid does not watch them, so their blobs are transcoded only on request. Each must differ from the input, output and status containers."},
		{name: "FFBATCH_OUTPUT_CONTAINER", def: "output", value: text(&c.OutputContainer), check: containerProblem, required: true,
			doc: "Container for MP3s (same path as the input, `.mp3`) and task logs."},
		{name: "FFBATCH_STATUS_CONTAINER", def: "ffbatch-status", value: text(&c.StatusContainer), check: containerProblem, required: true,
			doc: "Container holding the status record of each input blob (its requests, read by `Status`) and the owner of each output blob; must differ from the input container."},
		{name: "FFBATCH_LOGS_PREFIX", def: "logs/", value: text(&c.LogsPrefix), check: logsPrefixProblem, required: true,
			doc: "Prefix in the output container for each task's `stdout.txt`/`stderr.txt`."},
		{name: "FFBATCH_STORAGE_ACCOUNT_URL", value: text(&c.StorageURL), check: urlProblem,
			doc: "Blob endpoint for managed identity (`https://<acct>.blob.core.windows.net`); SAS are user-delegation SAS. Set this or the connection string."},
		{name: "FFBATCH_STORAGE_CONNECTION_STRING", value: text(&c.StorageConn), check: storageConnProblem, secret: true,
			doc: "Connection string with an account key (Azurite); SAS are account-key SAS."},
		{name: "FFBATCH_SAS_QUEUEING", def: "2h", value: duration(&c.SASQueueing, 5*time.Minute, 7*day),
			doc: "Time a task may wait in the job for a free slot (before its first attempt and between Batch's retries) that its SAS URLs allow for. The URLs are valid for this plus the task's wall-clock limit × (retries + 1), at most 7 days (a user delegation key's limit); resubmitted tasks are signed afresh."},
	}
}

func serviceBusSettings(c *Config) []setting {
	return []setting{
		{name: "FFBATCH_SERVICEBUS_NAMESPACE", value: text(&c.ServiceBusNamespace), check: namespaceProblem,
			doc: "Service Bus namespace FQDN for managed identity. Set this or the connection string (or the host's `ServiceBusConnection*` settings)."},
		{name: "FFBATCH_SERVICEBUS_CONNECTION_STRING", value: text(&c.ServiceBusConn), check: serviceBusConnProblem, secret: true,
			doc: "Service Bus connection string (local emulator)."},
		{name: hostSBConnection, secret: true,
			doc: "Host-owned connection string used by the `SubmitTasks` trigger (local stack). The handler uses it too when both `FFBATCH_SERVICEBUS_*` settings are empty."},
		{name: hostSBNamespace,
			doc: "Host-owned identity-based connection (Azure), e.g. `ns.servicebus.windows.net`; used by the handler as above."},
		{name: "FFBATCH_ARRIVALS_QUEUE", def: "arrivals", value: text(&c.ArrivalsQueue), check: entityProblem, required: true,
			doc: "Queue of arrival messages (duplicate detection on)."},
		{name: "FFBATCH_RESULTS_TOPIC", def: "results", value: text(&c.ResultsTopic), check: entityProblem, required: true,
			doc: "Topic receiving one result event per request."},
		{name: "FFBATCH_MANAGED_IDENTITY_CLIENT_ID", value: text(&c.ManagedIdentityClientID),
			doc: "Client id of a user-assigned managed identity; empty uses `DefaultAzureCredential`."},
	}
}

func batchSettings(c *Config) []setting {
	return []setting{
		{name: "FFBATCH_BATCH_ENDPOINT", value: text(&c.BatchEndpoint), check: urlProblem, required: true,
			doc: "Batch account URL (`https://<acct>.<region>.batch.azure.com`; `http://127.0.0.1:10200` for the emulator)."},
		{name: "FFBATCH_BATCH_AUTH", def: string(BatchAuthEntra), value: choice(&c.BatchAuth, BatchAuthEntra, BatchAuthSharedKey),
			doc: "`entra` (Microsoft Entra ID) or `sharedkey` (emulator)."},
		{name: "FFBATCH_BATCH_ACCOUNT_NAME", value: text(&c.BatchAccount),
			doc: "Batch account name, for `sharedkey`."},
		{name: "FFBATCH_BATCH_ACCOUNT_KEY", value: text(&c.BatchAccountKey), secret: true,
			doc: "Batch account key, for `sharedkey`."},
	}
}

func poolSettings(c *Config) []setting {
	return []setting{
		{name: "FFBATCH_POOL_ID", def: "ffbatch-pool", value: text(&c.PoolID), check: batchIDProblem, required: true,
			doc: "Pool created on demand and deleted when idle."},
		{name: "FFBATCH_JOB_ID", def: "ffbatch-job", value: text(&c.JobID), check: batchIDProblem, required: true,
			doc: "Job holding the tasks."},
		{name: "FFBATCH_VM_SIZE", def: "Standard_D2s_v3", value: text(&c.VMSize), required: true,
			doc: "VM size of the pool's nodes."},
		{name: "FFBATCH_TASK_SLOTS_PER_NODE", def: "2", value: integer(&c.TaskSlotsPerNode, 1, plan.MaxTaskSlotsPerNode),
			doc: "Tasks run at once per node (match the VM's cores). Batch allows at most 4 per vCPU of `FFBATCH_VM_SIZE`; that limit is checked at start-up for the sizes `internal/plan` knows (D v3/v5 and Fsv2 families)."},
		{name: "FFBATCH_DEDICATED_MIN_NODES", def: "0", value: integer(&c.DedicatedMin, 0, 1000),
			doc: "Fewest dedicated nodes; anything above 0 costs money while idle."},
		{name: "FFBATCH_DEDICATED_MAX_NODES", def: "0", value: integer(&c.DedicatedMax, 0, 1000),
			doc: "Most dedicated nodes."},
		{name: "FFBATCH_SPOT_MIN_NODES", def: "0", value: integer(&c.SpotMin, 0, 1000),
			doc: "Fewest Spot (low-priority) nodes."},
		{name: "FFBATCH_SPOT_MAX_NODES", def: "4", value: integer(&c.SpotMax, 0, 1000),
			doc: "Most Spot nodes; cheaper but can be preempted. This or `FFBATCH_DEDICATED_MAX_NODES` must be positive."},
		{name: "FFBATCH_SCALING_MODE", def: string(ScalingAutoscale), value: choice(&c.Scaling, ScalingAutoscale, ScalingManaged),
			doc: "`autoscale` (formula on `$PendingTasks`, `taskcompletion` deallocation) or `managed` (SubmitTasks resizes an empty pool at once; SweepPools shrinks it)."},
		{name: "FFBATCH_AUTOSCALE_INTERVAL", def: "5m", value: duration(&c.AutoscaleInterval, 5*time.Minute, 168*time.Hour),
			doc: "Autoscale evaluation interval, within the service's limits."},
		// The node image is needed in both modes: with FFBATCH_CONTAINER_IMAGE
		// it must be one Batch supports for containers.
		{name: "FFBATCH_IMAGE_PUBLISHER", def: "Canonical", value: text(&c.ImagePublisher), required: true,
			doc: "Marketplace image publisher of the nodes."},
		{name: "FFBATCH_IMAGE_OFFER", def: "ubuntu-24_04-lts", value: text(&c.ImageOffer), required: true,
			doc: "Marketplace image offer of the nodes."},
		{name: "FFBATCH_IMAGE_SKU", def: "server", value: text(&c.ImageSKU), required: true,
			doc: "Marketplace image SKU of the nodes."},
		{name: "FFBATCH_IMAGE_VERSION", def: "latest", value: text(&c.ImageVersion),
			doc: "Marketplace image version of the nodes."},
		{name: "FFBATCH_NODE_AGENT_SKU", def: "batch.node.ubuntu 24.04", value: text(&c.NodeAgentSKU), required: true,
			doc: "Batch node agent SKU matching the image."},
		{name: "FFBATCH_CONTAINER_IMAGE", value: text(&c.ContainerImage), check: imageRefProblem,
			doc: "Run every task in this container image (which must have `ffmpeg` on its PATH) instead of installing ffmpeg with a start task; the pool prefetches it. The node image must then be one Batch supports for containers (e.g. `microsoft-dsvm` / `ubuntu-hpc` / `2204` with node agent `batch.node.ubuntu 22.04`). Not available on the local stack: the Batch emulator does not run containers and rejects `containerSettings`."},
		{name: "FFBATCH_START_TASK_COMMAND", value: text(&c.StartTaskCommand),
			doc: "Start task command line; empty runs `" + plan.DefaultStartTask + "`."},
		{name: "FFBATCH_POOL_IDLE_TIMEOUT", def: "15m", value: duration(&c.PoolIdleTimeout, 0, 30*day),
			doc: "SweepPools terminates the job and deletes the pool after this long without tasks."},
	}
}

func taskSettings(c *Config) []setting {
	return []setting{
		{name: "FFBATCH_DEFAULT_PRESET", def: plan.DefaultPresetName, value: text(&c.DefaultPreset), check: presetProblem, required: true,
			doc: "Preset when an arrival names none: `" + strings.Join(plan.PresetNames(), "`, `") + "`."},
		{name: "FFBATCH_MAX_TASK_RETRIES", def: "2", value: integer(&c.MaxTaskRetries, 0, 100),
			doc: "Batch retries of a failing ffmpeg run (files over 2 GiB get at most 1)."},
		{name: "FFBATCH_MAX_RESUBMITS", def: "3", value: integer(&c.MaxResubmits, 0, 100),
			doc: "Times SweepPools resubmits a transiently failed file (preemption, upload error) before reporting failure."},
		{name: "FFBATCH_RESUBMIT_BACKOFF", def: "1m", value: duration(&c.ResubmitBackoff, time.Second, day),
			doc: "First resubmission delay; doubles each time (scheduled Service Bus message)."},
		{name: "FFBATCH_ORPHAN_GRACE", def: "15m", value: duration(&c.OrphanGrace, minOrphanGrace, 7*day),
			doc: "A request `submitted` this long whose task is missing from the job (lost, deleted, job gone) is resubmitted by SweepPools, or failed with category `lost` after `FFBATCH_MAX_RESUBMITS`. The minimum is the function timeout."},
		{name: "FFBATCH_TASK_MIN_WALL_CLOCK", def: "10m", value: duration(&c.MinWallClock, time.Minute, 7*day),
			doc: "Smallest task wall-clock limit."},
		{name: "FFBATCH_TASK_WALL_CLOCK_PER_GIB", def: "20m", value: duration(&c.WallClockPerGiB, 0, day),
			doc: "Extra wall-clock time per GiB of input."},
		{name: "FFBATCH_SWEEP_SCHEDULE", def: "0 */5 * * * *", value: text(&c.SweepSchedule), check: scheduleProblem, required: true,
			doc: "Six-field NCRONTAB schedule of SweepPools (function.json uses `%FFBATCH_SWEEP_SCHEDULE%`). Finished tasks are settled at once by TaskFinished; the sweep is the safety net (missed events, lost tasks, idle pools)."},
		{name: "FFBATCH_LOG_LEVEL", def: "info", value: level(&c.LogLevel),
			doc: "`debug`, `info`, `warn` or `error`."},
	}
}
