package localstack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// The Functions host keeps its keys in <data>/funchost/secrets in the real
// host's file format (host.json: the master key, the host keys and the
// system keys; <function>.json: that function's keys). It generates them,
// random, when it first starts on a fresh state directory, so every stack
// has its own; Start copies them into stack.json (mode 0600).

const (
	// dashboardFunction is the function whose own key goes into the
	// dashboard's URL.
	dashboardFunction = "dashboard"
	// eventGridKeyName is the system key of the Event Grid webhook.
	eventGridKeyName = "eventgrid_extension"
)

type secretsFile struct {
	MasterKey    *namedKey  `json:"masterKey"`    // host.json
	FunctionKeys []namedKey `json:"functionKeys"` // host.json
	SystemKeys   []namedKey `json:"systemKeys"`   // host.json
	Keys         []namedKey `json:"keys"`         // <function>.json
}

type namedKey struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// hostKeys are the Functions host's keys the stack's clients use.
type hostKeys struct {
	Host      string // default host key: function level for every HTTP function
	Dashboard string // the dashboard function's default key
	Master    string // the admin API (/admin/*)
	EventGrid string // the Event Grid webhook (eventgrid_extension system key)
}

// readKeys reads the keys from the host's secrets directory.
func readKeys(secretsDir string) (hostKeys, error) {
	read := func(name string) (secretsFile, error) {
		var f secretsFile
		b, err := os.ReadFile(filepath.Join(secretsDir, name))
		if err != nil {
			return f, fmt.Errorf("read function keys: %w", err)
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return f, fmt.Errorf("read function keys %s: %w", name, err)
		}
		return f, nil
	}
	find := func(file, name string, keys []namedKey) (string, error) {
		for _, k := range keys {
			if k.Name == name && k.Value != "" {
				return k.Value, nil
			}
		}
		return "", fmt.Errorf("read function keys: %s has no %s key", file, name)
	}
	var k hostKeys
	host, err := read("host.json")
	if err != nil {
		return k, err
	}
	if host.MasterKey == nil || host.MasterKey.Value == "" {
		return k, fmt.Errorf("read function keys: host.json has no master key")
	}
	k.Master = host.MasterKey.Value
	if k.Host, err = find("host.json", "default", host.FunctionKeys); err != nil {
		return k, err
	}
	if k.EventGrid, err = find("host.json", eventGridKeyName, host.SystemKeys); err != nil {
		return k, err
	}
	dash, err := read(dashboardFunction + ".json")
	if err != nil {
		return k, err
	}
	k.Dashboard, err = find(dashboardFunction+".json", "default", dash.Keys)
	return k, err
}

// DashboardURL is the dashboard's address with its function key, or ""
// when the stack has no dashboard key.
func (e Endpoints) DashboardURL() string {
	if e.DashboardKey == "" {
		return ""
	}
	return e.FunctionsURL + "/api/dashboard?code=" + url.QueryEscape(e.DashboardKey)
}

// EventGridWebhookURL is the address an Event Grid subscription would
// deliver function's events to, with the eventgrid_extension system key.
func (e Endpoints) EventGridWebhookURL(function string) string {
	return e.FunctionsURL + "/runtime/webhooks/eventgrid?functionName=" + url.QueryEscape(function) +
		"&code=" + url.QueryEscape(e.EventGridKey)
}
