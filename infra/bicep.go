package infra

import (
	"fmt"
	"regexp"
	"strings"
)

// SyntaxError is a structural error in a Bicep file.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// scanned is Bicep source with comments blanked out, and the nesting depth
// at the start of each line (-1 when a line starts inside a multi-line
// string, where no declaration can begin).
type scanned struct {
	lines []string // comment-free text of each line
	depth []int
}

type frame struct {
	open byte // '{', '[', '(' or 'i' for a ${...} hole in a string
	line int
}

var closerOf = map[byte]byte{'{': '}', '[': ']', '(': ')'}

// scan checks that delimiters balance, ignoring those inside comments and
// string literals but counting those inside ${...} interpolation holes.
func scan(src string) (*scanned, error) {
	const (
		code = iota
		lineComment
		blockComment
		str
		multiStr
	)
	out := []byte(src)
	var stack []frame
	state, line := code, 1
	depth := []int{0}
	startState := []int{code}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' {
			if state == str {
				return nil, &SyntaxError{line, "string literal not closed before the end of the line"}
			}
			if state == lineComment {
				state = code
			}
			line++
			depth = append(depth, len(stack))
			startState = append(startState, state)
			continue
		}
		switch state {
		case lineComment:
			out[i] = ' '
		case blockComment:
			if c == '*' && i+1 < len(src) && src[i+1] == '/' {
				out[i], out[i+1] = ' ', ' '
				i++
				state = code
			} else {
				out[i] = ' '
			}
		case multiStr:
			if strings.HasPrefix(src[i:], "'''") {
				i += 2
				state = code
			}
		case str:
			switch {
			case c == '\\':
				i++ // the escaped character, including \' and \$
			case c == '$' && i+1 < len(src) && src[i+1] == '{':
				stack = append(stack, frame{'i', line})
				i++
				state = code
			case c == '\'':
				state = code
			}
		case code:
			switch {
			case strings.HasPrefix(src[i:], "//"):
				out[i] = ' '
				state = lineComment
			case strings.HasPrefix(src[i:], "/*"):
				out[i] = ' '
				state = blockComment
			case strings.HasPrefix(src[i:], "'''"):
				i += 2
				state = multiStr
			case c == '\'':
				state = str
			case c == '{' || c == '[' || c == '(':
				stack = append(stack, frame{c, line})
			case c == '}' || c == ']' || c == ')':
				if len(stack) == 0 {
					return nil, &SyntaxError{line, fmt.Sprintf("%q closes nothing", c)}
				}
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				switch {
				case top.open == 'i' && c == '}':
					state = str
				case top.open == 'i':
					return nil, &SyntaxError{line, fmt.Sprintf("%q inside a ${...} hole opened at line %d", c, top.line)}
				case closerOf[top.open] != c:
					return nil, &SyntaxError{line, fmt.Sprintf("%q does not match %q opened at line %d", c, top.open, top.line)}
				}
			}
		}
	}
	switch state {
	case str:
		return nil, &SyntaxError{line, "string literal not closed"}
	case multiStr:
		return nil, &SyntaxError{line, "multi-line string not closed"}
	case blockComment:
		return nil, &SyntaxError{line, "block comment not closed"}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, &SyntaxError{top.line, fmt.Sprintf("%q is never closed", top.open)}
	}
	s := &scanned{lines: strings.Split(string(out), "\n"), depth: depth}
	for i, st := range startState {
		if st != code && st != lineComment {
			s.depth[i] = -1
		}
	}
	return s, nil
}

// Param is a `param` declaration.
type Param struct {
	Name           string
	Type           string
	Default        string // raw expression; "" when there is none
	HasDefault     bool
	HasDescription bool
	Line           int
}

// Module is a `module` declaration and its top-level params.
type Module struct {
	Symbol string
	Path   string
	Params map[string]string // raw expressions
	Line   int
}

// Resource is a `resource` declaration with a fully qualified type.
type Resource struct {
	Symbol     string
	Type       string
	APIVersion string
	Line       int
	// Body is the comment-free text of the declaration, from its first
	// line to the line that closes it.
	Body string
}

// BicepFile is what the structural checks and the settings checks need from
// a .bicep file. It is filled by a line-oriented reader that relies on the
// conventional layout (one declaration per line, `key: value` entries one
// per line), not by a real parser.
type BicepFile struct {
	Params    map[string]*Param
	Vars      map[string]string            // raw expressions
	Objects   map[string]map[string]string // var objects: key -> raw expression
	Modules   map[string]*Module
	Resources []Resource
	Outputs   map[string]int    // name -> line
	OutputExp map[string]string // name -> raw expression
	// OutputRefs are `<module>.outputs.<name>` references, with their line.
	OutputRefs []OutputRef
}

// OutputRef is a reference to a module output.
type OutputRef struct {
	Module, Output string
	Line           int
}

var (
	paramRE    = regexp.MustCompile(`^param\s+([A-Za-z_]\w*)\s+([A-Za-z_][\w.]*(?:\[\])?)\s*(?:=\s*(.*))?$`)
	varRE      = regexp.MustCompile(`^var\s+([A-Za-z_]\w*)\s*=\s*(.*)$`)
	moduleRE   = regexp.MustCompile(`^module\s+([A-Za-z_]\w*)\s+'([^']+)'\s*=`)
	resourceRE = regexp.MustCompile(`\bresource\s+([A-Za-z_]\w*)\s+'([A-Za-z0-9.]+/[^'@]+)@([^']+)'`)
	entryRE    = regexp.MustCompile(`^([A-Za-z_]\w*|'[^']*')\s*:\s*(.*)$`)
	outputRE   = regexp.MustCompile(`^output\s+([A-Za-z_]\w*)\s+\S+\s*=\s*(.*)$`)
	outRefRE   = regexp.MustCompile(`\b([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)`)
)

