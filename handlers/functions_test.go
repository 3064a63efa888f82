package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/customhandler"
)

// TestFunctionDefinitions keeps function-definitions/ and host.json in
// step with the registered functions and binding names.
func TestFunctionDefinitions(t *testing.T) {
	f := newFixture(t, nil)
	mux := customhandler.NewMux(f.app.log, nil)
	f.app.Register(mux)
	want := map[string]struct{ trigger, name string }{
		FuncBlobCreated:  {"eventGridTrigger", bindingEvent},
		FuncSubmitTasks:  {"serviceBusTrigger", bindingArrivals},
		FuncTaskFinished: {"eventGridTrigger", bindingEvent},
		FuncSweepPools:   {"timerTrigger", bindingTimer},
		FuncStatus:       {"httpTrigger", bindingRequest},
		FuncDashboard:    {"httpTrigger", bindingRequest},
	}
	dirs, err := os.ReadDir(filepath.Join("..", "function-definitions"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != len(want) {
		t.Errorf("%d function folders, %d functions", len(dirs), len(want))
	}
	for _, d := range dirs {
		w, ok := want[d.Name()]
		if !ok {
			t.Errorf("folder %s has no registered function", d.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join("..", "function-definitions", d.Name(), "function.json"))
		if err != nil {
			t.Fatal(err)
		}
		var fj struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal(b, &fj); err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		trig := fj.Bindings[0]
		if trig["type"] != w.trigger || trig["name"] != w.name || trig["direction"] != "in" {
			t.Errorf("%s trigger binding = %v, want %s named %s", d.Name(), trig, w.trigger, w.name)
		}
		if w.trigger == "serviceBusTrigger" && (trig["cardinality"] != "many" || trig["dataType"] != "string") {
			t.Errorf("SubmitTasks needs cardinality many and dataType string (host#6487): %v", trig)
		}
		if w.trigger == "httpTrigger" && (len(fj.Bindings) != 2 || fj.Bindings[1]["name"] != bindingResponse || fj.Bindings[1]["type"] != "http") {
			t.Errorf("Status needs an http output named %s: %v", bindingResponse, fj.Bindings)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/"+d.Name(), strings.NewReader(`{"Data":{},"Metadata":{}}`)))
		if rec.Code == http.StatusNotFound {
			t.Errorf("POST /%s is not routed", d.Name())
		}
	}
	var host struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
			EnableForwardingHTTPRequest *bool `json:"enableForwardingHttpRequest"`
		} `json:"customHandler"`
		ExtensionBundle struct{ Version string } `json:"extensionBundle"`
		FunctionTimeout string                   `json:"functionTimeout"`
	}
	b, err := os.ReadFile(filepath.Join("..", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatal(err)
	}
	if host.CustomHandler.Description.DefaultExecutablePath != "handler" || host.CustomHandler.EnableForwardingHTTPRequest == nil ||
		*host.CustomHandler.EnableForwardingHTTPRequest || host.ExtensionBundle.Version != "[4.*, 5.0.0)" || host.FunctionTimeout == "" {
		t.Errorf("host.json = %+v", host)
	}
}
