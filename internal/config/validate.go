package config

import (
	"fmt"
	"sort"

	"github.com/ffbatch/ffbatch/internal/plan"
)

// validate runs each declaration's own row, then the checks that relate
// settings to each other. It returns every problem, sorted by setting.
func validate(c *Config, decls []setting) Errors {
	r := &report{}
	for _, s := range decls {
		if p := s.problem(); p != "" {
			r.add(s.name, "%s", p)
		}
	}
	for _, check := range []func(*Config, *report){containerRoles, storageAuth, serviceBusAuth, batchAuth, nodeBounds, slotsFitVM} {
		check(c, r)
	}
	sort.SliceStable(r.errs, func(i, j int) bool { return r.errs[i].Setting < r.errs[j].Setting })
	return r.errs
}

// report collects problems.
type report struct{ errs Errors }

func (r *report) add(setting, format string, args ...any) {
	r.errs = append(r.errs, FieldError{Setting: setting, Problem: fmt.Sprintf(format, args...)})
}

// containerRoles: each container has one role. The status records and
// output claims must not sit among the inputs, and an upstream container
// must be neither the input container (Event Grid would transcode its
// blobs a second time) nor one the handler writes.
func containerRoles(c *Config, r *report) {
	if c.StatusContainer == c.InputContainer {
		r.add("FFBATCH_STATUS_CONTAINER", "must differ from FFBATCH_INPUT_CONTAINER")
	}
	if !r.errs.missing("FFBATCH_UPSTREAM_CONTAINERS") {
		return
	}
	for _, u := range c.UpstreamContainers {
		switch u {
		case c.InputContainer:
			r.add("FFBATCH_UPSTREAM_CONTAINERS", "%q is FFBATCH_INPUT_CONTAINER, whose blobs Event Grid already submits; list only containers it does not watch", u)
		case c.OutputContainer:
			r.add("FFBATCH_UPSTREAM_CONTAINERS", "%q is FFBATCH_OUTPUT_CONTAINER, which receives the MP3s and task logs; it cannot also hold sources", u)
		case c.StatusContainer:
			r.add("FFBATCH_UPSTREAM_CONTAINERS", "%q is FFBATCH_STATUS_CONTAINER, which holds status records; it cannot also hold sources", u)
		}
	}
}

// storageAuth: exactly one way to reach Blob storage.
func storageAuth(c *Config, r *report) {
	switch {
	case c.StorageURL == "" && c.StorageConn == "":
		r.add("FFBATCH_STORAGE_ACCOUNT_URL", "set this (managed identity) or FFBATCH_STORAGE_CONNECTION_STRING (Azurite)")
	case c.StorageURL != "" && c.StorageConn != "":
		r.add("FFBATCH_STORAGE_CONNECTION_STRING", "set either this or FFBATCH_STORAGE_ACCOUNT_URL, not both")
	}
}

// serviceBusAuth: exactly one way to reach Service Bus, after the host's
// settings were folded in.
func serviceBusAuth(c *Config, r *report) {
	switch {
	case c.ServiceBusNamespace == "" && c.ServiceBusConn == "":
		r.add("FFBATCH_SERVICEBUS_NAMESPACE", "set this (managed identity; or %s) or FFBATCH_SERVICEBUS_CONNECTION_STRING (or %s)", hostSBNamespace, hostSBConnection)
	case c.ServiceBusNamespace != "" && c.ServiceBusConn != "":
		r.add("FFBATCH_SERVICEBUS_CONNECTION_STRING", "set either this or FFBATCH_SERVICEBUS_NAMESPACE, not both")
	}
}

// batchAuth: shared-key signing needs the account name and key.
func batchAuth(c *Config, r *report) {
	if c.BatchAuth != BatchAuthSharedKey {
		return
	}
	if c.BatchAccount == "" {
		r.add("FFBATCH_BATCH_ACCOUNT_NAME", "is required when FFBATCH_BATCH_AUTH is sharedkey")
	}
	if c.BatchAccountKey == "" {
		r.add("FFBATCH_BATCH_ACCOUNT_KEY", "is required when FFBATCH_BATCH_AUTH is sharedkey")
	} else if p := base64Problem(c.BatchAccountKey, ""); p != "" {
		r.add("FFBATCH_BATCH_ACCOUNT_KEY", "%s", p)
	}
}

// nodeBounds: minimums within maximums and room for at least one node,
// checked only between values that are valid on their own.
func nodeBounds(c *Config, r *report) {
	ok := r.errs.missing
	dedicatedOK, spotOK := ok("FFBATCH_DEDICATED_MAX_NODES"), ok("FFBATCH_SPOT_MAX_NODES")
	if c.DedicatedMin > c.DedicatedMax && dedicatedOK && ok("FFBATCH_DEDICATED_MIN_NODES") {
		r.add("FFBATCH_DEDICATED_MIN_NODES", "must not exceed FFBATCH_DEDICATED_MAX_NODES (%d)", c.DedicatedMax)
	}
	if c.SpotMin > c.SpotMax && spotOK && ok("FFBATCH_SPOT_MIN_NODES") {
		r.add("FFBATCH_SPOT_MIN_NODES", "must not exceed FFBATCH_SPOT_MAX_NODES (%d)", c.SpotMax)
	}
	if c.DedicatedMax+c.SpotMax == 0 && dedicatedOK && spotOK {
		r.add("FFBATCH_SPOT_MAX_NODES", "FFBATCH_DEDICATED_MAX_NODES + FFBATCH_SPOT_MAX_NODES must be at least 1")
	}
}

// slotsFitVM: Batch refuses a pool whose taskSlotsPerNode exceeds 4 × the
// VM size's vCPUs, so every pool creation would fail with 400. Sizes
// internal/plan knows (the documented ones) are checked here, before the
// first file; others only against Batch's overall cap of 256.
func slotsFitVM(c *Config, r *report) {
	if !r.errs.missing("FFBATCH_TASK_SLOTS_PER_NODE") || !r.errs.missing("FFBATCH_VM_SIZE") {
		return
	}
	most, known := plan.MaxTaskSlots(c.VMSize)
	if known && c.TaskSlotsPerNode > most {
		cores, _ := plan.VMCores(c.VMSize)
		r.add("FFBATCH_TASK_SLOTS_PER_NODE", "must be at most %d for %s (Batch allows 4 task slots per vCPU, and it has %d), got %d",
			most, c.VMSize, cores, c.TaskSlotsPerNode)
	}
}
