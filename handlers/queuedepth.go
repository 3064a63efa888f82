package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus/admin"

	"github.com/ffbatch/ffbatch/internal/statusapi"
)

// queueAdmin is the part of the Service Bus management client the Status
// page uses.
type queueAdmin interface {
	GetQueueRuntimeProperties(ctx context.Context, name string, opts *admin.GetQueueRuntimePropertiesOptions) (*admin.GetQueueRuntimePropertiesResponse, error)
}

var _ queueAdmin = (*admin.Client)(nil)

// How long a queue depth is reused: a read for fresh counts, a failure
// (typically missing Manage rights) for longer, so page views do not
// repeat a request that cannot succeed.
const (
	queueDepthFresh   = 10 * time.Second
	queueDepthBackoff = 5 * time.Minute
	queueDepthTimeout = 5 * time.Second
)

// queueDepth reads the arrivals queue's runtime properties through the
// management API, where the app's identity has Manage rights (Azure
// Service Bus Data Owner); otherwise it reports the depth unknown. It is
// safe for concurrent use: mu guards last and until, and is held while
// reading so concurrent page views share one request.
type queueDepth struct {
	admin queueAdmin
	name  string
	now   func() time.Time

	mu    sync.Mutex
	last  statusapi.Queue
	until time.Time
}

var _ statusapi.QueueCounter = (*queueDepth)(nil)

func (q *queueDepth) QueueCounts(ctx context.Context) statusapi.Queue {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	if now.Before(q.until) {
		return q.last
	}
	ctx, cancel := context.WithTimeout(ctx, queueDepthTimeout)
	defer cancel()
	resp, err := q.admin.GetQueueRuntimeProperties(ctx, q.name, nil)
	switch {
	case err != nil:
		q.last, q.until = statusapi.Queue{Reason: queueDepthReason(err)}, now.Add(queueDepthBackoff)
	case resp == nil:
		q.last, q.until = statusapi.Queue{Reason: "the queue does not exist"}, now.Add(queueDepthBackoff)
	default:
		q.last = statusapi.Queue{Known: true, Active: int64(resp.ActiveMessageCount), Scheduled: int64(resp.ScheduledMessageCount),
			DeadLetter: int64(resp.DeadLetterMessageCount)}
		q.until = now.Add(queueDepthFresh)
	}
	return q.last
}

// queueDepthReason says why the depth is unknown, without the error's
// details (which name the namespace's URL).
func queueDepthReason(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden {
			return "the function app may not read it (it needs Manage rights: Azure Service Bus Data Owner on the namespace)"
		}
		return fmt.Sprintf("the management API answered %d", re.StatusCode)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the management API did not answer in time"
	}
	return "the management API could not be reached"
}

// fixedQueue reports the depth unknown for a fixed reason.
type fixedQueue string

func (r fixedQueue) QueueCounts(context.Context) statusapi.Queue {
	return statusapi.Queue{Reason: string(r)}
}
