package autoscale

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokName
	tokNumber
	tokString
	tokOp // operators and punctuation; text holds the spelling
)

type token struct {
	kind tokenKind
	pos  int // byte offset in the formula
	text string
	num  float64
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of formula"
	case tokName:
		return fmt.Sprintf("'%s'", t.text)
	case tokNumber:
		return fmt.Sprintf("number %s", t.text)
	case tokString:
		return fmt.Sprintf("string \"%s\"", t.text)
	}
	return fmt.Sprintf("'%s'", t.text)
}

// twoCharOps must be tried before the single-character ones.
var twoCharOps = []string{"<=", ">=", "==", "!=", "&&", "||"}

const oneCharOps = "+-*/!<>?:=;,.()"

// lex splits a formula into tokens, dropping white space and // comments.
func lex(src string) ([]token, *Error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"':
			end := strings.IndexByte(src[i+1:], '"')
			if end < 0 {
				return nil, syntaxErr(src, i, "unterminated string literal")
			}
			toks = append(toks, token{kind: tokString, pos: i, text: src[i+1 : i+1+end]})
			i += end + 2
		case isDigit(c):
			t, n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
		case c == '$' || isNameStart(c):
			start := i
			i++
			for i < len(src) && isNamePart(src[i]) {
				i++
			}
			if c == '$' && (i == start+1 || !isNameStart(src[start+1])) {
				return nil, syntaxErr(src, start, "'$' must be followed by a variable name")
			}
			toks = append(toks, token{kind: tokName, pos: start, text: src[start:i]})
		default:
			op := ""
			for _, two := range twoCharOps {
				if strings.HasPrefix(src[i:], two) {
					op = two
					break
				}
			}
			if op == "" && strings.IndexByte(oneCharOps, c) >= 0 {
				op = src[i : i+1]
			}
			if op == "" {
				if c == '&' || c == '|' {
					return nil, syntaxErr(src, i, "unexpected '%c' (did you mean '%c%c'?)", c, c, c)
				}
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, syntaxErr(src, i, "unexpected character %q", r)
			}
			toks = append(toks, token{kind: tokOp, pos: i, text: op})
			i += len(op)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(src)}), nil
}

func lexNumber(src string, start int) (token, int, *Error) {
	i := start
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i < len(src) && src[i] == '.' && i+1 < len(src) && isDigit(src[i+1]) {
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			i = j
		}
	}
	if i < len(src) && (isNamePart(src[i]) || src[i] == '$') {
		end := i
		for end < len(src) && isNamePart(src[end]) {
			end++
		}
		return token{}, 0, syntaxErr(src, start, "malformed number '%s'", src[start:end])
	}
	text := src[start:i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, 0, syntaxErr(src, start, "number %s is out of range", text)
	}
	return token{kind: tokNumber, pos: start, text: text, num: f}, i - start, nil
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isNameStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isNamePart(c byte) bool  { return isNameStart(c) || isDigit(c) }

func syntaxErr(src string, pos int, format string, args ...any) *Error {
	return newError(CodeSyntaxError, msgSyntaxError, src, pos, format, args...)
}
