package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/statusapi"
	"github.com/ffbatch/ffbatch/internal/statusapi/schematest"
)

func dashboardRequest(method, view string) *customhandler.InvokeRequest {
	b := fmt.Sprintf(`{"Url":"http://localhost:7071/api/dashboard","Method":%q,"Query":{"code":"k"},"Headers":{},"Params":{"view":%q}}`, method, view)
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingRequest: json.RawMessage(b)}}
}

func TestDashboard(t *testing.T) {
	f := newFixture(t, nil)
	f.drop(t, "notes.txt", "0x1")
	tests := []struct {
		name, method, view string
		wantStatus         int
		wantType           string
		want               string
	}{
		{"page", "GET", "", 200, "text/html; charset=utf-8", "<table"},
		{"the page's data", "GET", "status", 200, "application/json", `"schema":"ffbatch.status/v1"`},
		{"unknown view", "GET", "nope", 404, "application/json", "no dashboard view"},
		{"post refused", "POST", "", 405, "application/json", "only GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.app.Dashboard(context.Background(), dashboardRequest(tc.method, tc.view))
			if err != nil {
				t.Fatal(err)
			}
			out := resp.Outputs[bindingResponse].(customhandler.HTTPResponse)
			if out.StatusCode != tc.wantStatus || out.Headers["Content-Type"] != tc.wantType || !strings.Contains(out.Body, tc.want) {
				t.Errorf("%d %q %.200s; want %d %q with %q", out.StatusCode, out.Headers["Content-Type"], out.Body, tc.wantStatus, tc.wantType, tc.want)
			}
			if tc.view == "status" {
				schematest.Validate(t, []byte(out.Body))
				var p statusapi.Page
				if json.Unmarshal([]byte(out.Body), &p) != nil || len(p.Rows) != 1 {
					t.Errorf("page rows = %+v", p.Rows)
				}
			}
			if tc.view == "" && tc.method == "GET" && !strings.Contains(out.Headers["Content-Security-Policy"], "script-src 'sha256-") {
				t.Errorf("page served without its CSP: %v", out.Headers)
			}
		})
	}
}
