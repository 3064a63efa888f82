package autoscale

import (
	"fmt"
	"unicode/utf8"
)

// Error codes carried by *Error.
const (
	// CodeSyntaxError is the service's code for a formula that does not
	// parse (HTTP 400 on enable/evaluate).
	CodeSyntaxError = "AutoScalingFormulaSyntaxError"
	// CodeTooLong is the service's code for a formula over 8 KB or with more
	// than 100 statements (HTTP 400).
	CodeTooLong = "AutoScalingFormulaTooLong"
	// CodeInsufficientSampleData is what the service reports in
	// AutoScaleRun.error when GetSample(..., samplePercent) finds too few
	// samples.
	CodeInsufficientSampleData = "InsufficientSampleData"
	// CodeEvaluationError is the emulator's code for any other failure while
	// running a formula (type mismatch, bad argument, non-finite target).
	// The real service's codes for these cases are not documented.
	CodeEvaluationError = "AutoScalingFormulaEvaluationError"
)

// Service messages for the documented codes.
const (
	msgSyntaxError      = "The specified auto-scaling formula has a syntax error."
	msgTooLong          = "The specified auto-scaling formula exceeds lengths limit."
	msgInsufficientData = "Autoscale evaluation failed due to insufficient sample data"
	msgEvaluation       = "Autoscale evaluation failed"
)

// NameValue is one detail of an Error, serialized by the emulator as
// {"name": ..., "value": ...} in AutoScaleRun.error.values.
type NameValue struct{ Name, Value string }

// Error is a formula error in the shape of the service's AutoScaleRunError:
// a code, a fixed message, and a "Message" value with the position and detail.
type Error struct {
	Code    string
	Message string
	Values  []NameValue
}

func (e *Error) Error() string {
	for _, v := range e.Values {
		if v.Name == "Message" {
			return fmt.Sprintf("%s: %s: %s", e.Code, e.Message, v.Value)
		}
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Detail returns the "Message" value, for example
// "Line 1, Col 5: unknown function 'foo'", or "" if there is none.
func (e *Error) Detail() string {
	for _, v := range e.Values {
		if v.Name == "Message" {
			return v.Value
		}
	}
	return ""
}

// newError builds an *Error whose detail is prefixed with the one-based line
// and column of byte offset pos in src.
func newError(code, message, src string, pos int, format string, args ...any) *Error {
	line, col := lineCol(src, pos)
	detail := fmt.Sprintf("Line %d, Col %d: %s", line, col, fmt.Sprintf(format, args...))
	return &Error{Code: code, Message: message, Values: []NameValue{{Name: "Message", Value: detail}}}
}

// lineCol converts a byte offset into a one-based line and a one-based column
// counted in characters.
func lineCol(src string, pos int) (line, col int) {
	if pos > len(src) {
		pos = len(src)
	}
	line, start := 1, 0
	for i := 0; i < pos; i++ {
		if src[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCountInString(src[start:pos]) + 1
}
