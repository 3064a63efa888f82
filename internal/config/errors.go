package config

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one invalid setting.
type FieldError struct {
	Setting string
	Problem string
}

func (e FieldError) Error() string { return e.Setting + ": " + e.Problem }

// Errors is every problem found by Load, in setting-name order.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("invalid configuration (%d problems): %s", len(es), strings.Join(parts, "; "))
}

// ErrInvalid is matched by errors.Is for any Errors value.
var ErrInvalid = errors.New("invalid configuration")

// Is makes errors.Is(err, ErrInvalid) true for Errors.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// missing reports whether no error has been recorded for setting yet
// (so dependent checks do not pile onto an unparsable value).
func (es Errors) missing(setting string) bool {
	for _, e := range es {
		if e.Setting == setting {
			return false
		}
	}
	return true
}
