package localstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKeys(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wantHost  string
		wantDash  string
		wantError string
	}{
		{"host and dashboard keys", map[string]string{
			"host.json":      `{"masterKey":{"name":"master","value":"m"},"functionKeys":[{"name":"other","value":"o"},{"name":"default","value":"h k"}]}`,
			"dashboard.json": `{"keys":[{"name":"default","value":"d+k"}]}`,
		}, "h k", "d+k", ""},
		{"no dashboard keys", map[string]string{"host.json": `{"functionKeys":[{"name":"default","value":"h"}]}`}, "", "", "dashboard.json"},
		{"no default host key", map[string]string{"host.json": `{"functionKeys":[]}`, "dashboard.json": `{"keys":[{"name":"default","value":"d"}]}`}, "", "", "no default key"},
		{"not json", map[string]string{"host.json": `{`}, "", "", "host.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			host, dash, err := readKeys(dir)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantError)
				}
				return
			}
			if err != nil || host != tc.wantHost || dash != tc.wantDash {
				t.Errorf("readKeys = %q, %q, %v; want %q, %q", host, dash, err, tc.wantHost, tc.wantDash)
			}
		})
	}
	ep := Endpoints{FunctionsURL: "http://127.0.0.1:7071", DashboardKey: "d+k/="}
	if got, want := ep.DashboardURL(), "http://127.0.0.1:7071/api/dashboard?code=d%2Bk%2F%3D"; got != want {
		t.Errorf("DashboardURL = %q, want %q", got, want)
	}
	if (Endpoints{}).DashboardURL() != "" {
		t.Error("DashboardURL without a key is not empty")
	}
	if strings.Contains(ep.String(), "d+k") {
		t.Error("Endpoints.String prints the dashboard key")
	}
}
