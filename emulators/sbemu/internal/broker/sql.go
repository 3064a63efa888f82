package broker

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// This file implements the subset of the Service Bus SQL filter and action
// language the emulator supports:
//
//	filter:  comparisons (= <> != < <= > >=) between properties and
//	         literals, AND, OR, NOT, parentheses, IS [NOT] NULL,
//	         EXISTS(prop), [NOT] IN (...), [NOT] LIKE 'pattern' [ESCAPE 'c'],
//	         with SQL three-valued logic (a missing property is NULL).
//	         "1=1" is the true filter and "1=0" the false filter.
//	action:  SET prop = literal-or-property, several separated by ';'.
//
// Properties are sys.MessageId, sys.CorrelationId, sys.To, sys.ReplyTo,
// sys.Label, sys.ContentType, sys.SessionId, sys.ReplyToSessionId, and
// application properties written as name, user.name or [name]. Literals are
// 'strings' (” escapes a quote), integers, decimals, TRUE, FALSE and NULL.
// Arithmetic, functions other than EXISTS, other system properties and
// REMOVE actions are rejected when the configuration is loaded.

type expr interface {
	eval(m *Message) any // nil is SQL NULL/unknown
}

type literal struct{ v any }

func (l literal) eval(*Message) any { return l.v }

// sysProps maps lower-case sys.* names to accessors and their AMQP
// properties field names (for actions).
var sysProps = map[string]struct {
	get  func(*Message) string
	amqp string
}{
	"messageid":        {func(m *Message) string { return m.MessageID }, "message-id"},
	"correlationid":    {func(m *Message) string { return m.CorrelationID }, "correlation-id"},
	"to":               {func(m *Message) string { return m.To }, "to"},
	"replyto":          {func(m *Message) string { return m.ReplyTo }, "reply-to"},
	"label":            {func(m *Message) string { return m.Subject }, "subject"},
	"subject":          {func(m *Message) string { return m.Subject }, "subject"},
	"contenttype":      {func(m *Message) string { return m.ContentType }, "content-type"},
	"sessionid":        {func(m *Message) string { return m.SessionID }, "group-id"},
	"replytosessionid": {func(m *Message) string { return m.ReplyToSessionID }, "reply-to-group-id"},
}

type propRef struct {
	sys  string // lower-case sys property name, or ""
	user string
}

func (p propRef) eval(m *Message) any {
	if p.sys != "" {
		s := sysProps[p.sys].get(m)
		if s == "" {
			return nil
		}
		return s
	}
	v, ok := m.ApplicationProperties[p.user]
	if !ok {
		return nil
	}
	return normalize(v)
}

type cmpExpr struct {
	op   string
	l, r expr
}

func (c cmpExpr) eval(m *Message) any {
	b, ok := compareValues(c.l.eval(m), c.r.eval(m), c.op)
	if !ok {
		return nil
	}
	return b
}

type andExpr struct{ l, r expr }

func (a andExpr) eval(m *Message) any {
	l, r := a.l.eval(m), a.r.eval(m)
	if l == false || r == false {
		return false
	}
	if l == true && r == true {
		return true
	}
	return nil
}

type orExpr struct{ l, r expr }

func (o orExpr) eval(m *Message) any {
	l, r := o.l.eval(m), o.r.eval(m)
	if l == true || r == true {
		return true
	}
	if l == false && r == false {
		return false
	}
	return nil
}

type notExpr struct{ e expr }

func (n notExpr) eval(m *Message) any {
	switch n.e.eval(m) {
	case true:
		return false
	case false:
		return true
	}
	return nil
}

type isNullExpr struct {
	e   expr
	not bool
}

func (i isNullExpr) eval(m *Message) any { return (i.e.eval(m) == nil) != i.not }

type existsExpr struct{ p propRef }

func (e existsExpr) eval(m *Message) any {
	if e.p.sys != "" {
		return sysProps[e.p.sys].get(m) != ""
	}
	_, ok := m.ApplicationProperties[e.p.user]
	return ok
}

type inExpr struct {
	e    expr
	list []expr
	not  bool
}

func (in inExpr) eval(m *Message) any {
	v := in.e.eval(m)
	if v == nil {
		return nil
	}
	unknown := false
	for _, x := range in.list {
		b, ok := compareValues(v, x.eval(m), "=")
		if !ok {
			unknown = true
			continue
		}
		if b {
			return !in.not
		}
	}
	if unknown {
		return nil
	}
	return in.not
}

