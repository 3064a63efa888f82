package localstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ffbatch/ffbatch/internal/config"
)

// ErrUnknownSetting is matched by errors.Is for a setting name in
// Options.Settings that neither the handler nor the Functions host reads.
var ErrUnknownSetting = errors.New("unknown app setting")

// hostSettings are settings the Functions host (funchost) reads itself.
var hostSettings = []string{"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "FUNCHOST_EVENTGRID_BLOBS"}

// hostConnections are the connections of the function app whose
// identity-based forms (<connection>__<property>) the host reads.
var hostConnections = []string{"AzureWebJobsStorage", "ServiceBusConnection"}

// checkSettingNames refuses names that nothing reads, so a typo in --set
// fails the start instead of silently changing nothing. Known are the
// handler's settings (internal/config), the keys of
// local.settings.json.example, the host's own settings, the identity-based
// forms of the app's connections and AzureWebJobs.<Function>.Disabled for
// each function. The host's names match regardless of case, as in Azure.
func checkSettingNames(names, example, functions []string) error {
	known := slices.Concat(config.Settings(), example, hostSettings)
	for _, fn := range functions {
		known = append(known, "AzureWebJobs."+fn+".Disabled")
	}
	sort.Strings(names)
	var problems []string
	for _, name := range names {
		if slices.Contains(known, name) || hostOwned(name, functions) {
			continue
		}
		p := name
		if s, ok := closest(name, known); ok {
			p += " (did you mean " + s + "?)"
		}
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; the settings are listed in the README and in local.settings.json.example", ErrUnknownSetting, strings.Join(problems, ", "))
}

// hostOwned reports whether the host reads name, compared without case:
// a host setting, <connection>__<property>, or AzureWebJobs.<Function>.Disabled.
func hostOwned(name string, functions []string) bool {
	for _, h := range hostSettings {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	for _, c := range hostConnections {
		if len(name) > len(c)+2 && strings.EqualFold(name[:len(c)+2], c+"__") {
			return true
		}
	}
	for _, fn := range functions {
		if strings.EqualFold(name, "AzureWebJobs."+fn+".Disabled") {
			return true
		}
	}
	return false
}

// functionNames lists the folders of an app layout (or of
// function-definitions/) that hold a function.json.
func functionNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "function.json")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
