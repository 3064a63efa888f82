package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// ErrBadPattern reports a malformed output file pattern (an unterminated '[').
var ErrBadPattern = errors.New("malformed file pattern")

// filePattern is a compiled Batch output filePattern (Linux semantics):
// '*' is any run of characters within one path segment, '**' (a whole segment) is
// any number of directories, '?' is one character, '[abc]', '[a-c]' and '[!abc]'
// are character classes, and a one-character class such as '[*]' is an escape.
// Only '/' separates segments. Names starting with '.' are matched only by a
// segment that itself starts with a literal '.'.
type filePattern struct {
	base    string    // leading wildcard-free directory, relative (to wd) or absolute
	segs    []segment // the rest; for a literal pattern, exactly one literal segment
	literal bool      // no wildcard anywhere: the pattern names one file
}

type segment struct {
	doubleStar bool
	literal    bool
	lit        string  // unescaped value when literal
	toks       []token // otherwise
}

type tokenKind int

const (
	tokChar  tokenKind = iota
	tokAny             // ?
	tokStar            // *
	tokClass           // [...]
)

type token struct {
	kind   tokenKind
	ch     rune
	negate bool
	ranges [][2]rune
}

// compilePattern parses a filePattern.
func compilePattern(p string) (*filePattern, error) {
	if p == "" {
		return nil, errors.New("filePattern is empty")
	}
	abs := strings.HasPrefix(p, "/")
	var segs []segment
	for _, part := range strings.Split(p, "/") {
		if part == "" {
			continue
		}
		s, err := compileSegment(part)
		if err != nil {
			return nil, fmt.Errorf("filePattern %q: %w", p, err)
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("filePattern %q names no file", p)
	}
	k := 0
	for k < len(segs) && segs[k].literal {
		k++
	}
	fp := &filePattern{}
	if k == len(segs) {
		fp.literal = true
		k = len(segs) - 1 // the last literal segment is the file
	}
	dirs := make([]string, 0, k+1)
	if abs {
		dirs = append(dirs, "/")
	}
	for _, s := range segs[:k] {
		dirs = append(dirs, s.lit)
	}
	fp.base = filepath.Join(dirs...)
	fp.segs = segs[k:]
	return fp, nil
}

func compileSegment(part string) (segment, error) {
	if part == "**" {
		return segment{doubleStar: true}, nil
	}
	var toks []token
	rs := []rune(part)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '*':
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '?':
			toks = append(toks, token{kind: tokAny})
		case '[':
			t, next, err := compileClass(rs, i)
			if err != nil {
				return segment{}, err
			}
			toks = append(toks, t)
			i = next
		default:
			toks = append(toks, token{kind: tokChar, ch: rs[i]})
		}
	}
	lit, ok := literalOf(toks)
	if ok {
		return segment{literal: true, lit: lit}, nil
	}
	return segment{toks: toks}, nil
}

// compileClass parses the class starting at rs[i] == '[' and returns the index of
// its closing ']'. A ']' right after '[' or '[!' is a member, as in POSIX globs.
func compileClass(rs []rune, i int) (token, int, error) {
	t := token{kind: tokClass}
	j := i + 1
	if j < len(rs) && rs[j] == '!' {
		t.negate = true
		j++
	}
	first := true
	for ; j < len(rs); j++ {
		c := rs[j]
		if c == ']' && !first {
			if len(t.ranges) == 0 {
				return token{}, 0, ErrBadPattern
			}
			return t, j, nil
		}
		first = false
		lo, hi := c, c
		if j+2 < len(rs) && rs[j+1] == '-' && rs[j+2] != ']' {
			hi = rs[j+2]
			j += 2
			if hi < lo {
				return token{}, 0, fmt.Errorf("%w: range %c-%c is reversed", ErrBadPattern, lo, hi)
			}
		}
		t.ranges = append(t.ranges, [2]rune{lo, hi})
	}
	return token{}, 0, fmt.Errorf("%w: unterminated '['", ErrBadPattern)
}

// literalOf returns the text of a token list made only of characters and
// one-character escapes such as [*].
func literalOf(toks []token) (string, bool) {
	var b strings.Builder
	for _, t := range toks {
		switch {
		case t.kind == tokChar:
			b.WriteRune(t.ch)
		case t.kind == tokClass && !t.negate && len(t.ranges) == 1 && t.ranges[0][0] == t.ranges[0][1]:
			b.WriteRune(t.ranges[0][0])
		default:
			return "", false
		}
	}
	return b.String(), true
}

