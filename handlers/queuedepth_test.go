package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus/admin"
)

// fakeAdmin answers GetQueueRuntimeProperties with a fixed response or
// error and counts the calls. A fake because the tests need each failure
// the management API can give (401 without Manage rights, a missing queue,
// a timeout) and to count the requests made.
type fakeAdmin struct {
	calls int
	resp  *admin.GetQueueRuntimePropertiesResponse
	err   error
}

func (f *fakeAdmin) GetQueueRuntimeProperties(context.Context, string, *admin.GetQueueRuntimePropertiesOptions) (*admin.GetQueueRuntimePropertiesResponse, error) {
	f.calls++
	return f.resp, f.err
}

func TestQueueDepth(t *testing.T) {
	counts := &admin.GetQueueRuntimePropertiesResponse{QueueRuntimeProperties: admin.QueueRuntimeProperties{ActiveMessageCount: 7, ScheduledMessageCount: 2, DeadLetterMessageCount: 1}}
	tests := []struct {
		name      string
		resp      *admin.GetQueueRuntimePropertiesResponse
		err       error
		wantKnown bool
		wantText  string
		reuseFor  time.Duration
	}{
		{"counts", counts, nil, true, "", queueDepthFresh},
		{"no rights", nil, &azcore.ResponseError{StatusCode: http.StatusUnauthorized}, false, "Manage rights", queueDepthBackoff},
		{"no queue", nil, nil, false, "does not exist", queueDepthBackoff},
		{"unreachable", nil, context.DeadlineExceeded, false, "in time", queueDepthBackoff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			fa := &fakeAdmin{resp: tc.resp, err: tc.err}
			q := &queueDepth{admin: fa, name: "arrivals", now: func() time.Time { return now }}
			got := q.QueueCounts(context.Background())
			if got.Known != tc.wantKnown || tc.wantKnown && (got.Active != 7 || got.Scheduled != 2 || got.DeadLetter != 1) {
				t.Errorf("QueueCounts = %+v", got)
			}
			if tc.wantText != "" && !strings.Contains(got.Reason, tc.wantText) {
				t.Errorf("reason %q, want it to mention %q", got.Reason, tc.wantText)
			}
			now = now.Add(tc.reuseFor - time.Second)
			q.QueueCounts(context.Background())
			now = now.Add(2 * time.Second)
			q.QueueCounts(context.Background())
			if fa.calls != 2 {
				t.Errorf("%d management requests, want one reused for %v, then one more", fa.calls, tc.reuseFor)
			}
		})
	}
}
