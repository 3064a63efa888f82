package infra

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Paths of the files the checks read, relative to the repository root.
const (
	MainBicepPath     = "infra/main.bicep"
	MainParamsPath    = "infra/main.bicepparam"
	LocalSettingsPath = "local.settings.json.example"
	HostJSONPath      = "host.json"
	ServiceBusModule  = "infra/modules/servicebus.bicep"
	FunctionsDir      = "function-definitions"
	ConfigSourcePath  = "internal/config/config.go"
)

// Repo is the input of CheckSettings: file contents keyed by their
// repository-relative path, plus what internal/config reads.
type Repo struct {
	// Settings is every setting name internal/config reads
	// (config.Settings()).
	Settings []string
	// Defaults maps a setting to its envconfig `default` tag, for the
	// settings that have one.
	Defaults map[string]string
	// SourceNames are the envconfig names found in internal/config's source
	// by LoadRepo, so a caller can confirm the source parse saw the same
	// struct as config.Settings().
	SourceNames []string
	// Files holds MainBicepPath, MainParamsPath, LocalSettingsPath,
	// HostJSONPath, ServiceBusModule and
	// function-definitions/<Name>/function.json.
	Files map[string]string
}

// LoadRepo reads the files CheckSettings needs from the repository at root
// and the defaults from internal/config's source. Settings is left for the
// caller to fill from config.Settings(), so the list comes from the code
// that actually runs.
func LoadRepo(root string) (*Repo, error) {
	r := &Repo{Files: map[string]string{}}
	for _, p := range []string{MainBicepPath, MainParamsPath, LocalSettingsPath, HostJSONPath, ServiceBusModule} {
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
	for _, d := range defs {
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
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ConfigSourcePath)))
	if err != nil {
		return nil, fmt.Errorf("load repo: %w", err)
	}
	names, defaults, err := EnvTags(src)
	if err != nil {
		return nil, fmt.Errorf("load repo: %s: %w", ConfigSourcePath, err)
	}
	r.SourceNames, r.Defaults = names, defaults
	return r, nil
}

// EnvTags parses Go source and returns the envconfig names of the fields of
// the struct type named env, and the `default` tag of those that have one.
func EnvTags(src []byte) (names []string, defaults map[string]string, err error) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, fmt.Errorf("parse: %w", err)
	}
	var st *ast.StructType
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "env" {
			st, _ = ts.Type.(*ast.StructType)
			return false
		}
		return st == nil
	})
	if st == nil {
		return nil, nil, fmt.Errorf("no struct type env")
	}
	defaults = map[string]string{}
	for _, field := range st.Fields.List {
		if field.Tag == nil {
			continue
		}
		raw, err := strconv.Unquote(field.Tag.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("field tag %s: %w", field.Tag.Value, err)
		}
		tag := reflect.StructTag(raw)
		name := tag.Get("envconfig")
		if name == "" {
			continue
		}
		names = append(names, name)
		if d, ok := tag.Lookup("default"); ok {
			defaults[name] = d
		}
	}
	sort.Strings(names)
	return names, defaults, nil
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