// matchName matches one path segment name against a wildcard segment.
func (s segment) matchName(name string) bool {
	if s.doubleStar {
		return !strings.HasPrefix(name, ".")
	}
	if s.literal {
		return name == s.lit
	}
	if strings.HasPrefix(name, ".") && !s.startsWithDot() {
		return false
	}
	return matchTokens(s.toks, []rune(name))
}

// startsWithDot reports whether the segment names dot-files explicitly.
func (s segment) startsWithDot() bool {
	if len(s.toks) == 0 {
		return false
	}
	t := s.toks[0]
	return (t.kind == tokChar && t.ch == '.') ||
		(t.kind == tokClass && !t.negate && len(t.ranges) == 1 && t.ranges[0] == [2]rune{'.', '.'})
}

// matchTokens is a backtracking glob matcher; '*' tokens are never adjacent, so
// the work is bounded by len(toks)*len(name) per star.
func matchTokens(toks []token, name []rune) bool {
	ti, ni := 0, 0
	starTi, starNi := -1, 0
	for ni < len(name) {
		if ti < len(toks) {
			t := toks[ti]
			switch {
			case t.kind == tokStar:
				starTi, starNi = ti, ni
				ti++
				continue
			case t.kind == tokAny,
				t.kind == tokChar && t.ch == name[ni],
				t.kind == tokClass && t.matchClass(name[ni]):
				ti++
				ni++
				continue
			}
		}
		if starTi < 0 {
			return false
		}
		starNi++
		ti, ni = starTi+1, starNi
	}
	for ti < len(toks) && toks[ti].kind == tokStar {
		ti++
	}
	return ti == len(toks)
}

func (t token) matchClass(c rune) bool {
	in := false
	for _, r := range t.ranges {
		if c >= r[0] && c <= r[1] {
			in = true
			break
		}
	}
	return in != t.negate
}

// fileMatch is one file found by a pattern.
type fileMatch struct {
	abs string // absolute local path
	rel string // slash-separated path relative to the pattern's base directory
}

// find returns the regular files matching the pattern, sorted by rel. wd anchors
// relative patterns. A base directory that does not exist yields no matches.
func (fp *filePattern) find(wd string) ([]fileMatch, error) {
	base := fp.base
	if !filepath.IsAbs(base) {
		base = filepath.Join(wd, base)
	}
	seen := map[string]bool{}
	var out []fileMatch
	add := func(abs, rel string) {
		if !seen[abs] {
			seen[abs] = true
			out = append(out, fileMatch{abs: abs, rel: rel})
		}
	}
	segs := fp.segs
	if len(segs) > 0 && segs[len(segs)-1].doubleStar {
		// "dir/**" means every file below dir.
		segs = append(append([]segment(nil), segs...), segment{toks: []token{{kind: tokStar}}})
	}
	if err := walkPattern(base, "", segs, add, 0); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

// maxPatternDepth bounds directory recursion (symlinked directories are not followed
// by '**', so this only guards against pathological trees).
const maxPatternDepth = 256

func walkPattern(dir, rel string, segs []segment, add func(abs, rel string), depth int) error {
	if len(segs) == 0 || depth > maxPatternDepth {
		return nil
	}
	s, last := segs[0], len(segs) == 1
	if s.literal {
		p := filepath.Join(dir, s.lit)
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if last {
			if st.Mode().IsRegular() {
				add(p, path.Join(rel, s.lit))
			}
			return nil
		}
		if st.IsDir() {
			return walkPattern(p, path.Join(rel, s.lit), segs[1:], add, depth+1)
		}
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("read directory %s: %w", dir, err)
	}
	if s.doubleStar {
		if err := walkPattern(dir, rel, segs[1:], add, depth+1); err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() && s.matchName(e.Name()) { // real directories only, no symlinks
				if err := walkPattern(filepath.Join(dir, e.Name()), path.Join(rel, e.Name()), segs, add, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if !s.matchName(name) {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p) // follows symlinks to files
		if err != nil {
			continue
		}
		if last {
			if st.Mode().IsRegular() {
				add(p, path.Join(rel, name))
			}
		} else if st.IsDir() {
			if err := walkPattern(p, path.Join(rel, name), segs[1:], add, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
