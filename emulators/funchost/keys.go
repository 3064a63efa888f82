package funchost

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Function keys, as the real host keeps them with
// AzureWebJobsSecretStorageType=files: <StateDir>/secrets/host.json holds
// the master key and the host keys (function level for every function),
// <StateDir>/secrets/<function, lower case>.json a function's own keys.
// Missing files and keys are generated on start (the real host creates a
// function's keys on first use; funchost creates them up front so tools
// can read them before the first request). Edited files are read as they
// are, so a known key can be set by writing it there before start.
//
// A request names its key in the x-functions-key header or, failing
// that, the code query parameter (AuthenticationLevelHandler). An
// httpTrigger with authLevel anonymous needs none; function (the default)
// needs one of its own keys, a host key or the master key; admin needs
// the master key. Anything else is answered 401 with an empty body.
//
// The admin API (/admin/*, but /admin/host/ping) needs the master key and
// an extension's webhook (/runtime/webhooks/<extension>) the system key
// "<extension>_extension" or the master key, as the host's AdminAuthLevel
// and SystemKeyAuthLevel policies require. funchost creates the
// eventgrid_extension system key up front when a function has an
// eventGridTrigger (the real host creates it when the webhook URL is
// first asked for).

const (
	keyHeader     = "x-functions-key"
	keyQuery      = "code"
	defaultKey    = "default"
	masterKeyName = "master"
	// EventGridKeyName is the system key of the Event Grid webhook.
	EventGridKeyName = "eventgrid_extension"
)

// Authorization levels of function.json's authLevel, lower case.
const (
	authAnonymous = "anonymous"
	authFunction  = "function"
	authAdmin     = "admin"
)

// Keys are the keys a Host accepts.
type Keys struct {
	Master string
	// Host are the host keys by name ("default" always exists).
	Host map[string]string
	// Functions are the functions' own keys by function name, then key
	// name, for the functions with an httpTrigger.
	Functions map[string]map[string]string
	// System are the system keys by name (EventGridKeyName guards the
	// Event Grid webhook).
	System map[string]string
}

type secretKey struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Encrypted bool   `json:"encrypted"`
}

type hostSecretsFile struct {
	MasterKey    *secretKey  `json:"masterKey"`
	FunctionKeys []secretKey `json:"functionKeys"`
	SystemKeys   []secretKey `json:"systemKeys"`
	Source       string      `json:"source,omitempty"`
}

type functionSecretsFile struct {
	Keys   []secretKey `json:"keys"`
	Source string      `json:"source,omitempty"`
}

// loadKeys reads (or creates) the secrets files in dir for fns.
func loadKeys(dir string, fns []*function) (Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Keys{}, fmt.Errorf("secrets: %w", err)
	}
	var hs hostSecretsFile
	if err := readOrCreate(filepath.Join(dir, "host.json"), &hs, func() bool {
		changed := false
		if hs.MasterKey == nil || hs.MasterKey.Value == "" {
			hs.MasterKey, changed = &secretKey{Name: masterKeyName, Value: newKey()}, true
		}
		if len(hs.FunctionKeys) == 0 {
			hs.FunctionKeys, changed = []secretKey{{Name: defaultKey, Value: newKey()}}, true
		}
		if hs.SystemKeys == nil {
			hs.SystemKeys = []secretKey{}
		}
		if hasEventGrid(fns) && byName(hs.SystemKeys)[EventGridKeyName] == "" {
			hs.SystemKeys, changed = append(hs.SystemKeys, secretKey{Name: EventGridKeyName, Value: newKey()}), true
		}
		hs.Source = "runtime"
		return changed
	}); err != nil {
		return Keys{}, err
	}
	k := Keys{Master: hs.MasterKey.Value, Host: byName(hs.FunctionKeys), Functions: map[string]map[string]string{}, System: byName(hs.SystemKeys)}
	for _, fn := range fns {
		if fn.HTTP == nil {
			continue
		}
		var fs functionSecretsFile
		if err := readOrCreate(filepath.Join(dir, strings.ToLower(fn.Name)+".json"), &fs, func() bool {
			if len(fs.Keys) > 0 {
				return false
			}
			fs.Keys, fs.Source = []secretKey{{Name: defaultKey, Value: newKey()}}, "runtime"
			return true
		}); err != nil {
			return Keys{}, err
		}
		k.Functions[fn.Name] = byName(fs.Keys)
	}
	return k, nil
}

