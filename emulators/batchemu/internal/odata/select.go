package odata

import (
	"fmt"
	"slices"
	"strings"
)

type selectItem struct {
	name string
	pos  int
}

// parseSelect splits a $select list into property names. Only top-level
// properties are supported; each name must be an identifier.
func parseSelect(expr string) ([]selectItem, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, &SyntaxError{Option: "$select", Pos: 0, Msg: "the property list is empty"}
	}
	var names []selectItem
	pos := 0
	for _, item := range strings.Split(expr, ",") {
		name := strings.TrimSpace(item)
		at := pos + strings.Index(item, name)
		switch {
		case name == "":
			return nil, &SyntaxError{Option: "$select", Pos: pos, Msg: "empty property name in the list"}
		case strings.Contains(name, "/"):
			return nil, &SyntaxError{Option: "$select", Pos: at, Msg: fmt.Sprintf("%q: only top-level properties can be selected", name)}
		case !isIdentifier(name):
			return nil, &SyntaxError{Option: "$select", Pos: at, Msg: fmt.Sprintf("%q is not a valid property name", name)}
		}
		names = append(names, selectItem{name: name, pos: at})
		pos += len(item) + 1
	}
	return names, nil
}

func isIdentifier(s string) bool {
	if s == "" || !isWordStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordPart(s[i]) {
			return false
		}
	}
	return true
}

// Select returns a new object holding only the listed top-level properties of
// obj, for example "id,state,executionInfo". Names are case-sensitive.
// A listed property that obj does not hold is left out rather than reported,
// because Batch omits unset optional properties (a task that has not run has
// no executionInfo); use ValidateSelect to reject names the entity type does
// not define. The values are shared with obj, not copied.
func Select(obj map[string]any, selectExpr string) (map[string]any, error) {
	names, err := parseSelect(selectExpr)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(names))
	for _, it := range names {
		if v, ok := obj[it.name]; ok {
			out[it.name] = v
		}
	}
	return out, nil
}

// ValidateSelect checks a $select list against the property names an entity
// type defines and reports the first unknown one, so the caller can answer
// 400 InvalidQueryParameterValue as the service does.
func ValidateSelect(selectExpr string, known []string) error {
	names, err := parseSelect(selectExpr)
	if err != nil {
		return err
	}
	for _, it := range names {
		if !slices.Contains(known, it.name) {
			return &SyntaxError{Option: "$select", Pos: it.pos, Msg: fmt.Sprintf("unknown property %q", it.name)}
		}
	}
	return nil
}
