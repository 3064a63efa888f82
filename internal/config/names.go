package config

import "reflect"

// envFieldNames returns the envconfig names of the env struct's fields.
func envFieldNames() []string {
	t := reflect.TypeFor[env]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		out = append(out, t.Field(i).Tag.Get("envconfig"))
	}
	return out
}
