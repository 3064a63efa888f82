package funchost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// localSettingsFile is the func CLI's local.settings.json.
type localSettingsFile struct {
	IsEncrypted       *bool                      `json:"IsEncrypted"`
	Values            map[string]json.RawMessage `json:"Values"`
	Host              json.RawMessage            `json:"Host"`
	ConnectionStrings map[string]json.RawMessage `json:"ConnectionStrings"`
}

// loadLocalSettings reads the Values of a local.settings.json. A missing file
// is an error only when required is true (the file was named explicitly).
func loadLocalSettings(path string, required bool) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read local settings: %w", err)
	}
	var f localSettingsFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse local settings %s: %w", path, err)
	}
	// The func CLI treats a missing IsEncrypted as true.
	if f.IsEncrypted == nil || *f.IsEncrypted {
		return nil, fmt.Errorf("local settings %s: IsEncrypted must be false (encrypted settings need the func CLI's machine key, which funchost does not have); set \"IsEncrypted\": false and store plain values", path)
	}
	values := make(map[string]string, len(f.Values))
	for k, v := range f.Values {
		s, err := settingString(v)
		if err != nil {
			return nil, fmt.Errorf("local settings %s: Values.%s: %w", path, k, err)
		}
		values[k] = s
	}
	return values, nil
}

// settingString converts a JSON value of local.settings.json Values to the
// string an app setting holds; objects and arrays are rejected.
func settingString(v json.RawMessage) (string, error) {
	trimmed := bytes.TrimSpace(v)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return "", nil
	}
	switch trimmed[0] {
	case '"':
		var s string
		if err := json.Unmarshal(trimmed, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		return "", errors.New("must be a string, number or boolean, not an object or array")
	case 't', 'f':
		b, err := strconv.ParseBool(string(trimmed))
		if err != nil {
			return "", err
		}
		// Newtonsoft turns JSON booleans into "True"/"False".
		if b {
			return "True", nil
		}
		return "False", nil
	default:
		return string(trimmed), nil
	}
}

// appSettings are the settings the real host sees: the process environment
// plus local.settings.json Values that the environment does not already
// define (the func CLI skips those with a warning).
type appSettings struct {
	values map[string]string
	// fromFile are Values keys taken from local.settings.json, in order.
	fromFile []string
}

func newAppSettings(environ []string, values map[string]string, log *slog.Logger) appSettings {
	s := appSettings{values: map[string]string{}}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			s.values[k] = v
		}
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s.values[k] != "" {
			log.Warn("skipping setting from local settings as it's already defined in current environment variables", slog.String("setting", k))
			continue
		}
		s.values[k] = values[k]
		s.fromFile = append(s.fromFile, k)
	}
	return s
}

// lookup finds a setting by exact name, then case-insensitively (app settings
// are case-insensitive in Azure). A "__" in name also matches ":".
func (s appSettings) lookup(name string) (string, bool) {
	if v, ok := s.values[name]; ok {
		return v, true
	}
	alt := strings.ReplaceAll(name, "__", ":")
	for k, v := range s.values {
		if strings.EqualFold(k, name) || strings.EqualFold(k, alt) {
			return v, true
		}
	}
	return "", false
}

// environ is the handler's environment: every setting as KEY=VALUE, sorted,
// with extra appended last so it wins.
func (s appSettings) environ(extra map[string]string) []string {
	out := make([]string, 0, len(s.values)+len(extra))
	for k, v := range s.values {
		if _, over := extra[k]; over {
			continue
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

var percentToken = regexp.MustCompile(`%([^%\s]+)%`)

// resolve expands %Setting% tokens in a binding property the way the WebJobs
// name resolver does: every token must name an existing app setting.
func (s appSettings) resolve(v string) (string, error) {
	var missing []string
	out := percentToken.ReplaceAllStringFunc(v, func(tok string) string {
		name := tok[1 : len(tok)-1]
		val, ok := s.lookup(name)
		if !ok {
			missing = append(missing, tok)
			return tok
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("'%s' does not resolve to a value (no app setting %s)", missing[0], strings.Trim(missing[0], "%"))
	}
	return out, nil
}

// expandEnv implements .NET's Environment.ExpandEnvironmentVariables:
// %NAME% tokens that name a variable are replaced, others are left as is.
func expandEnv(v string, lookup func(string) (string, bool)) string {
	return percentToken.ReplaceAllStringFunc(v, func(tok string) string {
		if val, ok := lookup(tok[1 : len(tok)-1]); ok {
			return val
		}
		return tok
	})
}
