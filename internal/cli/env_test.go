package cli

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

func TestShellQuote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"safe stays bare", "http://127.0.0.1:10000/devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1"},
		{"base64 key stays bare", "a+b/c==", "a+b/c=="},
		{"empty", "", "''"},
		{"semicolons", "A=1;B=2;", "'A=1;B=2;'"},
		{"space", "a b", "'a b'"},
		{"single quote", "it's", `'it'\''s'`},
		{"dollar and backticks", "$HOME `x`", "'$HOME `x`'"},
		{"newline", "a\nb", "'a\nb'"},
		{"glob", "*.mp4", "'*.mp4'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shellQuote(tt.in); got != tt.want {
				t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestExportsRoundTripThroughAShell checks the quoting where it matters:
// /bin/sh reads back exactly the values.
func TestExportsRoundTripThroughAShell(t *testing.T) {
	vars := []localstack.EnvVar{
		{Name: "A_CONN", Value: "Endpoint=sb://127.0.0.1:5672;SharedAccessKey=SAS_KEY_VALUE;"},
		{Name: "A_QUOTE", Value: `it's "quoted" $HOME ` + "`date`"},
		{Name: "A_EMPTY", Value: ""},
		{Name: "A_LINES", Value: "one\ntwo"},
	}
	var script bytes.Buffer
	printExports(&script, vars)
	for _, v := range vars {
		script.WriteString(`printf '%s\0' "$` + v.Name + "\"\n")
	}
	out, err := exec.Command("/bin/sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, script.String())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i, v := range vars {
		if i >= len(got) || got[i] != v.Value {
			t.Errorf("%s read back as %q, want %q", v.Name, got, v.Value)
		}
	}
}

func TestPrintEnvJSON(t *testing.T) {
	vars := []localstack.EnvVar{{Name: "Z", Value: "last\"one"}, {Name: "A", Value: ""}, {Name: "M", Value: "x;y"}}
	var b bytes.Buffer
	if err := printEnvJSON(&b, vars); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	for _, v := range vars {
		if got[v.Name] != v.Value {
			t.Errorf("%s = %q, want %q", v.Name, got[v.Name], v.Value)
		}
	}
	if zi, ai := strings.Index(b.String(), `"Z"`), strings.Index(b.String(), `"A"`); zi > ai {
		t.Errorf("order not kept:\n%s", b.String())
	}
}
