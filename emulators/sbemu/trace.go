package sbemu

import (
	"fmt"
	"reflect"
	"strings"
)

// describe renders a performative for trace logs: non-zero fields only,
// pointers followed, payload bytes summarised.
func describe(v any) string {
	if v == nil {
		return "empty"
	}
	var b strings.Builder
	writeValue(&b, reflect.ValueOf(v), 0)
	return b.String()
}

func writeValue(b *strings.Builder, v reflect.Value, depth int) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		v = v.Elem()
	}
	switch {
	case depth > 4:
		b.WriteString("…")
	case v.Kind() == reflect.Struct:
		b.WriteString(v.Type().Name())
		b.WriteString("{")
		first := true
		for i := range v.NumField() {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() || f.IsZero() {
				continue
			}
			if !first {
				b.WriteString(" ")
			}
			first = false
			b.WriteString(v.Type().Field(i).Name)
			b.WriteString(":")
			writeValue(b, f, depth+1)
		}
		b.WriteString("}")
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		fmt.Fprintf(b, "%x", v.Bytes())
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}