// ParseBicep reads the declarations of a .bicep file.
func ParseBicep(src string) (*BicepFile, error) {
	s, err := scan(src)
	if err != nil {
		return nil, err
	}
	f := &BicepFile{
		Params:    map[string]*Param{},
		Vars:      map[string]string{},
		Objects:   map[string]map[string]string{},
		Modules:   map[string]*Module{},
		Outputs:   map[string]int{},
		OutputExp: map[string]string{},
	}
	described := false
	for i := 0; i < len(s.lines); i++ {
		text := strings.TrimSpace(s.lines[i])
		if m := resourceRE.FindStringSubmatch(text); m != nil && s.depth[i] >= 0 {
			f.Resources = append(f.Resources, Resource{Symbol: m[1], Type: m[2], APIVersion: m[3], Line: i + 1, Body: s.block(i)})
		}
		if s.depth[i] >= 0 {
			for _, m := range outRefRE.FindAllStringSubmatch(text, -1) {
				f.OutputRefs = append(f.OutputRefs, OutputRef{Module: m[1], Output: m[2], Line: i + 1})
			}
		}
		if s.depth[i] != 0 || text == "" {
			continue
		}
		if strings.HasPrefix(text, "@") {
			if strings.HasPrefix(text, "@description(") || strings.HasPrefix(text, "@sys.description(") {
				described = true
			}
			continue
		}
		switch {
		case paramRE.MatchString(text):
			m := paramRE.FindStringSubmatch(text)
			f.Params[m[1]] = &Param{Name: m[1], Type: m[2], Default: strings.TrimSpace(m[3]),
				HasDefault: strings.Contains(text, "="), HasDescription: described, Line: i + 1}
		case varRE.MatchString(text):
			m := varRE.FindStringSubmatch(text)
			f.Vars[m[1]] = strings.TrimSpace(m[2])
			if strings.TrimSpace(m[2]) == "{" {
				f.Objects[m[1]] = entries(s, i+1, 1)
			}
		case outputRE.MatchString(text):
			m := outputRE.FindStringSubmatch(text)
			f.Outputs[m[1]], f.OutputExp[m[1]] = i+1, strings.TrimSpace(m[2])
		case moduleRE.MatchString(text):
			m := moduleRE.FindStringSubmatch(text)
			mod := &Module{Symbol: m[1], Path: m[2], Params: map[string]string{}, Line: i + 1}
			for j := i + 1; j < len(s.lines) && s.depth[j] >= 1; j++ {
				if s.depth[j] == 1 && strings.TrimSpace(s.lines[j]) == "params: {" {
					mod.Params = entries(s, j+1, 2)
					break
				}
			}
			f.Modules[m[1]] = mod
		}
		described = false
	}
	return f, nil
}

// block returns the comment-free text of the declaration starting at line
// i: that line and the following ones nested deeper than it (or inside a
// multi-line string).
func (s *scanned) block(i int) string {
	end := i + 1
	for end < len(s.lines) && (s.depth[end] > s.depth[i] || s.depth[end] < 0) {
		end++
	}
	return strings.Join(s.lines[i:end], "\n")
}

// entries reads `key: value` lines at depth d starting at line from, until
// the block closes. A value that opens a multi-line array becomes
// "[a, b, c]" from its item lines; a multi-line object becomes "{...}".
func entries(s *scanned, from, d int) map[string]string {
	out := map[string]string{}
	for i := from; i < len(s.lines) && s.depth[i] >= d; i++ {
		if s.depth[i] != d {
			continue
		}
		m := entryRE.FindStringSubmatch(strings.TrimSpace(s.lines[i]))
		if m == nil {
			continue
		}
		key, val := strings.Trim(m[1], "'"), strings.TrimSpace(m[2])
		switch val {
		case "[":
			var items []string
			for j := i + 1; j < len(s.lines) && s.depth[j] > d; j++ {
				it := strings.TrimSpace(s.lines[j])
				if s.depth[j] == d+1 && strings.HasPrefix(it, "]") {
					break // the array's closing line
				}
				if s.depth[j] == d+1 && it != "" {
					items = append(items, it)
				}
			}
			val = "[" + strings.Join(items, ", ") + "]"
		case "{":
			val = "{...}"
		}
		out[key] = val
	}
	return out
}

// BicepParams is a .bicepparam file.
type BicepParams struct {
	Using  string            // path after `using`
	Values map[string]string // raw expressions
	Lines  map[string]int
}

var (
	usingRE      = regexp.MustCompile(`^using\s+'([^']+)'`)
	paramValueRE = regexp.MustCompile(`^param\s+([A-Za-z_]\w*)\s*=\s*(.*)$`)
)

// ParseBicepParams reads a .bicepparam file.
func ParseBicepParams(src string) (*BicepParams, error) {
	s, err := scan(src)
	if err != nil {
		return nil, err
	}
	p := &BicepParams{Values: map[string]string{}, Lines: map[string]int{}}
	for i, line := range s.lines {
		if s.depth[i] != 0 {
			continue
		}
		text := strings.TrimSpace(line)
		if m := usingRE.FindStringSubmatch(text); m != nil {
			p.Using = m[1]
		}
		if m := paramValueRE.FindStringSubmatch(text); m != nil {
			p.Values[m[1]] = strings.TrimSpace(m[2])
			p.Lines[m[1]] = i + 1
		}
	}
	return p, nil
}