type likeExpr struct {
	e   expr
	re  *regexp.Regexp
	not bool
}

func (l likeExpr) eval(m *Message) any {
	s, ok := l.e.eval(m).(string)
	if !ok {
		return nil
	}
	return l.re.MatchString(s) != l.not
}

// assign is one SET of an action.
type assign struct {
	sys   string // AMQP properties field for sys.* targets
	prop  string // application property otherwise
	value expr
}

// token kinds
const (
	tkEOF = iota
	tkIdent
	tkString
	tkNumber
	tkOp
)

type token struct {
	kind    int
	bracket bool   // an identifier written as [name]
	text    string // identifier (brackets removed), string value, number text or operator
	pos     int
}

func lexSQL(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal at offset %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{kind: tkString, text: b.String(), pos: i})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [identifier] at offset %d", i)
			}
			toks = append(toks, token{kind: tkIdent, text: s[i+1 : i+j], pos: i, bracket: true})
			i += j + 1
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
				j++
			}
			toks = append(toks, token{kind: tkNumber, text: s[i:j], pos: i})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, token{kind: tkIdent, text: s[i:j], pos: i})
			i = j
		default:
			for _, op := range []string{"<>", "!=", "<=", ">=", "=", "<", ">", "(", ")", ",", ";", "-", "+", "*", "/", "%"} {
				if strings.HasPrefix(s[i:], op) {
					toks = append(toks, token{kind: tkOp, text: op, pos: i})
					i += len(op)
					goto next
				}
			}
			return nil, fmt.Errorf("unexpected character %q at offset %d", c, i)
		next:
		}
	}
	return append(toks, token{kind: tkEOF, pos: len(s)}), nil
}

type sqlParser struct {
	toks []token
	i    int
}

func (p *sqlParser) peek() token { return p.toks[p.i] }
func (p *sqlParser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *sqlParser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tkIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *sqlParser) op(o string) bool {
	t := p.peek()
	if t.kind == tkOp && t.text == o {
		p.i++
		return true
	}
	return false
}

func (p *sqlParser) errorf(format string, args ...any) error {
	t := p.peek()
	where := "end of expression"
	if t.kind != tkEOF {
		where = fmt.Sprintf("%q at offset %d", t.text, t.pos)
	}
	return fmt.Errorf("%s (near %s)", fmt.Sprintf(format, args...), where)
}

