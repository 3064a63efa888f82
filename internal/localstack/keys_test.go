package localstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKeys(t *testing.T) {
	const host = `{"masterKey":{"name":"master","value":"m"},"functionKeys":[{"name":"other","value":"o"},{"name":"default","value":"h k"}],` +
		`"systemKeys":[{"name":"eventgrid_extension","value":"eg"}]}`
	const dash = `{"keys":[{"name":"default","value":"d+k"}]}`
	tests := []struct {
		name      string
		files     map[string]string
		want      hostKeys
		wantError string
	}{
		{"all keys", map[string]string{"host.json": host, "dashboard.json": dash}, hostKeys{Host: "h k", Dashboard: "d+k", Master: "m", EventGrid: "eg"}, ""},
		{"no dashboard keys", map[string]string{"host.json": host}, hostKeys{}, "dashboard.json"},
		{"no default host key", map[string]string{"host.json": `{"masterKey":{"value":"m"},"functionKeys":[]}`, "dashboard.json": dash}, hostKeys{}, "no default key"},
		{"no master key", map[string]string{"host.json": `{"functionKeys":[{"name":"default","value":"h"}]}`, "dashboard.json": dash}, hostKeys{}, "no master key"},
		{"no event grid key", map[string]string{"host.json": `{"masterKey":{"value":"m"},"functionKeys":[{"name":"default","value":"h"}],"systemKeys":[]}`, "dashboard.json": dash}, hostKeys{}, "no eventgrid_extension key"},
		{"not json", map[string]string{"host.json": `{`}, hostKeys{}, "host.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readKeys(dir)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantError)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("readKeys = %+v, %v; want %+v", got, err, tc.want)
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
	ep.EventGridKey = "e/g"
	if got, want := ep.EventGridWebhookURL("BlobCreated"), "http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=BlobCreated&code=e%2Fg"; got != want {
		t.Errorf("EventGridWebhookURL = %q, want %q", got, want)
	}
}
