package dashboard

import (
	"regexp"
	"strings"
	"testing"
)

// TestPage checks what the browser needs from the document: the style and
// script inlined verbatim with hashes the CSP allows, nothing loaded from
// elsewhere, no inline style attributes or handlers (the CSP would block
// them), and the accessible structure the page promises.
func TestPage(t *testing.T) {
	p, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`(?s)<(style|script)>(.*?)</(?:style|script)>`).FindAllStringSubmatch(p.HTML, -1)
	if len(inline) != 2 {
		t.Fatalf("found %d inline style/script elements, want 2", len(inline))
	}
	csp := p.Headers["Content-Security-Policy"]
	for _, m := range inline {
		if m[2] == "" || !strings.Contains(csp, hash(m[2])) {
			t.Errorf("the CSP does not allow the inline %s (%d bytes)", m[1], len(m[2]))
		}
	}
	checks := []struct {
		name string
		bad  *regexp.Regexp
	}{
		{"no external resources", regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)},
		{"no inline style attributes", regexp.MustCompile(`(?i)\sstyle="`)},
		{"no inline event handlers", regexp.MustCompile(`(?i)\son[a-z]+="`)},
		{"no markup from data", regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write`)},
	}
	for _, c := range checks {
		if loc := c.bad.FindStringIndex(p.HTML); loc != nil {
			t.Errorf("%s: found %q", c.name, p.HTML[loc[0]:min(loc[1]+20, len(p.HTML))])
		}
	}
	for _, want := range []string{`<html lang="en">`, "<h1>", `<h2 id="files-h"`, "<table", `<th scope="col">File</th>`,
		`<label for="f-prefix">`, `<label for="f-state">`, `<label for="f-container">`, ":focus-visible", "@media (max-width: 700px)"} {
		if !strings.Contains(p.HTML, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if p.Headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, p.Headers[k], want)
		}
	}
	if !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}
