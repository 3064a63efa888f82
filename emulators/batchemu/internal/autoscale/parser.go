package autoscale

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits documented for the service.
const (
	MaxFormulaLength = 8192 // characters
	MaxStatements    = 100
	maxNesting       = 200 // emulator guard against stack exhaustion
)

// expr is a node of the expression tree. pos is the byte offset used in
// error messages.
type expr interface{ position() int }

type (
	numberLit struct {
		pos int
		v   float64
	}
	stringLit struct {
		pos int
		v   string
	}
	// userRef reads a user-defined variable.
	userRef struct {
		pos  int
		name string
	}
	// sysRef reads a service-defined variable.
	sysRef struct {
		pos      int
		spelling string
		v        sysVar
	}
	intervalLit struct {
		pos   int
		ticks float64
	}
	deallocLit struct {
		pos int
		v   string
	}
	unaryExpr struct {
		pos int
		op  string
		x   expr
	}
	binaryExpr struct {
		pos  int // the operator
		op   string
		l, r expr
	}
	condExpr struct {
		pos         int
		cond, a, b  expr
		colon, qpos int
	}
	callExpr struct {
		pos  int
		name string // lower-cased
		args []expr
	}
	methodExpr struct {
		pos    int // the receiver
		lparen int
		recv   sysRef
		name   string // lower-cased
		args   []expr
	}
	memberExpr struct {
		pos  int // the member name
		x    expr
		name string // lower-cased
	}
)

func (e numberLit) position() int   { return e.pos }
func (e stringLit) position() int   { return e.pos }
func (e userRef) position() int     { return e.pos }
func (e sysRef) position() int      { return e.pos }
func (e intervalLit) position() int { return e.pos }
func (e deallocLit) position() int  { return e.pos }
func (e unaryExpr) position() int   { return e.pos }
func (e binaryExpr) position() int  { return e.pos }
func (e condExpr) position() int    { return e.pos }
func (e callExpr) position() int    { return e.pos }
func (e methodExpr) position() int  { return e.pos }
func (e memberExpr) position() int  { return e.pos }

// statement is "target = value".
type statement struct {
	pos      int
	target   string // as spelled in the formula
	sys      sysVar // kind sysNone for a user variable
	value    expr
	valuePos int
}

// Formula is a parsed autoscale formula. It is immutable and safe for
// concurrent use; Evaluate may be called any number of times.
type Formula struct {
	src   string
	stmts []statement
}

// Source returns the formula text as given to Parse.
func (f *Formula) Source() string { return f.src }

