package funchost

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFunctionKeys: HTTP functions are served with the real host's key
// rules (header before query, function/host/master keys by authLevel, 401
// otherwise) and the keys persist in <state>/secrets across restarts.
func TestFunctionKeys(t *testing.T) {
	fn := func(level string) string {
		return `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in", "authLevel": "` + level + `"}, {"name": "res", "type": "http", "direction": "out"}]}`
	}
	fns := map[string]string{"Fn": fn("function"), "Other": fn("function"), "Open": fn("anonymous"), "Admin": fn("admin"), "Default": `{"bindings": [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "res", "type": "http", "direction": "out"}]}`}
	a := newTestApp(t, basicHostJSON, fns, nil)
	opts := testOptions(a, newLogCapture())
	h := startHost(t, opts)
	k := h.Keys()
	own, other, host := k.Functions["Fn"][defaultKey], k.Functions["Other"][defaultKey], k.Host[defaultKey]
	if own == "" || other == "" || host == "" || k.Master == "" || own == other || own == host {
		t.Fatalf("keys not generated distinct: %+v", k)
	}
	base := "http://" + h.Addr() + "/api/"
	tests := []struct {
		name, path, header, query string
		want                      int
	}{
		{"no key", "Fn", "", "", http.StatusUnauthorized},
		{"wrong key", "Fn", "nope", "", http.StatusUnauthorized},
		{"its own key in the header", "Fn", own, "", http.StatusCreated},
		{"its own key as code", "Fn", "", own, http.StatusCreated},
		{"the header wins over code", "Fn", "nope", own, http.StatusUnauthorized},
		{"another function's key", "Fn", other, "", http.StatusUnauthorized},
		{"a host key", "Fn", host, "", http.StatusCreated},
		{"the master key", "Fn", k.Master, "", http.StatusCreated},
		{"authLevel defaults to function", "Default", "", "", http.StatusUnauthorized},
		{"anonymous", "Open", "", "", http.StatusCreated},
		{"admin refuses a host key", "Admin", host, "", http.StatusUnauthorized},
		{"admin takes the master key", "Admin", "", k.Master, http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := base + tc.path
			if tc.query != "" {
				u += "?code=" + tc.query
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if tc.header != "" {
				req.Header.Set("x-functions-key", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
		})
	}

	t.Run("the function sees the key's level and name", func(t *testing.T) {
		reqs := a.requests(t, "/Fn")
		var env struct {
			Data struct {
				Req struct {
					Identities []struct {
						Claims []struct{ Type, Value string }
					}
				} `json:"req"`
			}
		}
		if err := json.Unmarshal(reqs[len(reqs)-1].Body, &env); err != nil || len(env.Data.Req.Identities) != 1 {
			t.Fatalf("identities: %v %s", err, reqs[len(reqs)-1].Body)
		}
		claims := map[string]string{}
		for _, c := range env.Data.Req.Identities[0].Claims {
			claims[filepath.Base(c.Type)] = c.Value
		}
		if claims["authlevel"] != "Admin" || claims["keyid"] != "master" {
			t.Errorf("claims = %v, want the master key's Admin level", claims)
		}
	})

	t.Run("keys persist in the state directory", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(opts.StateDir, "secrets", "fn.json"))
		if err != nil {
			t.Fatal(err)
		}
		var fs functionSecretsFile
		if err := json.Unmarshal(b, &fs); err != nil || len(fs.Keys) != 1 || fs.Keys[0].Value != own {
			t.Fatalf("secrets/fn.json = %s, %v", b, err)
		}
		st, _ := os.Stat(filepath.Join(opts.StateDir, "secrets", "host.json"))
		if st == nil || st.Mode().Perm() != 0o600 {
			t.Errorf("secrets/host.json mode = %v, want 0600", st)
		}
		again, err := loadKeys(filepath.Join(opts.StateDir, "secrets"), h.fns)
		if err != nil || again.Master != k.Master || again.Functions["Fn"][defaultKey] != own {
			t.Errorf("reloaded keys differ: %v", err)
		}
	})
}

