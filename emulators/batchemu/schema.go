package batchemu

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/odata"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// schema is the set of property paths of an entity type, derived from its
// wire struct, used to reject $filter and $select on unknown properties with
// a 400 as the service does.
type schema struct {
	top   []string        // top-level property names
	paths map[string]bool // every property path, e.g. "executionInfo/exitCode"
	open  []string        // paths of raw JSON objects: any sub-path is accepted
}

var (
	schemaMu    sync.Mutex // guards schemaCache
	schemaCache = map[reflect.Type]*schema{}
	rawType     = reflect.TypeFor[json.RawMessage]()
)

// schemaOf returns the schema of the wire type of v.
func schemaOf(v any) *schema {
	t := reflect.TypeOf(v)
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[t]; ok {
		return s
	}
	s := &schema{paths: map[string]bool{}}
	s.walk(t, "", 0)
	schemaCache[t] = s
	return s
}

func (s *schema) walk(t reflect.Type, prefix string, depth int) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice && t != rawType {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || depth > 6 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			s.walk(f.Type, prefix, depth+1)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		p := prefix + name
		if prefix == "" {
			s.top = append(s.top, name)
		}
		s.paths[p] = true
		if f.Type == rawType {
			s.open = append(s.open, p+"/")
			continue
		}
		s.walk(f.Type, p+"/", depth+1)
	}
}

func (s *schema) known(path string) bool {
	if s.paths[path] {
		return true
	}
	for _, o := range s.open {
		if strings.HasPrefix(path, o) {
			return true
		}
	}
	return false
}

// checkFilter rejects a filter on properties the entity does not have.
func (s *schema) checkFilter(expr string, f *odata.Filter) *wireerr.Error {
	for _, p := range f.Properties() {
		if !s.known(p) {
			return wireerr.InvalidQuery("$filter", expr, "the property '"+p+"' is not a property of the listed entity")
		}
	}
	return nil
}

// checkSelect rejects a $select naming unknown properties.
func (s *schema) checkSelect(expr string) *wireerr.Error {
	if err := odata.ValidateSelect(expr, s.top); err != nil {
		return wireerr.InvalidQuery("$select", expr, err.Error())
	}
	return nil
}
