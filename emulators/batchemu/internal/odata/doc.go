// Package odata implements the subset of OData query options that Azure Batch
// clients send on list operations: $filter expressions and $select lists.
//
// A filter is parsed once with ParseFilter and then matched against entities
// represented as their JSON objects (the map produced by encoding/json), so
// property paths such as "executionInfo/exitCode" follow the wire field names.
//
// Supported $filter grammar:
//
//	expr    = or
//	or      = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | "startswith(" path "," string ")" | compare
//	compare = path op literal | literal op path
//	op      = eq | ne | gt | ge | lt | le
//	literal = 'string' ('' escapes a quote) | number | true | false | null
//	        | DateTime'2011-05-08T08:49:37Z'
//
// Semantics follow the Batch documentation: property names are
// case-sensitive, string values compare case-insensitively, and datetime
// literals (DateTime'…', or a quoted RFC 1123 / RFC 3339 string) compare as
// instants when the property holds an RFC 3339 timestamp. A comparison whose
// property is missing or null is false (so "not (x eq 1)" is true when x is
// missing). Comparing values of incompatible types is an error from Match.
//
// The package deliberately does not know which properties each Batch entity
// supports or which operators the service allows per property; callers that
// want the service's 400 for unknown properties check Filter.Properties and
// ValidateSelect against their own schema. It does no I/O.
package odata