// TestAdminAndWebhookKeys: the admin API needs the master key and the
// Event Grid webhook its eventgrid_extension system key (or the master
// key), as the real host's policies require; anything else is 401 with an
// empty body and runs nothing. /admin/host/ping stays anonymous.
func TestAdminAndWebhookKeys(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction, "Tick": timerFunction}, nil)
	h := startHost(t, testOptions(a, newLogCapture()))
	k := h.Keys()
	system, host := k.System[EventGridKeyName], k.Host[defaultKey]
	if system == "" || system == k.Master || system == host {
		t.Fatalf("eventgrid_extension system key not generated distinct: %+v", k)
	}
	event := `[{"id": "1", "subject": "/blobServices/default/containers/input/blobs/a.mp4", "eventType": "Microsoft.Storage.BlobCreated",
	  "eventTime": "2026-11-27T12:00:00Z", "data": {"eTag": "0xDEADBEEF", "contentLength": 1, "url": "http://127.0.0.1:10000/acct/input/a.mp4"}, "dataVersion": "", "metadataVersion": "1"}]`
	webhook := "/runtime/webhooks/eventgrid?functionName=OnBlobCreated"
	tests := []struct {
		name, method, path, header, code string
		want                             int
	}{
		{"ping is anonymous", http.MethodGet, "/admin/host/ping", "", "", http.StatusOK},
		{"status without a key", http.MethodGet, "/admin/host/status", "", "", http.StatusUnauthorized},
		{"status with a host key", http.MethodGet, "/admin/host/status", host, "", http.StatusUnauthorized},
		{"status with the system key", http.MethodGet, "/admin/host/status", system, "", http.StatusUnauthorized},
		{"status with the master key", http.MethodGet, "/admin/host/status", k.Master, "", http.StatusOK},
		{"status with the master key as code", http.MethodGet, "/admin/host/status", "", k.Master, http.StatusOK},
		{"invoke without a key", http.MethodPost, "/admin/functions/Tick", "", "", http.StatusUnauthorized},
		{"invoke with a wrong key", http.MethodPost, "/admin/functions/Tick", "nope", "", http.StatusUnauthorized},
		{"invoke with a host key", http.MethodPost, "/admin/functions/Tick", host, "", http.StatusUnauthorized},
		{"webhook without a key", http.MethodPost, webhook, "", "", http.StatusUnauthorized},
		{"webhook with a wrong code", http.MethodPost, webhook, "", "forged", http.StatusUnauthorized},
		{"webhook with a host key", http.MethodPost, webhook, "", host, http.StatusUnauthorized},
		{"webhook for an unknown function without a key", http.MethodPost, "/runtime/webhooks/EventGrid?functionName=Nope", "", "", http.StatusUnauthorized},
		{"webhook with the system key as code", http.MethodPost, webhook, "", system, http.StatusAccepted},
		{"webhook with the master key in the header", http.MethodPost, webhook, k.Master, "", http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := "http://" + h.Addr() + tc.path
			if tc.code != "" {
				sep := "?"
				if strings.Contains(u, "?") {
					sep = "&"
				}
				u += sep + "code=" + url.QueryEscape(tc.code)
			}
			body := `{"input": ""}`
			if strings.HasPrefix(tc.path, "/runtime/") {
				body = event
			}
			req, _ := http.NewRequest(tc.method, u, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("aeg-event-type", "Notification")
			if tc.header != "" {
				req.Header.Set("x-functions-key", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && len(b) != 0 {
				t.Errorf("401 body = %q, want empty", b)
			}
		})
	}
	if n := len(a.requests(t, "/OnBlobCreated")); n != 2 {
		t.Errorf("%d webhook invocations, want 2 (only the two with a valid key)", n)
	}
	if n := len(a.requests(t, "/Tick")); n != 0 {
		t.Errorf("%d admin invocations without the master key, want 0", n)
	}
}

// TestSystemKeyPersists: the eventgrid_extension key is kept in
// secrets/host.json (mode 0600) and survives a restart.
func TestSystemKeyPersists(t *testing.T) {
	a := newTestApp(t, basicHostJSON, map[string]string{"OnBlobCreated": eventGridFunction}, nil)
	opts := testOptions(a, newLogCapture())
	h1, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(opts.StateDir, "secrets", "host.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", path, st.Mode().Perm())
	}
	h2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := h1.Keys().System[EventGridKeyName], h2.Keys().System[EventGridKeyName]; a == "" || a != b {
		t.Errorf("system key %q then %q, want the same non-empty key", a, b)
	}
}