// Parse checks a formula the way the service does on enable/evaluate and
// returns it ready to evaluate. Failures are *Error with code
// AutoScalingFormulaTooLong or AutoScalingFormulaSyntaxError.
func Parse(formula string) (*Formula, error) {
	f, err := parse(formula)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func parse(src string) (*Formula, *Error) {
	if n := utf8.RuneCountInString(src); n > MaxFormulaLength {
		return nil, &Error{Code: CodeTooLong, Message: msgTooLong, Values: []NameValue{{Name: "Message",
			Value: "The formula has " + strconv.Itoa(n) + " characters; the limit is " + strconv.Itoa(MaxFormulaLength) + "."}}}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, assigned: map[string]bool{}}
	for {
		for p.isOp(";") {
			p.next()
		}
		if p.peek().kind == tokEOF {
			break
		}
		if len(p.stmts) == MaxStatements {
			return nil, &Error{Code: CodeTooLong, Message: msgTooLong, Values: []NameValue{{Name: "Message",
				Value: "The formula has more than " + strconv.Itoa(MaxStatements) + " statements."}}}
		}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		p.stmts = append(p.stmts, st)
		if t := p.peek(); t.kind != tokEOF && !p.isOp(";") {
			return nil, syntaxErr(src, t.pos, "expected ';' between statements, found %s", t.describe())
		}
	}
	if len(p.stmts) == 0 {
		return nil, syntaxErr(src, 0, "the formula has no statements")
	}
	return &Formula{src: src, stmts: p.stmts}, nil
}

type parser struct {
	src      string
	toks     []token
	i        int
	depth    int
	stmts    []statement
	assigned map[string]bool // user variables assigned by earlier statements
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(op string) bool {
	t := p.toks[p.i]
	return t.kind == tokOp && t.text == op
}

func (p *parser) expect(op, context string) (token, *Error) {
	t := p.next()
	if t.kind != tokOp || t.text != op {
		return t, syntaxErr(p.src, t.pos, "expected '%s' %s, found %s", op, context, t.describe())
	}
	return t, nil
}

func (p *parser) statement() (statement, *Error) {
	t := p.next()
	if t.kind != tokName {
		return statement{}, syntaxErr(p.src, t.pos, "expected a variable name at the start of a statement, found %s", t.describe())
	}
	st := statement{pos: t.pos, target: t.text}
	lower := strings.ToLower(t.text)
	if v, ok := systemVars[lower]; ok {
		switch v.kind {
		case sysTargetDedicated, sysTargetLowPriority, sysNodeDeallocation:
			st.sys = v
		default:
			return statement{}, syntaxErr(p.src, t.pos, "'%s' is a read-only service-defined variable and cannot be assigned", t.text)
		}
	} else if err := p.checkUserName(t); err != nil {
		return statement{}, err
	}
	if _, err := p.expect("=", "after '"+t.text+"'"); err != nil {
		return statement{}, err
	}
	st.valuePos = p.peek().pos
	value, err := p.expr()
	if err != nil {
		return statement{}, err
	}
	st.value = value
	if st.sys.kind == sysNone {
		p.assigned[t.text] = true
	}
	return st, nil
}

// checkUserName rejects assignments to built-in names that are not variables.
func (p *parser) checkUserName(t token) *Error {
	lower := strings.ToLower(t.text)
	if _, ok := intervalConstants[lower]; ok {
		return syntaxErr(p.src, t.pos, "'%s' is a constant and cannot be assigned", t.text)
	}
	if _, ok := deallocationOptions[lower]; ok {
		return syntaxErr(p.src, t.pos, "'%s' is a node deallocation option and cannot be assigned", t.text)
	}
	return nil
}

func (p *parser) enter() *Error {
	p.depth++
	if p.depth > maxNesting {
		return syntaxErr(p.src, p.peek().pos, "the expression is nested more than %d levels deep", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) expr() (expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	cond, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if !p.isOp("?") {
		return cond, nil
	}
	q := p.next()
	a, err := p.expr()
	if err != nil {
		return nil, err
	}
	colon, err := p.expect(":", "in a conditional expression (cond ? a : b)")
	if err != nil {
		return nil, err
	}
	b, err := p.expr()
	if err != nil {
		return nil, err
	}
	return condExpr{pos: cond.position(), cond: cond, a: a, b: b, qpos: q.pos, colon: colon.pos}, nil
}

// binaryLevels lists the binary operators from the loosest to the tightest.
var binaryLevels = [][]string{
	{"||"},
	{"&&"},
	{"==", "!="},
	{"<", "<=", ">", ">="},
	{"+", "-"},
	{"*", "/"},
}

func (p *parser) binary(level int) (expr, *Error) {
	if level == len(binaryLevels) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokOp || !contains(binaryLevels[level], t.text) {
			return left, nil
		}
		p.next()
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = binaryExpr{pos: t.pos, op: t.text, l: left, r: right}
	}
}

func (p *parser) unary() (expr, *Error) {
	if p.isOp("-") || p.isOp("!") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		t := p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return unaryExpr{pos: t.pos, op: t.text, x: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, *Error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.isOp(".") {
		p.next()
		name := p.next()
		if name.kind != tokName || strings.HasPrefix(name.text, "$") {
			return nil, syntaxErr(p.src, name.pos, "expected a method or member name after '.', found %s", name.describe())
		}
		lower := strings.ToLower(name.text)
		if p.isOp("(") {
			x, err = p.method(x, name, lower)
			if err != nil {
				return nil, err
			}
			continue
		}
		if !timestampMembers[lower] {
			if _, isMethod := methods[lower]; isMethod {
				return nil, syntaxErr(p.src, name.pos, "method '%s' must be called with parentheses", name.text)
			}
			return nil, syntaxErr(p.src, name.pos, "unknown member '%s' (a timestamp has year, month, day, weekday, hour, minute and second)", name.text)
		}
		x = memberExpr{pos: name.pos, x: x, name: lower}
	}
	return x, nil
}

func (p *parser) method(recv expr, name token, lower string) (expr, *Error) {
	ar, ok := methods[lower]
	if !ok {
		return nil, syntaxErr(p.src, name.pos, "unknown method '%s' (sample variables have GetSample, GetSamplePercent, GetSamplePeriod, Count and HistoryBeginTime)", name.text)
	}
	ref, isSys := recv.(sysRef)
	if !isSys || (ref.v.kind != sysMetric && ref.v.kind != sysNodeCount) {
		return nil, syntaxErr(p.src, name.pos, "method '%s' can only be called on a service-defined sample variable such as $PendingTasks", name.text)
	}
	lparen := p.next()
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	if err := checkArity(p.src, name, ar, len(args)); err != nil {
		return nil, err
	}
	return methodExpr{pos: ref.pos, lparen: lparen.pos, recv: ref, name: lower, args: args}, nil
}

// args parses a parenthesised argument list after the '(' was consumed.
func (p *parser) args() ([]expr, *Error) {
	var args []expr
	if p.isOp(")") {
		p.next()
		return args, nil
	}
	for {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.isOp(",") {
			p.next()
			continue
		}
		if _, err := p.expect(")", "to close the argument list"); err != nil {
			return nil, err
		}
		return args, nil
	}
}

func checkArity(src string, name token, ar arity, n int) *Error {
	switch {
	case n < ar.min && ar.min == ar.max:
		return syntaxErr(src, name.pos, "'%s' takes %d argument(s), got %d", name.text, ar.min, n)
	case n < ar.min:
		return syntaxErr(src, name.pos, "'%s' takes at least %d argument(s), got %d", name.text, ar.min, n)
	case ar.max >= 0 && n > ar.max && ar.min == ar.max:
		return syntaxErr(src, name.pos, "'%s' takes %d argument(s), got %d", name.text, ar.max, n)
	case ar.max >= 0 && n > ar.max:
		return syntaxErr(src, name.pos, "'%s' takes at most %d argument(s), got %d", name.text, ar.max, n)
	}
	return nil
}

func (p *parser) primary() (expr, *Error) {
	t := p.next()
	switch t.kind {
	case tokNumber:
		return numberLit{pos: t.pos, v: t.num}, nil
	case tokString:
		return stringLit{pos: t.pos, v: t.text}, nil
	case tokName:
		if p.isOp("(") {
			return p.call(t)
		}
		return p.name(t)
	case tokOp:
		if t.text == "(" {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(")", "to close the '('"); err != nil {
				return nil, err
			}
			return x, nil
		}
	}
	return nil, syntaxErr(p.src, t.pos, "expected a value, found %s", t.describe())
}

func (p *parser) call(name token) (expr, *Error) {
	lower := strings.ToLower(name.text)
	ar, ok := functions[lower]
	if !ok || strings.HasPrefix(lower, "$") {
		return nil, syntaxErr(p.src, name.pos, "unknown function '%s'", name.text)
	}
	p.next() // '('
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	if err := checkArity(p.src, name, ar, len(args)); err != nil {
		return nil, err
	}
	return callExpr{pos: name.pos, name: lower, args: args}, nil
}

// name resolves a bare name in an expression.
func (p *parser) name(t token) (expr, *Error) {
	lower := strings.ToLower(t.text)
	if v, ok := systemVars[lower]; ok {
		return sysRef{pos: t.pos, spelling: t.text, v: v}, nil
	}
	if ticks, ok := intervalConstants[lower]; ok {
		return intervalLit{pos: t.pos, ticks: ticks}, nil
	}
	if p.assigned[t.text] {
		return userRef{pos: t.pos, name: t.text}, nil
	}
	if opt, ok := deallocationOptions[lower]; ok {
		return deallocLit{pos: t.pos, v: opt}, nil
	}
	if _, ok := functions[lower]; ok {
		return nil, syntaxErr(p.src, t.pos, "function '%s' must be called with parentheses", t.text)
	}
	if strings.HasPrefix(lower, "$") {
		return nil, syntaxErr(p.src, t.pos, "unknown variable '%s': it is not a service-defined variable and no earlier statement assigns it", t.text)
	}
	return nil, syntaxErr(p.src, t.pos, "unknown variable '%s': no earlier statement assigns it", t.text)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
