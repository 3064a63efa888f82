package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the settings table in README.md from the declarations")

var readmePath = filepath.Join("..", "..", "README.md")

const tableHeader = "| Setting | Default | Meaning |"

// TestReadmeTable compares README's settings table with the one rendered
// from the declarations, row by row. go test ./internal/config -update
// rewrites README's table (and nothing else in the file).
func TestReadmeTable(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start, end := tableBounds(t, lines)
	want := renderTable(declare(new(Config)))
	if *update {
		out := append(append(append([]string{}, lines[:start]...), want...), lines[end:]...)
		if err := os.WriteFile(readmePath, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	compareRows(t, lines[start:end], want)
	if t.Failed() {
		t.Log("the table is generated from internal/config/settings.go: go test ./internal/config -update")
	}
}

// compareRows reports, per setting, rows that differ, are missing or are
// extra, and then whether the order differs.
func compareRows(t *testing.T, got, want []string) {
	t.Helper()
	gotRows := map[string]string{}
	var gotOrder []string
	for _, r := range got {
		gotRows[rowKey(r)] = r
		gotOrder = append(gotOrder, rowKey(r))
	}
	var wantOrder []string
	for _, w := range want {
		k := rowKey(w)
		wantOrder = append(wantOrder, k)
		switch g, ok := gotRows[k]; {
		case !ok:
			t.Errorf("README table lacks the row\n%s", w)
		case g != w:
			t.Errorf("README table row for %s\n got: %s\nwant: %s", k, g, w)
		}
		delete(gotRows, k)
	}
	for k := range gotRows {
		t.Errorf("README table has a row for %s, which is not declared", k)
	}
	if !t.Failed() && !slices.Equal(gotOrder, wantOrder) {
		t.Errorf("README table rows are out of order:\n got: %v\nwant: %v", gotOrder, wantOrder)
	}
}

// rowKey is a row's first cell: the setting name, or the header's text.
func rowKey(row string) string {
	cells := strings.Split(row, "|")
	if len(cells) < 2 {
		return row
	}
	return strings.TrimSpace(cells[1])
}

// tableBounds finds the settings table: its header line and the line after
// its last row.
func tableBounds(t *testing.T, lines []string) (start, end int) {
	t.Helper()
	start = -1
	for i, l := range lines {
		if l == tableHeader {
			if start >= 0 {
				t.Fatalf("README has two settings tables (lines %d and %d)", start+1, i+1)
			}
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("README has no line %q", tableHeader)
	}
	end = start
	for end < len(lines) && strings.HasPrefix(lines[end], "|") {
		end++
	}
	return start, end
}

// renderTable is the README table: one row per declaration, in order, with
// the default (or "required"/"none"), the doc, the range and whether the
// value is secret.
func renderTable(decls []setting) []string {
	rows := []string{tableHeader, "|---|---|---|"}
	for _, s := range decls {
		def := "none"
		switch {
		case s.def != "":
			def = "`" + s.def + "`"
		case s.required:
			def = "required"
		}
		doc := s.doc
		if !s.host() && s.value.bounds() != "" {
			doc += " Range: " + s.value.bounds() + "."
		}
		if s.secret {
			doc += " Secret."
		}
		cells := []string{"`" + s.name + "`", def, doc}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		rows = append(rows, "| "+strings.Join(cells, " | ")+" |")
	}
	return rows
}

func TestRenderTable(t *testing.T) {
	c := new(Config)
	got := renderTable([]setting{
		{name: "FFBATCH_A", def: "5m", value: duration(&c.SASQueueing, 0, day), doc: "A."},
		{name: "FFBATCH_B", required: true, value: text(&c.PoolID), doc: "B `x || y`."},
		{name: "FFBATCH_C", secret: true, value: text(&c.StorageConn), doc: "C."},
		{name: "Host", doc: "H."},
	})
	want := []string{
		tableHeader,
		"|---|---|---|",
		"| `FFBATCH_A` | `5m` | A. Range: 0s–24h. |",
		"| `FFBATCH_B` | required | B `x \\|\\| y`. |",
		"| `FFBATCH_C` | none | C. Secret. |",
		"| `Host` | none | H. |",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("renderTable =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
