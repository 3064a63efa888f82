package localstack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestQueueDepth(t *testing.T) {
	const entities = `{"entities":[{"name":"results","active":9,"scheduled":9},{"name":"arrivals","active":3,"scheduled":2}]}`
	tests := []struct {
		name          string
		status        int
		body          string
		queue         string
		wantActive    int
		wantScheduled int
		wantErr       string
	}{
		{name: "counts of the named queue", status: http.StatusOK, body: entities, queue: "arrivals", wantActive: 3, wantScheduled: 2},
		{name: "unknown queue", status: http.StatusOK, body: entities, queue: "nope", wantErr: "no such queue"},
		{name: "http error", status: http.StatusServiceUnavailable, body: "down", queue: "arrivals", wantErr: "503"},
		{name: "not json", status: http.StatusOK, body: "<html>", queue: "arrivals", wantErr: "decode /entities"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/entities" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			active, scheduled, err := QueueDepth(context.Background(), srv.Client(), Endpoints{ServiceBusHTTP: srv.URL}, tc.queue)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("QueueDepth error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("QueueDepth: %v", err)
			}
			if active != tc.wantActive || scheduled != tc.wantScheduled {
				t.Errorf("QueueDepth = (%d, %d), want (%d, %d)", active, scheduled, tc.wantActive, tc.wantScheduled)
			}
		})
	}
}

func TestPeekResultsRejectsNoLimit(t *testing.T) {
	if _, err := PeekResults(context.Background(), nil, Endpoints{ResultsTopic: "results"}, "all", 0); err == nil {
		t.Fatal("PeekResults with limit 0: no error")
	}
}
