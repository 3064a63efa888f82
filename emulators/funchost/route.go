package funchost

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// routeTemplate is an ASP.NET-style route ("items/{id}", "{*rest}").
// Constraints such as {id:int} are parsed but not enforced.
type routeTemplate struct {
	raw  string
	segs []routeSegment
}

type routeSegment struct {
	literal  string
	param    string
	optional bool
	catchAll bool
}

func parseRoute(raw string) (*routeTemplate, error) {
	t := &routeTemplate{raw: raw}
	trimmed := strings.Trim(raw, "/")
	if trimmed == "" {
		return t, nil
	}
	parts := strings.Split(trimmed, "/")
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("route %q: empty segment", raw)
		}
		if !strings.HasPrefix(p, "{") {
			if strings.ContainsAny(p, "{}") {
				return nil, fmt.Errorf("route %q: segment %q mixes text and parameters, which funchost does not support", raw, p)
			}
			t.segs = append(t.segs, routeSegment{literal: p})
			continue
		}
		if !strings.HasSuffix(p, "}") {
			return nil, fmt.Errorf("route %q: segment %q has no closing brace", raw, p)
		}
		inner := p[1 : len(p)-1]
		s := routeSegment{}
		if strings.HasPrefix(inner, "*") {
			if i != len(parts)-1 {
				return nil, fmt.Errorf("route %q: the catch-all %q must be the last segment", raw, p)
			}
			s.catchAll = true
			inner = strings.TrimPrefix(inner, "*")
		}
		if strings.HasSuffix(inner, "?") {
			s.optional = true
			inner = strings.TrimSuffix(inner, "?")
		}
		name, _, _ := strings.Cut(inner, ":")
		name, _, _ = strings.Cut(name, "=")
		if name == "" {
			return nil, fmt.Errorf("route %q: parameter %q has no name", raw, p)
		}
		s.param = name
		t.segs = append(t.segs, s)
	}
	for i, s := range t.segs {
		if s.optional && i != len(t.segs)-1 {
			return nil, fmt.Errorf("route %q: only the last parameter may be optional", raw)
		}
	}
	return t, nil
}

// match matches an unescaped path (without the route prefix) and returns
// the route parameters.
func (t *routeTemplate) match(path string) (map[string]string, bool) {
	trimmed := strings.Trim(path, "/")
	var parts []string
	if trimmed != "" {
		parts = strings.Split(trimmed, "/")
	}
	params := map[string]string{}
	for i, s := range t.segs {
		if s.catchAll {
			if i < len(parts) {
				params[s.param] = strings.Join(parts[i:], "/")
			} else if !s.optional && i >= len(parts) {
				params[s.param] = ""
			}
			return params, true
		}
		if i >= len(parts) {
			if s.optional && i == len(t.segs)-1 {
				return params, true
			}
			return nil, false
		}
		if s.param != "" {
			params[s.param] = parts[i]
			continue
		}
		if !strings.EqualFold(s.literal, parts[i]) {
			return nil, false
		}
	}
	if len(parts) != len(t.segs) {
		return nil, false
	}
	return params, true
}

// literals counts literal segments, used to try specific routes first.
func (t *routeTemplate) literals() int {
	n := 0
	for _, s := range t.segs {
		if s.literal != "" {
			n++
		}
	}
	return n
}

type httpTriggerConfig struct {
	route   *routeTemplate
	methods map[string]bool // upper-case; empty: every method
	// authLevel is anonymous, function (the default) or admin.
	authLevel string
}

func (c *httpTriggerConfig) allows(method string) bool {
	return len(c.methods) == 0 || c.methods[strings.ToUpper(method)]
}

func parseHTTPTrigger(b binding, fnName string) (*httpTriggerConfig, error) {
	raw := b.str("route")
	if raw == "" {
		raw = fnName
	}
	rt, err := parseRoute(raw)
	if err != nil {
		return nil, err
	}
	c := &httpTriggerConfig{route: rt, methods: map[string]bool{}}
	ms, err := b.strings("methods")
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		u := strings.ToUpper(m)
		switch u {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions, http.MethodTrace:
			c.methods[u] = true
		default:
			return nil, fmt.Errorf("methods: unknown HTTP method %q", m)
		}
	}
	switch lvl := strings.ToLower(b.str("authlevel")); lvl {
	case "":
		c.authLevel = authFunction
	case authAnonymous, authFunction, authAdmin:
		c.authLevel = lvl
	case "system", "user":
		c.authLevel = authAdmin // levels funchost has no keys for: only the master key passes
	default:
		return nil, fmt.Errorf("authLevel %q must be anonymous, function or admin", b.str("authlevel"))
	}
	return c, nil
}

// unescapedPath returns the request path with percent-escapes decoded.
func unescapedPath(u *url.URL) string {
	if p, err := url.PathUnescape(u.EscapedPath()); err == nil {
		return p
	}
	return u.Path
}
