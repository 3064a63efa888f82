package odata

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxFilterLength bounds the work one $filter can cause. Real filters are a
// few dozen characters; the emulator has no reason to accept megabytes.
const maxFilterLength = 8 << 10

// maxDepth bounds parenthesis and "not" nesting so hostile input cannot
// exhaust the stack.
const maxDepth = 100

// Filter is a parsed $filter expression. It is immutable and safe for
// concurrent use.
type Filter struct {
	root  node
	props []string
}

// Properties returns the distinct property paths the filter refers to, in
// order of first appearance (for example "executionInfo/exitCode"), so a
// caller can reject properties its entity does not support.
func (f *Filter) Properties() []string {
	return append([]string(nil), f.props...)
}

type compareOp int

const (
	opEq compareOp = iota
	opNe
	opGt
	opGe
	opLt
	opLe
)

var compareOps = map[string]compareOp{"eq": opEq, "ne": opNe, "gt": opGt, "ge": opGe, "lt": opLt, "le": opLe}

func (o compareOp) String() string {
	return [...]string{"eq", "ne", "gt", "ge", "lt", "le"}[o]
}

// mirror returns the operator with its operands swapped: 0 lt x == x gt 0.
func (o compareOp) mirror() compareOp {
	switch o {
	case opGt:
		return opLt
	case opGe:
		return opLe
	case opLt:
		return opGt
	case opLe:
		return opGe
	}
	return o
}

type literalKind int

const (
	litString literalKind = iota
	litNumber
	litBool
	litNull
	litDateTime
)

type literal struct {
	kind   literalKind
	s      string
	num    float64
	b      bool
	t      time.Time
	isTime bool // a string literal that also parses as a datetime
}

type node interface {
	match(obj map[string]any) (bool, error)
}

type orNode struct{ left, right node }
type andNode struct{ left, right node }
type notNode struct{ inner node }
type compareNode struct {
	path []string
	name string
	op   compareOp
	lit  literal
}
type startsWithNode struct {
	path   []string
	name   string
	prefix string
}

func (n orNode) match(obj map[string]any) (bool, error) {
	l, err := n.left.match(obj)
	if err != nil || l {
		return l, err
	}
	return n.right.match(obj)
}

func (n andNode) match(obj map[string]any) (bool, error) {
	l, err := n.left.match(obj)
	if err != nil || !l {
		return false, err
	}
	return n.right.match(obj)
}

func (n notNode) match(obj map[string]any) (bool, error) {
	v, err := n.inner.match(obj)
	return !v, err
}

// ParseFilter parses a $filter expression. Errors are *SyntaxError values whose
// text suits the message of a 400 InvalidQueryParameterValue response.
func ParseFilter(expr string) (*Filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, &SyntaxError{Option: "$filter", Pos: 0, Msg: "the expression is empty"}
	}
	if len(expr) > maxFilterLength {
		return nil, &SyntaxError{Option: "$filter", Pos: maxFilterLength, Msg: fmt.Sprintf("the expression is longer than %d characters", maxFilterLength)}
	}
	toks, err := lexFilter(expr)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "unexpected %s after a complete expression (combine conditions with 'and' or 'or')", t.describe())
	}
	return &Filter{root: root, props: p.props}, nil
}

// Match reports whether the entity's JSON object satisfies the filter. It
// returns an error when a property's value cannot be compared with the
// literal (for example a number compared with a string).
func (f *Filter) Match(obj map[string]any) (bool, error) {
	return f.root.match(obj)
}

type filterParser struct {
	toks  []token
	i     int
	props []string
}

func (p *filterParser) peek() token { return p.toks[p.i] }

