// Package dashboard is the operator's web page of the function app: one
// HTML document with its style sheet and script inlined, embedded in the
// handler binary (no CDN, no build step). The script polls the Status API
// (internal/statusapi) next to it and redraws in place.
//
// Page renders the document once and returns it with the headers to
// serve it with: a Content-Security-Policy that allows exactly the
// inlined style and script (by hash) and requests to the app itself, no
// referrer (so the function key in the page's URL never leaves with a
// clicked link), no caching and no framing. It does not serve HTTP or
// know about keys; handlers.Dashboard does.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"sync"
)

//go:embed assets/index.html assets/dashboard.css assets/dashboard.js
var assets embed.FS

// Page is the rendered document and its response headers.
type Page struct {
	HTML    string
	Headers map[string]string
}

// Render returns the page, rendered once per process.
var Render = sync.OnceValues(render)

func render() (Page, error) {
	read := func(name string) (string, error) {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return "", fmt.Errorf("render dashboard: %w", err)
		}
		return string(b), nil
	}
	index, err := read("index.html")
	if err != nil {
		return Page{}, err
	}
	style, err := read("dashboard.css")
	if err != nil {
		return Page{}, err
	}
	script, err := read("dashboard.js")
	if err != nil {
		return Page{}, err
	}
	tmpl, err := template.New("index").Parse(index)
	if err != nil {
		return Page{}, fmt.Errorf("render dashboard: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, struct {
		Style  template.CSS
		Script template.JS
	}{template.CSS(style), template.JS(script)}); err != nil {
		return Page{}, fmt.Errorf("render dashboard: %w", err)
	}
	csp := fmt.Sprintf("default-src 'none'; script-src '%s'; style-src '%s'; connect-src 'self'; img-src 'self' data:; "+
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'", hash(script), hash(style))
	return Page{HTML: b.String(), Headers: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": csp,
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	}}, nil
}

// hash is a CSP source for an inline element's exact text.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
