package config

import (
	"fmt"
	"reflect"

	"github.com/kelseyhightower/envconfig"
)

// readEnv has envconfig fill every declared value that the host does not
// own. envconfig reads tagged struct fields, so this builds a struct type
// with one field per declaration, tagged with its name and default, and
// points each field at the declaration's value (a Decoder).
func readEnv(decls []setting) error {
	var fields []reflect.StructField
	var values []reflect.Value
	for _, s := range decls {
		if s.host() {
			continue
		}
		tag := fmt.Sprintf("envconfig:%q", s.name)
		if s.def != "" {
			tag += fmt.Sprintf(" default:%q", s.def)
		}
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("Setting%d", len(fields)),
			Type: reflect.TypeOf(s.value),
			Tag:  reflect.StructTag(tag),
		})
		values = append(values, reflect.ValueOf(s.value))
	}
	spec := reflect.New(reflect.StructOf(fields))
	for i, v := range values {
		spec.Elem().Field(i).Set(v)
	}
	return envconfig.Process("", spec.Interface())
}
