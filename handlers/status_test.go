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

	t.Run("summary", func(t *testing.T) {
		resp, err := f.app.Status(ctx, httpRequest("GET", nil))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Files struct {
				Counts map[string]int `json:"counts"`
				Total  int            `json:"total"`
			} `json:"files"`
			Pool  *struct{ ID string } `json:"pool"`
			Tasks *batch.TaskCounts    `json:"tasks"`
		}
		body := resp.Outputs[bindingResponse].(customhandler.HTTPResponse).Body
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if v.Files.Total != 4 || v.Files.Counts["submitted"] != 3 || v.Files.Counts["ignored"] != 1 || v.Pool == nil || v.Tasks == nil || v.Tasks.Active != 2 || v.Tasks.Running != 1 {
			t.Errorf("summary = %s", body)
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
