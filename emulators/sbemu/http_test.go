package sbemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestHTTPHandler(t *testing.T) {
	e := newEnv(t, nil)
	send(t, e.sender(t, "q1"), &azservicebus.Message{Body: []byte("a")}, &azservicebus.Message{Body: []byte("b")})
	ts := httptest.NewServer(e.srv.HTTPHandler())
	t.Cleanup(ts.Close)

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		check      func(t *testing.T, body []byte)
	}{
		{"health", http.MethodGet, "/health", http.StatusOK, func(t *testing.T, body []byte) {
			var v map[string]string
			if err := json.Unmarshal(body, &v); err != nil || v["status"] != "ok" {
				t.Fatalf("health body = %s (%v)", body, err)
			}
		}},
		{"entities", http.MethodGet, "/entities", http.StatusOK, func(t *testing.T, body []byte) {
			var v struct {
				Entities []struct {
					Name         string `json:"name"`
					Active       int    `json:"active"`
					Scheduled    int    `json:"scheduled"`
					DeadLettered int    `json:"deadLettered"`
					Deferred     int    `json:"deferred"`
				} `json:"entities"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, en := range v.Entities {
				if en.Name == "q1" {
					found = true
					if en.Active != 2 {
						t.Errorf("q1 active = %d, want 2", en.Active)
					}
				}
			}
			if !found {
				t.Fatalf("q1 missing from %s", body)
			}
		}},
		{"wrong method", http.MethodPost, "/health", http.StatusMethodNotAllowed, nil},
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}
