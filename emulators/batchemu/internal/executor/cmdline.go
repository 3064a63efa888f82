package executor

import (
	"errors"
	"fmt"
)

// ErrUnterminatedQuote reports a command line with an opening quote that is never closed.
var ErrUnterminatedQuote = errors.New("unterminated quote")

// ErrTrailingBackslash reports a command line that ends with an escaping backslash.
var ErrTrailingBackslash = errors.New("trailing backslash")

// SplitCommandLine splits a Batch command line into argv the way the Linux node agent
// does: arguments are separated by unquoted whitespace; single quotes keep everything
// literally; double quotes keep everything except that a backslash escapes `"`, `\`,
// `$` and "`"; outside quotes a backslash escapes any character. There is no variable
// expansion, globbing, redirection or command separation: `;`, `$(...)`, `*`, `>` are
// ordinary characters. An empty quoted string such as "" is an empty argument.
func SplitCommandLine(s string) ([]string, error) {
	var (
		args    []string
		cur     []rune
		inArg   bool // cur holds an argument, possibly empty ("")
		quote   rune // 0, '\'' or '"'
		quoteAt int
	)
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch quote {
		case '\'':
			if c == '\'' {
				quote = 0
				continue
			}
			cur = append(cur, c)
		case '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				if i+1 < len(runes) && isDoubleQuoteEscapable(runes[i+1]) {
					i++
					cur = append(cur, runes[i])
				} else {
					cur = append(cur, c)
				}
			default:
				cur = append(cur, c)
			}
		default:
			switch {
			case isSpace(c):
				if inArg {
					args = append(args, string(cur))
					cur, inArg = cur[:0], false
				}
			case c == '\'' || c == '"':
				quote, quoteAt, inArg = c, i, true
			case c == '\\':
				if i+1 >= len(runes) {
					return nil, fmt.Errorf("split command line at offset %d: %w", i, ErrTrailingBackslash)
				}
				i++
				cur, inArg = append(cur, runes[i]), true
			default:
				cur, inArg = append(cur, c), true
			}
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("split command line: %c opened at offset %d: %w", quote, quoteAt, ErrUnterminatedQuote)
	}
	if inArg {
		args = append(args, string(cur))
	}
	return args, nil
}

func isSpace(c rune) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isDoubleQuoteEscapable(c rune) bool {
	return c == '"' || c == '\\' || c == '$' || c == '`'
}
