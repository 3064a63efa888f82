package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Paths of the files the checks read, relative to the repository root.
const (
	MainBicepPath     = "infra/main.bicep"
	MainParamsPath    = "infra/main.bicepparam"
	LocalSettingsPath = "local.settings.json.example"
	HostJSONPath      = "host.json"
	ServiceBusModule  = "infra/modules/servicebus.bicep"
	FunctionAppModule = "infra/modules/functionapp.bicep"
	DeployDocPath     = "docs/deploy.md"
	ScriptsDir        = "scripts"
	FunctionsDir      = "function-definitions"
	ConfigSourcePath  = "internal/config/settings.go"
)

// Repo is the input of CheckSettings: file contents keyed by their
// repository-relative path, plus what internal/config reads.
type Repo struct {
	// Settings is every setting name internal/config reads
	// (config.Settings()).
	Settings []string
	// Defaults maps a setting to its internal/config default, for the
	// settings that have one (config.Defaults()).
	Defaults map[string]string
	// TaskSlots returns the most task slots per node Batch accepts for a
	// VM size, and whether the size is known (plan.MaxTaskSlots).
	TaskSlots func(vmSize string) (int, bool)
	// Files holds MainBicepPath, MainParamsPath, LocalSettingsPath,
	// HostJSONPath, ServiceBusModule, FunctionAppModule, DeployDocPath,
	// scripts/*.sh and function-definitions/<Name>/function.json.
	Files map[string]string
}

// LoadRepo reads the files CheckSettings needs from the repository at root.
// Settings, Defaults and TaskSlots are left for the caller to fill from
// config.Settings(), config.Defaults() and plan.MaxTaskSlots, so they come
// from the code that actually runs.
func LoadRepo(root string) (*Repo, error) {
	r := &Repo{Files: map[string]string{}}
	for _, p := range []string{MainBicepPath, MainParamsPath, LocalSettingsPath, HostJSONPath, ServiceBusModule, FunctionAppModule, DeployDocPath} {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("load repo: %w", err)
		}
		r.Files[p] = string(b)
	}
	defs, err := filepath.Glob(filepath.Join(root, FunctionsDir, "*", "function.json"))
	if err != nil {
		return nil, fmt.Errorf("load repo: list function definitions: %w", err)
	}
	scripts, err := filepath.Glob(filepath.Join(root, ScriptsDir, "*.sh"))
	if err != nil {
		return nil, fmt.Errorf("load repo: list scripts: %w", err)
	}
	for _, d := range append(defs, scripts...) {
		b, err := os.ReadFile(d)
		if err != nil {
			return nil, fmt.Errorf("load repo: %w", err)
		}
		rel, err := filepath.Rel(root, d)
		if err != nil {
			return nil, fmt.Errorf("load repo: %w", err)
		}
		r.Files[filepath.ToSlash(rel)] = string(b)
	}
	return r, nil
}

// functionDefs returns function name -> function.json content.
func (r *Repo) functionDefs() map[string]string {
	out := map[string]string{}
	prefix := FunctionsDir + "/"
	for p, c := range r.Files {
		if strings.HasPrefix(p, prefix) && strings.HasSuffix(p, "/function.json") {
			name := strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/function.json")
			if !strings.Contains(name, "/") {
				out[name] = c
			}
		}
	}
	return out
}

// localValues returns the Values object of local.settings.json.example.
func localValues(src string) (map[string]string, error) {
	var doc struct {
		Values map[string]any `json:"Values"`
	}
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if doc.Values == nil {
		return nil, fmt.Errorf("no Values object")
	}
	out := make(map[string]string, len(doc.Values))
	for k, v := range doc.Values {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("value of %s is %T; app settings are strings", k, v)
		}
		out[k] = s
	}
	return out, nil
}
