// Package autoscale parses and evaluates Azure Batch autoscale formulas, the
// small statement language a pool's autoScaleFormula is written in.
//
// Parse turns a formula into a Formula (a lexer and a recursive-descent
// parser, with the static checks the service makes before it runs anything:
// length and statement limits, unknown functions or methods, assignments to
// read-only variables, reads of variables never assigned). Evaluate runs the
// statements in order against Inputs (the clock, the metric samples and the
// pool's node counts) and returns the targets and the "results" string the
// service reports in AutoScaleRun.
//
// The language (see docs/fidelity/batch-autoscale.md for sources and the
// choices made where the documentation is silent):
//
//	formula   = [ statement ] { ";" [ statement ] }
//	statement = name "=" expr
//	expr      = or [ "?" expr ":" expr ]
//	or        = and { "||" and }
//	and       = equality { "&&" equality }
//	equality  = relation { ("==" | "!=") relation }
//	relation  = additive { ("<" | "<=" | ">" | ">=") additive }
//	additive  = term { ("+" | "-") term }
//	term      = unary { ("*" | "/") unary }
//	unary     = ("-" | "!") unary | postfix
//	postfix   = primary { "." name [ "(" args ")" ] }
//	primary   = number | "string" | name | name "(" args ")" | "(" expr ")"
//
// Values are double, doubleVec (doubleVecList arguments are flattened),
// string, timestamp and timeinterval. Comments run from "//" to the end of
// the line.
//
// Errors from Parse and Evaluate are *Error values carrying the service's
// error code (AutoScalingFormulaSyntaxError, AutoScalingFormulaTooLong,
// InsufficientSampleData, …) and a "Message" detail of the form
// "Line 1, Col 5: …" like the service's AutoScaleRun errors.
//
// The package is pure: it does no I/O, keeps no global state, and takes the
// clock and the random source from Inputs. It does not schedule evaluations
// or collect samples; the emulator's pool loop does that.
package autoscale
