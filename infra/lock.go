package infra

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

// maxLockDuration is the longest peek-lock Service Bus allows.
const maxLockDuration = 5 * time.Minute

// defaultMaxBatchWaitTime is the Service Bus extension's default
// (functions-host.md §2).
const defaultMaxBatchWaitTime = 30 * time.Second

// lockCoversBatch checks the arrivals queue's lock duration against
// host.json: SubmitTasks receives batches, for which the host does not renew
// locks, and the extension requires maxBatchWaitTime to be at most half the
// lock duration (functions-host.md §0 item 6 and §2).
func (c *checker) lockCoversBatch() {
	lockExpr, from := "", ""
	if mod, ok := c.main.Modules["serviceBus"]; ok {
		if e, ok := mod.Params["arrivalsLockDuration"]; ok {
			lockExpr, from = e, MainBicepPath
		}
	}
	if lockExpr == "" {
		f, err := ParseBicep(c.r.Files[ServiceBusModule])
		if err != nil {
			c.add(ServiceBusModule, "", "%v", err)
			return
		}
		p, ok := f.Params["arrivalsLockDuration"]
		if !ok || !p.HasDefault {
			c.add(ServiceBusModule, "arrivalsLockDuration", "not declared with a default, and main.bicep does not pass it")
			return
		}
		lockExpr, from = p.Default, ServiceBusModule
	}
	raw, ok := c.resolveOne(lockExpr)
	if !ok && from == ServiceBusModule {
		raw, ok = literal(lockExpr)
	}
	if !ok {
		c.add(from, "arrivalsLockDuration", "%s is not a literal duration the check can read", lockExpr)
		return
	}
	lock, err := dotnettime.ParseDuration(raw)
	if err != nil {
		c.add(from, "arrivalsLockDuration", "%v", err)
		return
	}
	if lock > maxLockDuration {
		c.add(from, "arrivalsLockDuration", "%s exceeds the Service Bus maximum of 5 minutes", raw)
	}
	wait, err := hostBatchWait(c.r.Files[HostJSONPath])
	if err != nil {
		c.add(HostJSONPath, "extensions.serviceBus.maxBatchWaitTime", "%v", err)
		return
	}
	if 2*wait > lock {
		c.add(HostJSONPath, "extensions.serviceBus.maxBatchWaitTime", "%v is more than half the arrivals queue lock duration %s (%s); batches would lose their locks", wait, raw, from)
	}
}

func literal(expr string) (string, bool) {
	expr = strings.TrimSpace(expr)
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' && !strings.Contains(expr, "${") {
		return expr[1 : len(expr)-1], true
	}
	return "", false
}

// hostBatchWait returns extensions.serviceBus.maxBatchWaitTime from
// host.json, or the extension's default when it is not set.
func hostBatchWait(src string) (time.Duration, error) {
	var doc struct {
		Extensions struct {
			ServiceBus struct {
				MaxBatchWaitTime *string `json:"maxBatchWaitTime"`
			} `json:"serviceBus"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		return 0, fmt.Errorf("parse: %w", err)
	}
	if doc.Extensions.ServiceBus.MaxBatchWaitTime == nil {
		return defaultMaxBatchWaitTime, nil
	}
	return dotnettime.ParseTimeSpan(*doc.Extensions.ServiceBus.MaxBatchWaitTime)
}
