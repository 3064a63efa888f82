package batchemu

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/localtoken"
)

// FuzzRequestBodies sends arbitrary bodies to the operations that decode
// JSON and checks that the emulator never panics or answers 5xx, and that
// every failure carries a Batch error body.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{
		`{"id":"p","vmSize":"x","virtualMachineConfiguration":{},"targetDedicatedNodes":0}`,
		`{"id":"j","poolInfo":{"poolId":"p"}}`,
		`{"id":"t","commandLine":"true","constraints":{"maxWallClockTime":"PT1S"}}`,
		`{"value":[{"id":"a","commandLine":"true"},{"id":"a"}]}`,
		`{"targetDedicatedNodes":-1}`, `{"autoScaleFormula":"$TargetDedicatedNodes=1;"}`,
		`{"resourceFiles":[{"httpUrl":"x"}]}`, `[]`, `null`, `{"id":1}`, `{"constraints":{"retentionTime":"P"}}`,
	}
	for _, s := range seeds {
		for op := range 6 {
			f.Add(uint8(op), s)
		}
	}
	key := localtoken.NewKey()
	issuer, err := localtoken.New(key, nil)
	if err != nil {
		f.Fatal(err)
	}
	token, _ := issuer.Issue(localtoken.AudienceBatch, 24*time.Hour)
	srv, err := NewServer(&Options{runner: &fakeRunner{}, tick: time.Hour, TokenKey: key})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close(context.Background()) })
	h := srv.Handler()
	send := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path+"?api-version=2025-06-01", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send("POST", "/pools", `{"id":"fp","vmSize":"x","virtualMachineConfiguration":{},"targetDedicatedNodes":0}`); rec.Code != 201 {
		f.Fatalf("create pool: %d %s", rec.Code, rec.Body)
	}
	if rec := send("POST", "/jobs", `{"id":"fj","poolInfo":{"poolId":"fp"}}`); rec.Code != 201 {
		f.Fatalf("create job: %d %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		routes := []struct{ method, path string }{
			{"POST", "/pools"}, {"POST", "/jobs"}, {"POST", "/jobs/fj/tasks"},
			{"POST", "/jobs/fj/addtaskcollection"}, {"POST", "/pools/fp/resize"}, {"PATCH", "/jobs/fj"},
		}
		rt := routes[int(op)%len(routes)]
		rec := send(rt.method, rt.path, body)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d %s", rt.method, rt.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				Code    string
				Message struct{ Value string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message.Value == "" {
				t.Fatalf("%s %s %q: status %d without a Batch error body: %s", rt.method, rt.path, body, rec.Code, rec.Body)
			}
		}
	})
}