// parseSQLFilter parses a SQL filter expression.
func parseSQLFilter(s string) (expr, error) {
	toks, err := lexSQL(s)
	if err != nil {
		return nil, err
	}
	p := &sqlParser{toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tkEOF {
		return nil, p.errorf("unexpected token")
	}
	return e, nil
}

func (p *sqlParser) parseOr() (expr, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *sqlParser) parseAnd() (expr, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *sqlParser) parseNot() (expr, error) {
	if p.keyword("NOT") {
		e, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	return p.parsePredicate()
}

func (p *sqlParser) parsePredicate() (expr, error) {
	if p.keyword("EXISTS") {
		if !p.op("(") {
			return nil, p.errorf("expected ( after EXISTS")
		}
		ref, err := p.parseProp()
		if err != nil {
			return nil, err
		}
		if !p.op(")") {
			return nil, p.errorf("expected ) after EXISTS(property")
		}
		return existsExpr{ref}, nil
	}
	if p.op("(") {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.op(")") {
			return nil, p.errorf("expected )")
		}
		return e, nil
	}
	l, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if p.keyword("IS") {
		not := p.keyword("NOT")
		if !p.keyword("NULL") {
			return nil, p.errorf("expected NULL after IS")
		}
		return isNullExpr{l, not}, nil
	}
	not := p.keyword("NOT")
	switch {
	case p.keyword("IN"):
		if !p.op("(") {
			return nil, p.errorf("expected ( after IN")
		}
		var list []expr
		for {
			v, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if p.op(")") {
				break
			}
			if !p.op(",") {
				return nil, p.errorf("expected , or ) in IN list")
			}
		}
		return inExpr{l, list, not}, nil
	case p.keyword("LIKE"):
		t := p.next()
		if t.kind != tkString {
			return nil, p.errorf("expected a 'pattern' after LIKE")
		}
		var esc rune
		if p.keyword("ESCAPE") {
			e := p.next()
			r := []rune(e.text)
			if e.kind != tkString || len(r) != 1 {
				return nil, p.errorf("ESCAPE needs a one-character string")
			}
			esc = r[0]
		}
		return likeExpr{l, likePattern(t.text, esc), not}, nil
	case not:
		return nil, p.errorf("expected IN or LIKE after NOT")
	}
	t := p.peek()
	if t.kind == tkOp {
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			p.next()
			r, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			return cmpExpr{t.text, l, r}, nil
		}
	}
	if lit, ok := l.(literal); ok {
		if _, isBool := lit.v.(bool); isBool {
			return l, nil // TRUE or FALSE on its own
		}
	}
	if ref, ok := l.(propRef); ok && ref.sys == "" {
		return l, nil // a boolean property on its own
	}
	return nil, p.errorf("expected a comparison operator, IS, IN or LIKE")
}

func (p *sqlParser) parseOperand() (expr, error) {
	e, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tkOp && strings.ContainsAny(t.text, "+-*/%") && len(t.text) == 1 {
		return nil, p.errorf("arithmetic is not supported by this emulator's SQL filters")
	}
	return e, nil
}

func (p *sqlParser) parseValue() (expr, error) {
	neg := p.op("-")
	t := p.peek()
	switch t.kind {
	case tkString:
		if neg {
			return nil, p.errorf("unary minus before a string")
		}
		p.next()
		return literal{t.text}, nil
	case tkNumber:
		p.next()
		text := t.text
		if neg {
			text = "-" + text
		}
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return literal{i}, nil
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q at offset %d", t.text, t.pos)
		}
		return literal{f}, nil
	case tkIdent:
		if neg {
			return nil, p.errorf("arithmetic is not supported by this emulator's SQL filters")
		}
		switch strings.ToUpper(t.text) {
		case "TRUE":
			p.next()
			return literal{true}, nil
		case "FALSE":
			p.next()
			return literal{false}, nil
		case "NULL":
			p.next()
			return literal{nil}, nil
		case "AND", "OR", "NOT", "IS", "IN", "LIKE", "ESCAPE", "EXISTS", "SET", "REMOVE":
			return nil, p.errorf("unexpected keyword")
		}
		if p.toks[p.i+1].kind == tkOp && p.toks[p.i+1].text == "(" {
			return nil, p.errorf("function %s is not supported by this emulator's SQL filters", t.text)
		}
		return p.parseProp()
	}
	return nil, p.errorf("expected a property or a literal")
}

func (p *sqlParser) parseProp() (propRef, error) {
	t := p.next()
	if t.kind != tkIdent {
		p.i--
		return propRef{}, p.errorf("expected a property name")
	}
	name := t.text
	if scope, rest, ok := strings.Cut(name, "."); ok && !t.bracket {
		switch strings.ToLower(scope) {
		case "sys":
			if _, known := sysProps[strings.ToLower(rest)]; !known {
				return propRef{}, fmt.Errorf("system property sys.%s is not supported by this emulator (supported: MessageId, CorrelationId, To, ReplyTo, Label, ContentType, SessionId, ReplyToSessionId)", rest)
			}
			return propRef{sys: strings.ToLower(rest)}, nil
		case "user":
			return propRef{user: rest}, nil
		}
	}
	return propRef{user: name}, nil
}

// likePattern compiles a SQL LIKE pattern (% any run, _ one character).
func likePattern(pat string, esc rune) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)^")
	runes := []rune(pat)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case esc != 0 && c == esc && i+1 < len(runes):
			i++
			b.WriteString(regexp.QuoteMeta(string(runes[i])))
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// parseSQLAction parses "SET a = 'x'; SET sys.To = 'y'".
func parseSQLAction(s string) ([]assign, error) {
	toks, err := lexSQL(s)
	if err != nil {
		return nil, err
	}
	p := &sqlParser{toks: toks}
	var out []assign
	for {
		if p.peek().kind == tkEOF {
			break
		}
		if p.keyword("REMOVE") {
			return nil, p.errorf("REMOVE actions are not supported by this emulator")
		}
		if !p.keyword("SET") {
			return nil, p.errorf("expected SET")
		}
		ref, err := p.parseProp()
		if err != nil {
			return nil, err
		}
		if !p.op("=") {
			return nil, p.errorf("expected = after SET property")
		}
		v, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		a := assign{value: v, prop: ref.user}
		if ref.sys != "" {
			a.sys = sysProps[ref.sys].amqp
		}
		out = append(out, a)
		if !p.op(";") && !p.op(",") && p.peek().kind != tkEOF {
			return nil, p.errorf("expected ; between actions")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty action")
	}
	return out, nil
}
