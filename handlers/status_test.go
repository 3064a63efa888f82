package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/statusapi"
)

func httpRequest(method string, query map[string]string) *customhandler.InvokeRequest {
	qb, _ := json.Marshal(query)
	b := fmt.Sprintf(`{"Url":"http://localhost:7071/api/status","Method":%q,"Query":%s,"Headers":{"Accept":["application/json"]},"Params":{}}`, method, qb)
	return &customhandler.InvokeRequest{Data: map[string]json.RawMessage{bindingRequest: json.RawMessage(b)}}
}

// fileJSON is the part of the Status file view the tests read.
type fileJSON struct {
	State       string `json:"state"`
	Request     string `json:"request"`
	Correlation string `json:"correlation"`
	TaskID      string `json:"taskId"`
	ETag        string `json:"etag"`
	StartedAt   string `json:"startedAt"`
	Rejection   *struct {
		Reason string `json:"reason"`
	} `json:"rejection"`
	Requests []struct {
		Request string `json:"request"`
		State   string `json:"state"`
	} `json:"requests"`
}

func (v fileJSON) history() string {
	var parts []string
	for _, r := range v.Requests {
		parts = append(parts, r.Request+":"+r.State)
	}
	return strings.Join(parts, " ")
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	// a.mp4: one request answered, then a new version running on its task.
	transcode(t, f, "input", "a.mp4", message{id: "m-1", body: arrivalJSON("input", "a.mp4", "0x1", "")})
	f.submit(t, message{id: "m-2", body: arrivalJSON("input", "a.mp4", "0x2", `,"correlation":"c-2"`)})
	running := f.entry(t, "input", "a.mp4", "m-2").TaskID
	started := f.now().Add(time.Minute)
	f.batch.tasks[running].State = batch.TaskStateRunning
	f.batch.tasks[running].ExecutionInfo = &batch.TaskExecutionInfo{StartTime: started}
	// b.mp4: waiting on its task; notes.txt: dropped and ignored; an
	// upstream blob.
	f.submit(t, message{id: "m-b", body: arrivalJSON("input", "b.mp4", "0x1", "")})
	f.drop(t, "notes.txt", "0x1")
	f.submit(t, message{id: "m-u", body: arrivalJSON("upstream", "u.mp4", "0x1", "")})

	tests := []struct {
		name        string
		req         *customhandler.InvokeRequest
		wantStatus  int
		wantState   string
		wantRequest string
		wantHistory string
	}{
		{"file with history, current request running", httpRequest("GET", map[string]string{"blob": "a.mp4"}), 200, "running", "m-2", "m-1:succeeded m-2:running"},
		{"file waiting on its task", httpRequest("GET", map[string]string{"blob": "b.mp4"}), 200, "submitted", "m-b", "m-b:submitted"},
		{"ignored drop", httpRequest("GET", map[string]string{"blob": "notes.txt"}), 200, "ignored", "", ""},
		{"upstream container", httpRequest("GET", map[string]string{"blob": "u.mp4", "container": "upstream"}), 200, "submitted", "m-u", "m-u:submitted"},
		{"unknown blob", httpRequest("GET", map[string]string{"blob": "nope.mp4"}), 404, "", "", ""},
		{"known blob, other container", httpRequest("GET", map[string]string{"blob": "a.mp4", "container": "upstream"}), 404, "", "", ""},
		{"post refused", httpRequest("POST", nil), 405, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.app.Status(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			out, ok := resp.Outputs[bindingResponse].(customhandler.HTTPResponse)
			if !ok {
				t.Fatalf("no http output: %+v", resp.Outputs)
			}
			if out.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", out.StatusCode, tc.wantStatus, out.Body)
			}
			if tc.wantState == "" {
				return
			}
			var v fileJSON
			if err := json.Unmarshal([]byte(out.Body), &v); err != nil {
				t.Fatalf("body %s: %v", out.Body, err)
			}
			if v.State != tc.wantState || tc.wantRequest != "" && (v.Request != tc.wantRequest || v.history() != tc.wantHistory) {
				t.Errorf("view: state %s, request %s, history %q; want %s, %s, %q", v.State, v.Request, v.history(), tc.wantState, tc.wantRequest, tc.wantHistory)
			}
		})
	}

	t.Run("current request flattened", func(t *testing.T) {
		resp, err := f.app.Status(ctx, httpRequest("GET", map[string]string{"blob": "a.mp4"}))
		if err != nil {
			t.Fatal(err)
		}
		var v fileJSON
		_ = json.Unmarshal([]byte(resp.Outputs[bindingResponse].(customhandler.HTTPResponse).Body), &v)
		if v.Correlation != "c-2" || v.TaskID != running || v.ETag != "0x2" || v.StartedAt != started.Format(time.RFC3339) {
			t.Errorf("view = %+v, want m-2's correlation, task, version and start", v)
		}
		resp, _ = f.app.Status(ctx, httpRequest("GET", map[string]string{"blob": "notes.txt"}))
		_ = json.Unmarshal([]byte(resp.Outputs[bindingResponse].(customhandler.HTTPResponse).Body), &v)
		if v.Rejection == nil || v.Rejection.Reason != "unsupported_extension" || len(v.Requests) != 1 {
			t.Errorf("ignored view = %+v, want its reason and one request", v)
		}
	})

	t.Run("page", func(t *testing.T) {
		f.batch.nodes["ffbatch-pool"] = []batch.Node{{ID: "n1", State: batch.NodeStateRunning, RunningTaskSlotsCount: 1, IsDedicated: true}, {ID: "n2", State: batch.NodeStateStarting}}
		tests := []struct {
			name  string
			query map[string]string
			want  string // blob:state of the rows
		}{
			{"every file of the input container", nil, "a.mp4:running b.mp4:submitted notes.txt:ignored"},
			{"by state: running is a submitted file whose task started", map[string]string{"state": "running"}, "a.mp4:running"},
			{"by state: submitted leaves the running out", map[string]string{"state": "submitted,ignored"}, "b.mp4:submitted notes.txt:ignored"},
			{"by prefix", map[string]string{"prefix": "n"}, "notes.txt:ignored"},
			{"upstream container", map[string]string{"container": "upstream"}, "u.mp4:submitted"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				page := statusPage(t, f, tc.query)
				var got []string
				for _, r := range page.Rows {
					got = append(got, r.Blob+":"+string(r.State))
				}
				if strings.Join(got, " ") != tc.want {
					t.Errorf("rows = %v, want %s", got, tc.want)
				}
			})
		}
		page := statusPage(t, f, nil)
		if page.Schema != statusapi.Schema || page.Pool == nil || len(page.Pool.Nodes) != 2 || page.Pool.Heat[statusapi.HeatRunning] != 1 ||
			page.Pool.Heat[statusapi.HeatStarting] != 1 || page.Tasks == nil || page.Tasks.Active != 2 || page.Tasks.Running != 1 {
			t.Errorf("page = %+v", page)
		}
		if page.Queue.Known || page.Queue.Name != "arrivals" || page.Queue.Reason == "" {
			t.Errorf("queue = %+v, want unknown with a reason (no management client)", page.Queue)
		}
		if n := len(page.Activity.Recent); n != 2 {
			t.Errorf("%d recent answers, want a.mp4's first request and notes.txt: %+v", n, page.Activity.Recent)
		}
	})

	t.Run("bad page query", func(t *testing.T) {
		for _, q := range []map[string]string{{"state": "done"}, {"limit": "0"}, {"container": "elsewhere"}} {
			resp, err := f.app.Status(ctx, httpRequest("GET", q))
			if err != nil {
				t.Fatal(err)
			}
			if out := resp.Outputs[bindingResponse].(customhandler.HTTPResponse); out.StatusCode != 400 {
				t.Errorf("query %v: status %d, want 400: %s", q, out.StatusCode, out.Body)
			}
		}
	})

	t.Run("status store failure", func(t *testing.T) {
		f.status.inject(func(s *fakeStatus) { s.getErr = errStorage })
		defer f.status.inject(func(s *fakeStatus) { s.getErr = nil })
		if _, err := f.app.Status(ctx, httpRequest("GET", map[string]string{"blob": "a.mp4"})); err == nil {
			t.Errorf("Status answered although the record could not be read")
		}
	})
}

// statusPage calls Status without blob and decodes the page.
func statusPage(t *testing.T, f *fixture, query map[string]string) statusapi.Page {
	t.Helper()
	resp, err := f.app.Status(context.Background(), httpRequest("GET", query))
	if err != nil {
		t.Fatal(err)
	}
	out := resp.Outputs[bindingResponse].(customhandler.HTTPResponse)
	var page statusapi.Page
	if out.StatusCode != 200 || json.Unmarshal([]byte(out.Body), &page) != nil {
		t.Fatalf("status page: %d %s", out.StatusCode, out.Body)
	}
	return page
}