func (p *filterParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *filterParser) errorf(t token, format string, args ...any) error {
	return &SyntaxError{Option: "$filter", Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

// isKeyword reports whether t is the (case-insensitive) keyword kw.
func isKeyword(t token, kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

func (p *filterParser) parseOr(depth int) (node, error) {
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for isKeyword(p.peek(), "or") {
		p.next()
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		left = orNode{left, right}
	}
	return left, nil
}

func (p *filterParser) parseAnd(depth int) (node, error) {
	left, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for isKeyword(p.peek(), "and") {
		p.next()
		right, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		left = andNode{left, right}
	}
	return left, nil
}

func (p *filterParser) parseUnary(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.errorf(p.peek(), "the expression is nested more than %d levels deep", maxDepth)
	}
	if isKeyword(p.peek(), "not") {
		p.next()
		inner, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{inner}, nil
	}
	return p.parsePrimary(depth)
}

func (p *filterParser) parsePrimary(depth int) (node, error) {
	t := p.peek()
	switch {
	case t.kind == tokLParen:
		p.next()
		inner, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errorf(c, "expected ')' to close the '(' at position %d, found %s", t.pos+1, c.describe())
		}
		return inner, nil
	case t.kind == tokWord && p.toks[p.i+1].kind == tokLParen:
		return p.parseFunction()
	case t.kind == tokEOF:
		return nil, p.errorf(t, "expected a condition, found end of expression")
	}
	return p.parseComparison()
}

// parseFunction parses startswith(path,'prefix'), optionally followed by
// "eq true", "eq false", "ne true" or "ne false" (the OData v3 spelling).
func (p *filterParser) parseFunction() (node, error) {
	name := p.next()
	if !strings.EqualFold(name.text, "startswith") {
		return nil, p.errorf(name, "unsupported function %q (only startswith is supported)", name.text)
	}
	p.next() // '('
	pathTok := p.next()
	if pathTok.kind != tokWord || isReserved(pathTok.text) {
		return nil, p.errorf(pathTok, "startswith expects a property name as its first argument, found %s", pathTok.describe())
	}
	if c := p.next(); c.kind != tokComma {
		return nil, p.errorf(c, "startswith expects two arguments separated by ',', found %s", c.describe())
	}
	prefix := p.next()
	if prefix.kind != tokString {
		return nil, p.errorf(prefix, "startswith expects a string literal as its second argument, found %s", prefix.describe())
	}
	if c := p.next(); c.kind != tokRParen {
		return nil, p.errorf(c, "expected ')' after the arguments of startswith, found %s", c.describe())
	}
	p.addProp(pathTok.text)
	var n node = startsWithNode{path: strings.Split(pathTok.text, "/"), name: pathTok.text, prefix: prefix.text}
	if t := p.peek(); t.kind == tokWord {
		op, isOp := compareOps[strings.ToLower(t.text)]
		if !isOp {
			return n, nil
		}
		p.next()
		v := p.next()
		if (op != opEq && op != opNe) || !(isKeyword(v, "true") || isKeyword(v, "false")) {
			return nil, p.errorf(t, "startswith(...) can only be compared with 'eq true', 'eq false', 'ne true' or 'ne false'")
		}
		if (op == opEq) != isKeyword(v, "true") {
			n = notNode{n}
		}
	}
	return n, nil
}

func (p *filterParser) parseComparison() (node, error) {
	left := p.next()
	opTok := p.next()
	op, ok := compareOps[strings.ToLower(opTok.text)]
	if opTok.kind != tokWord || !ok {
		if left.kind == tokWord && !isReserved(left.text) {
			return nil, p.errorf(opTok, "expected a comparison operator (eq, ne, gt, ge, lt, le) after %q, found %s", left.text, opTok.describe())
		}
		return nil, p.errorf(left, "expected a property name, found %s", left.describe())
	}
	right := p.next()
	pathTok, litTok := left, right
	if isPropertyToken(right) && !isPropertyToken(left) {
		pathTok, litTok = right, left
		op = op.mirror()
	}
	if !isPropertyToken(pathTok) {
		return nil, p.errorf(left, "a comparison needs a property name on one side, found %s and %s", left.describe(), right.describe())
	}
	lit, err := p.literal(litTok)
	if err != nil {
		return nil, err
	}
	if (lit.kind == litBool || lit.kind == litNull) && op != opEq && op != opNe {
		return nil, p.errorf(opTok, "operator %s cannot be used with %s; use eq or ne", op, litTok.describe())
	}
	p.addProp(pathTok.text)
	return compareNode{path: strings.Split(pathTok.text, "/"), name: pathTok.text, op: op, lit: lit}, nil
}

func (p *filterParser) literal(t token) (literal, error) {
	switch t.kind {
	case tokString:
		lit := literal{kind: litString, s: t.text}
		lit.t, lit.isTime = parseTime(t.text)
		return lit, nil
	case tokNumber:
		return literal{kind: litNumber, num: t.num}, nil
	case tokDateTime:
		return literal{kind: litDateTime, t: t.t, s: t.text}, nil
	case tokWord:
		switch strings.ToLower(t.text) {
		case "true":
			return literal{kind: litBool, b: true}, nil
		case "false":
			return literal{kind: litBool, b: false}, nil
		case "null":
			return literal{kind: litNull}, nil
		}
		if isPropertyToken(t) {
			return literal{}, p.errorf(t, "comparing two properties is not supported (%q); compare a property with a literal", t.text)
		}
	}
	return literal{}, p.errorf(t, "expected a literal value ('string', number, true, false, null or DateTime'...'), found %s", t.describe())
}

func (p *filterParser) addProp(path string) {
	for _, s := range p.props {
		if s == path {
			return
		}
	}
	p.props = append(p.props, path)
}

// isReserved reports whether a word is an operator or literal keyword rather
// than a property name.
func isReserved(word string) bool {
	switch strings.ToLower(word) {
	case "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null":
		return true
	}
	return false
}

func isPropertyToken(t token) bool { return t.kind == tokWord && !isReserved(t.text) }

// lookup follows a property path through nested JSON objects. The second
// result is false when any segment is missing or the value is JSON null.
func lookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

func (n startsWithNode) match(obj map[string]any) (bool, error) {
	v, ok := lookup(obj, n.path)
	if !ok {
		return false, nil
	}
	s, isString := v.(string)
	if !isString {
		return false, fmt.Errorf("startswith(%s, ...): property %s is %s, not a string", n.name, n.name, jsonKind(v))
	}
	return strings.HasPrefix(strings.ToLower(s), strings.ToLower(n.prefix)), nil
}

func (n compareNode) match(obj map[string]any) (bool, error) {
	v, present := lookup(obj, n.path)
	if n.lit.kind == litNull {
		return present == (n.op == opNe), nil
	}
	if !present {
		return false, nil
	}
	c, err := n.compare(v)
	if err != nil {
		return false, fmt.Errorf("%s %s %s: %w", n.name, n.op, n.lit.describe(), err)
	}
	switch n.op {
	case opEq:
		return c == 0, nil
	case opNe:
		return c != 0, nil
	case opGt:
		return c > 0, nil
	case opGe:
		return c >= 0, nil
	case opLt:
		return c < 0, nil
	default:
		return c <= 0, nil
	}
}

// compare returns the sign of (property value - literal). For eq/ne on
// booleans only zero/non-zero matters.
func (n compareNode) compare(v any) (int, error) {
	switch n.lit.kind {
	case litDateTime:
		s, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("property is %s, not a datetime", jsonKind(v))
		}
		t, ok := parseTime(s)
		if !ok {
			return 0, fmt.Errorf("property value %q is not a datetime", s)
		}
		return t.Compare(n.lit.t), nil
	case litString:
		s, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("property is %s, not a string", jsonKind(v))
		}
		if n.lit.isTime {
			if t, ok := parseTime(s); ok {
				return t.Compare(n.lit.t), nil
			}
		}
		return strings.Compare(strings.ToLower(s), strings.ToLower(n.lit.s)), nil
	case litNumber:
		f, ok := number(v)
		if !ok {
			return 0, fmt.Errorf("property is %s, not a number", jsonKind(v))
		}
		switch {
		case f < n.lit.num:
			return -1, nil
		case f > n.lit.num:
			return 1, nil
		case f == n.lit.num:
			return 0, nil
		}
		return 0, fmt.Errorf("property value is not a comparable number")
	case litBool:
		b, ok := v.(bool)
		if !ok {
			return 0, fmt.Errorf("property is %s, not a boolean", jsonKind(v))
		}
		if b == n.lit.b {
			return 0, nil
		}
		return 1, nil
	}
	return 0, fmt.Errorf("unsupported literal")
}

func (l literal) describe() string {
	switch l.kind {
	case litString:
		return "'" + strings.ReplaceAll(l.s, "'", "''") + "'"
	case litNumber:
		return fmt.Sprint(l.num)
	case litBool:
		return fmt.Sprint(l.b)
	case litDateTime:
		return "DateTime'" + l.s + "'"
	}
	return "null"
}

// number converts the numeric types a decoded JSON object can hold.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	}
	return 0, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}
