package localstack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// The Functions host keeps its function keys in <data>/funchost/secrets in
// the real host's file format (host.json: the master key and the host
// keys; <function>.json: that function's keys), created when it starts.

// dashboardFunction is the function whose own key goes into the
// dashboard's URL.
const dashboardFunction = "dashboard"

type secretsFile struct {
	FunctionKeys []namedKey `json:"functionKeys"` // host.json
	Keys         []namedKey `json:"keys"`         // <function>.json
}

type namedKey struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// readKeys returns the default host key (function level for every HTTP
// function) and the dashboard function's default key.
func readKeys(secretsDir string) (hostKey, dashboardKey string, err error) {
	read := func(name string, keys func(secretsFile) []namedKey) (string, error) {
		b, err := os.ReadFile(filepath.Join(secretsDir, name))
		if err != nil {
			return "", fmt.Errorf("read function keys: %w", err)
		}
		var f secretsFile
		if err := json.Unmarshal(b, &f); err != nil {
			return "", fmt.Errorf("read function keys %s: %w", name, err)
		}
		for _, k := range keys(f) {
			if k.Name == "default" && k.Value != "" {
				return k.Value, nil
			}
		}
		return "", fmt.Errorf("read function keys: %s has no default key", name)
	}
	if hostKey, err = read("host.json", func(f secretsFile) []namedKey { return f.FunctionKeys }); err != nil {
		return "", "", err
	}
	if dashboardKey, err = read(dashboardFunction+".json", func(f secretsFile) []namedKey { return f.Keys }); err != nil {
		return "", "", err
	}
	return hostKey, dashboardKey, nil
}

// DashboardURL is the dashboard's address with its function key, or ""
// when the stack has no dashboard key.
func (e Endpoints) DashboardURL() string {
	if e.DashboardKey == "" {
		return ""
	}
	return e.FunctionsURL + "/api/dashboard?code=" + url.QueryEscape(e.DashboardKey)
}