func hasEventGrid(fns []*function) bool {
	for _, fn := range fns {
		if fn.EventGrid {
			return true
		}
	}
	return false
}

// readOrCreate decodes path into v (when it exists), lets fill complete
// it, and writes it back (mode 0600) when fill changed something.
func readOrCreate(path string, v any, fill func() bool) error {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("secrets: %w", err)
	default:
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("secrets %s: %w", path, err)
		}
	}
	if !fill() {
		return nil
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("secrets %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o600); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	return nil
}

func byName(keys []secretKey) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		if k.Value != "" && !k.Encrypted {
			m[k.Name] = k.Value
		}
	}
	return m
}

// newKey is a random key: 40 bytes, URL-safe base64, so it can sit in a
// query string unescaped.
func newKey() string {
	b := make([]byte, 40)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("funchost: random key: %v", err)) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// grant is what a request's key is worth for one function.
type grant struct {
	level string // authAdmin, authFunction, or "" (no valid key)
	name  string // the key's name
}

// authorize returns the grant of r's key for fn.
func (k Keys) authorize(r *http.Request, fn string) grant {
	value := requestKey(r)
	if value == "" {
		return grant{}
	}
	if equal(value, k.Master) {
		return grant{authAdmin, masterKeyName}
	}
	for _, set := range []map[string]string{k.Functions[fn], k.Host} {
		for name, v := range set {
			if equal(value, v) {
				return grant{authFunction, name}
			}
		}
	}
	return grant{}
}

// requestKey is the key r presents: the x-functions-key header, else the
// code query parameter.
func requestKey(r *http.Request) string {
	if v := r.Header.Get(keyHeader); v != "" {
		return v
	}
	return r.URL.Query().Get(keyQuery)
}

// isAdmin reports whether r presents the master key.
func (k Keys) isAdmin(r *http.Request) bool {
	return equal(requestKey(r), k.Master)
}

// isSystem reports whether r presents the system key name or the master
// key (the master key meets every system key requirement).
func (k Keys) isSystem(r *http.Request, name string) bool {
	v := requestKey(r)
	return equal(v, k.System[name]) || equal(v, k.Master)
}

// allows reports whether g meets the function's authLevel.
func (g grant) allows(authLevel string) bool {
	switch authLevel {
	case authAnonymous:
		return true
	case authAdmin:
		return g.level == authAdmin
	}
	return g.level != ""
}

func equal(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// identities is what the host reports in Data.<req>.Identities: the
// WebJobsAuthLevel identity with the key's level and name, or none for
// an anonymous request.
func (g grant) identities() []any {
	if g.level == "" {
		return []any{}
	}
	level := "Function"
	if g.level == authAdmin {
		level = "Admin"
	}
	claim := func(typ, value string) map[string]any {
		return map[string]any{"Issuer": "LOCAL AUTHORITY", "OriginalIssuer": "LOCAL AUTHORITY", "Properties": map[string]any{},
			"Type": typ, "Value": value, "ValueType": "http://www.w3.org/2001/XMLSchema#string"}
	}
	return []any{map[string]any{
		"AuthenticationType": "WebJobsAuthLevel",
		"IsAuthenticated":    true,
		"Actor":              nil,
		"BootstrapContext":   nil,
		"Claims": []any{
			claim("http://schemas.microsoft.com/2017/07/functions/claims/authlevel", level),
			claim("http://schemas.microsoft.com/2017/07/functions/claims/keyid", g.name),
		},
		"Label":         nil,
		"Name":          nil,
		"NameClaimType": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
		"RoleClaimType": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
	}}
}
