package funchost

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
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
