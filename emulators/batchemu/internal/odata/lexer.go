package odata

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SyntaxError reports a malformed $filter or $select expression. Pos is the
// zero-based byte offset of the offending token; Error reports it one-based.
// The message is written for the "message" of a 400
// InvalidQueryParameterValue response.
type SyntaxError struct {
	Option string // "$filter" or "$select"
	Pos    int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid %s expression: %s at position %d", e.Option, e.Msg, e.Pos+1)
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokLParen
	tokRParen
	tokComma
	tokWord     // identifier, keyword or property path (segments joined by '/')
	tokString   // '...' with '' as an escaped quote; text holds the unescaped value
	tokNumber   // integer or decimal, optionally negative
	tokDateTime // DateTime'...'; text holds the quoted value
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of expression"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokComma:
		return "','"
	case tokWord:
		return "name"
	case tokString:
		return "string literal"
	case tokNumber:
		return "number"
	case tokDateTime:
		return "DateTime literal"
	}
	return "token"
}

type token struct {
	kind tokenKind
	pos  int
	text string
	num  float64
	t    time.Time
}

// describe renders a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tokWord:
		return fmt.Sprintf("%q", t.text)
	case tokString:
		return fmt.Sprintf("string '%s'", t.text)
	case tokNumber:
		return fmt.Sprintf("number %s", t.text)
	case tokDateTime:
		return fmt.Sprintf("DateTime'%s'", t.text)
	}
	return t.kind.String()
}

// lexFilter splits a $filter expression into tokens.
func lexFilter(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, pos: i})
			i++
		case c == '\'':
			s, n, err := lexQuoted(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, pos: i, text: s})
			i += n
		case c == '-' || isDigit(c):
			tok, n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i += n
		case isWordStart(c):
			start := i
			for i < len(src) && (isWordPart(src[i]) || src[i] == '/') {
				i++
			}
			word := src[start:i]
			if strings.EqualFold(word, "datetime") && i < len(src) && src[i] == '\'' {
				s, n, err := lexQuoted(src, i)
				if err != nil {
					return nil, err
				}
				t, ok := parseTime(s)
				if !ok {
					return nil, &SyntaxError{Option: "$filter", Pos: start, Msg: fmt.Sprintf("DateTime'%s' is not a valid datetime (use RFC 3339, e.g. 2011-05-08T08:49:37Z)", s)}
				}
				toks = append(toks, token{kind: tokDateTime, pos: start, text: s, t: t})
				i += n
				continue
			}
			if err := checkPath(word, start); err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokWord, pos: start, text: word})
		default:
			return nil, &SyntaxError{Option: "$filter", Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	toks = append(toks, token{kind: tokEOF, pos: len(src)})
	return toks, nil
}

// lexQuoted reads a single-quoted literal that starts at src[start].
// It returns the unescaped value and the number of bytes consumed.
func lexQuoted(src string, start int) (string, int, error) {
	var b strings.Builder
	i := start + 1
	for i < len(src) {
		if src[i] == '\'' {
			if i+1 < len(src) && src[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			return b.String(), i + 1 - start, nil
		}
		b.WriteByte(src[i])
		i++
	}
	return "", 0, &SyntaxError{Option: "$filter", Pos: start, Msg: "unterminated string literal (strings are single-quoted; write '' for a quote)"}
}

func lexNumber(src string, start int) (token, int, error) {
	i := start
	if src[i] == '-' {
		i++
	}
	digits := i
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i == digits {
		return token{}, 0, &SyntaxError{Option: "$filter", Pos: start, Msg: "'-' must be followed by a number"}
	}
	if i < len(src) && src[i] == '.' {
		i++
		frac := i
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		if i == frac {
			return token{}, 0, &SyntaxError{Option: "$filter", Pos: start, Msg: "a decimal point must be followed by digits"}
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		expDigits := j
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		if j > expDigits {
			i = j
		}
	}
	if i < len(src) && (isWordStart(src[i]) || src[i] == '\'') {
		return token{}, 0, &SyntaxError{Option: "$filter", Pos: start, Msg: fmt.Sprintf("malformed number %q", src[start:i+1])}
	}
	text := src[start:i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, 0, &SyntaxError{Option: "$filter", Pos: start, Msg: fmt.Sprintf("number %s is out of range", text)}
	}
	return token{kind: tokNumber, pos: start, text: text, num: f}, i - start, nil
}

// checkPath rejects property paths with empty segments such as "a//b" or "a/".
func checkPath(word string, pos int) error {
	for _, seg := range strings.Split(word, "/") {
		if seg == "" {
			return &SyntaxError{Option: "$filter", Pos: pos, Msg: fmt.Sprintf("property path %q has an empty segment", word)}
		}
		if !isWordStart(seg[0]) {
			return &SyntaxError{Option: "$filter", Pos: pos, Msg: fmt.Sprintf("property path %q has a segment that does not start with a letter", word)}
		}
	}
	return nil
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isWordPart(c byte) bool  { return isWordStart(c) || isDigit(c) }

// timeLayouts are the datetime formats accepted in literals and property
// values: RFC 3339 (what the service emits, with up to 7 fractional digits),
// a zone-less RFC 3339 form read as UTC, and RFC 1123 as sent in headers.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	time.RFC1123,
	time.RFC1123Z,
}

func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
