package funchost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Trigger binding types funchost runs.
const (
	typeHTTPTrigger       = "httptrigger"
	typeTimerTrigger      = "timertrigger"
	typeServiceBusTrigger = "servicebustrigger"
	typeEventGridTrigger  = "eventgridtrigger"
	typeHTTP              = "http"
)

// binding is one entry of function.json "bindings" after %Setting%
// expansion. Property keys are lower-cased: the host binds them
// case-insensitively.
type binding struct {
	Type      string // lower-case
	Direction string // "in", "out" or "inout", lower-case
	Name      string
	props     map[string]any
}

func (b binding) str(key string) string {
	v, _ := b.props[key].(string)
	return v
}

// boolean reads a boolean property written as true/false or "true"/"false".
func (b binding) boolean(key string, def bool) (bool, error) {
	switch v := b.props[key].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("property %s must be true or false, got %v", key, b.props[key])
}

// strings reads a property holding a string array.
func (b binding) strings(key string) ([]string, error) {
	switch v := b.props[key].(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("property %s must be an array of strings", key)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("property %s must be an array of strings", key)
}

// function is one <Function>/function.json of the layout.
type function struct {
	Name     string
	Disabled bool
	Trigger  binding
	// HTTPOut is the http output binding of an HTTP function, if any.
	HTTPOut *binding

	HTTP       *httpTriggerConfig
	Timer      *timerConfig
	ServiceBus *serviceBusTriggerConfig
	EventGrid  bool
}

// httpInAndOut reports whether requests can be forwarded to the handler
// as-is (IsHttpInAndOutFunction in the host).
func (f *function) httpInAndOut() bool {
	return f.HTTP != nil && f.HTTPOut != nil
}

var functionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,127}$`)

type functionJSON struct {
	Disabled any                          `json:"disabled"`
	Bindings []map[string]json.RawMessage `json:"bindings"`
}

// loadFunctions reads every <appDir>/<Name>/function.json. only, when not
// empty, is host.json's "functions" allow-list.
func loadFunctions(appDir string, only []string, settings appSettings, hc *hostConfig) ([]*function, error) {
	entries, err := os.ReadDir(appDir)
	if err != nil {
		return nil, fmt.Errorf("read app directory: %w", err)
	}
	allowed := map[string]bool{}
	for _, n := range only {
		allowed[strings.ToLower(n)] = true
	}
	var fns []*function
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(appDir, e.Name(), "function.json")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if len(allowed) > 0 && !allowed[strings.ToLower(e.Name())] {
			continue
		}
		fn, err := loadFunction(path, e.Name(), settings, hc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fns = append(fns, fn)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("no functions found in %s: each function needs a <Name>/function.json folder", appDir)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	return fns, nil
}

func loadFunction(path, name string, settings appSettings, hc *hostConfig) (*function, error) {
	if !functionName.MatchString(name) {
		return nil, fmt.Errorf("function folder %q: invalid function name (letters, digits, '_' and '-', starting with a letter)", name)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read function %s: %w", name, err)
	}
	var fj functionJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fj); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	fn := &function{Name: name}
	if fn.Disabled, err = disabled(fj.Disabled, name, settings); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(fj.Bindings) == 0 {
		return nil, fmt.Errorf("%s: no bindings; a function needs exactly one trigger binding", path)
	}
	var triggers []binding
	for i, rawB := range fj.Bindings {
		b, err := parseBinding(rawB, settings)
		if err != nil {
			return nil, fmt.Errorf("%s: binding %d: %w", path, i, err)
		}
		switch {
		case strings.HasSuffix(b.Type, "trigger"):
			triggers = append(triggers, b)
		case b.Type == typeHTTP && b.Direction == "out":
			b := b
			fn.HTTPOut = &b
		case b.Direction == "out":
			return nil, fmt.Errorf("%s: binding %d (%s %q): output binding type %q is not supported by funchost (only http outputs are); send from the handler with an SDK instead", path, i, b.Direction, b.Name, b.Type)
		default:
			return nil, fmt.Errorf("%s: binding %d (%s %q): input binding type %q is not supported by funchost", path, i, b.Direction, b.Name, b.Type)
		}
	}
	if len(triggers) != 1 {
		return nil, fmt.Errorf("%s: found %d trigger bindings; a function needs exactly one", path, len(triggers))
	}
	fn.Trigger = triggers[0]
	if fn.Trigger.Direction != "in" {
		return nil, fmt.Errorf("%s: trigger binding %q must have direction \"in\"", path, fn.Trigger.Name)
	}
	if fn.HTTPOut != nil && fn.Trigger.Type != typeHTTPTrigger {
		return nil, fmt.Errorf("%s: an http output binding needs an httpTrigger", path)
	}
	switch fn.Trigger.Type {
	case typeHTTPTrigger:
		fn.HTTP, err = parseHTTPTrigger(fn.Trigger, name)
	case typeTimerTrigger:
		fn.Timer, err = parseTimerTrigger(fn.Trigger)
	case typeServiceBusTrigger:
		fn.ServiceBus, err = parseServiceBusTrigger(fn.Trigger, hc)
	case typeEventGridTrigger:
		fn.EventGrid = true
	default:
		return nil, fmt.Errorf("%s: unknown trigger type %q; funchost supports httpTrigger, timerTrigger, serviceBusTrigger and eventGridTrigger", path, fn.Trigger.props["type"])
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s %q: %w", path, fn.Trigger.Type, fn.Trigger.Name, err)
	}
	return fn, nil
}

// disabled reads function.json "disabled" (a bool or a setting name) and the
// AzureWebJobs.<Name>.Disabled app setting.
func disabled(v any, name string, settings appSettings) (bool, error) {
	if s, ok := settings.lookup("AzureWebJobs." + name + ".Disabled"); ok {
		return strings.EqualFold(s, "true") || s == "1", nil
	}
	switch d := v.(type) {
	case nil:
		return false, nil
	case bool:
		return d, nil
	case string:
		if strings.EqualFold(d, "true") || strings.EqualFold(d, "false") {
			return strings.EqualFold(d, "true"), nil
		}
		s, ok := settings.lookup(d)
		if !ok {
			return false, fmt.Errorf("disabled: %q is neither true/false nor an app setting", d)
		}
		return strings.EqualFold(s, "true") || s == "1", nil
	}
	return false, fmt.Errorf("disabled must be a boolean or a setting name")
}

// parseBinding decodes one binding and expands %Setting% in every string
// property except type, direction and name.
func parseBinding(raw map[string]json.RawMessage, settings appSettings) (binding, error) {
	b := binding{props: map[string]any{}}
	for k, v := range raw {
		var val any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&val); err != nil {
			return b, fmt.Errorf("property %s: %w", k, err)
		}
		b.props[strings.ToLower(k)] = val
	}
	get := func(k string) (string, error) {
		v, ok := b.props[k]
		if !ok {
			return "", fmt.Errorf("missing required property %q", k)
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("property %q must be a non-empty string", k)
		}
		return s, nil
	}
	var err error
	if b.Type, err = get("type"); err != nil {
		return b, err
	}
	b.Type = strings.ToLower(b.Type)
	if b.Direction, err = get("direction"); err != nil {
		return b, fmt.Errorf("%s: %w", b.Type, err)
	}
	b.Direction = strings.ToLower(b.Direction)
	if b.Direction != "in" && b.Direction != "out" && b.Direction != "inout" {
		return b, fmt.Errorf("%s: direction %q must be in, out or inout", b.Type, b.Direction)
	}
	if b.Name, err = get("name"); err != nil {
		return b, fmt.Errorf("%s: %w", b.Type, err)
	}
	for k, v := range b.props {
		s, ok := v.(string)
		if !ok || k == "type" || k == "direction" || k == "name" {
			continue
		}
		r, err := settings.resolve(s)
		if err != nil {
			return b, fmt.Errorf("%s %q: property %s: %w", b.Type, b.Name, k, err)
		}
		b.props[k] = r
	}
	return b, nil
}
