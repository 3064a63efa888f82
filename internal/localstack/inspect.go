package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/results"
)

// QueueDepth returns the counts of a queue of the running stack's Service
// Bus emulator, read from its /entities page at ep.ServiceBusHTTP: active
// messages (ready to receive) and scheduled ones (not yet enqueued). hc
// nil means http.DefaultClient. An unknown queue is an error.
func QueueDepth(ctx context.Context, hc *http.Client, ep Endpoints, queue string) (active, scheduled int, err error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.ServiceBusHTTP+"/entities", nil)
	if err != nil {
		return 0, 0, fmt.Errorf("queue depth of %s: %w", queue, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("queue depth of %s: %w", queue, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("queue depth of %s: GET /entities: %s", queue, resp.Status)
	}
	var v struct {
		Entities []struct {
			Name      string `json:"name"`
			Active    int    `json:"active"`
			Scheduled int    `json:"scheduled"`
		} `json:"entities"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, 0, fmt.Errorf("queue depth of %s: decode /entities: %w", queue, err)
	}
	for _, e := range v.Entities {
		if e.Name == queue {
			return e.Active, e.Scheduled, nil
		}
	}
	return 0, 0, fmt.Errorf("queue depth of %s: no such queue in /entities", queue)
}

// PeekedResults is what PeekResults read from a subscription.
type PeekedResults struct {
	// Events are the result events, in sequence-number order.
	Events []results.Event
	// CorrelationIDs are the Service Bus CorrelationId of each event
	// ("" when unset), by index.
	CorrelationIDs []string
	// Undecodable names each message whose body is not a result event.
	Undecodable []error
	// Truncated is set when reading stopped at the limit, without looking
	// for further messages.
	Truncated bool
}

// peekPage is how many messages one PeekMessages call asks for.
const peekPage = 250

// PeekResults reads the messages on a subscription of the results topic
// (ep.ResultsTopic) without settling them, so any number of readers see
// the same events, and decodes them as result events. It reads at most
// limit messages (limit > 0) and sets Truncated when it stopped there.
func PeekResults(ctx context.Context, sb *azservicebus.Client, ep Endpoints, subscription string, limit int) (*PeekedResults, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("peek %s/%s: limit %d, want at least 1", ep.ResultsTopic, subscription, limit)
	}
	r, err := sb.NewReceiverForSubscription(ep.ResultsTopic, subscription, nil)
	if err != nil {
		return nil, fmt.Errorf("receiver for %s/%s: %w", ep.ResultsTopic, subscription, err)
	}
	defer r.Close(context.Background())
	out := &PeekedResults{}
	var next int64
	for read := 0; ; {
		if read >= limit {
			out.Truncated = true
			return out, nil
		}
		from := next
		msgs, err := r.PeekMessages(ctx, min(peekPage, limit-read), &azservicebus.PeekMessagesOptions{FromSequenceNumber: &from})
		if err != nil {
			return out, fmt.Errorf("peek %s/%s: %w", ep.ResultsTopic, subscription, err)
		}
		if len(msgs) == 0 {
			return out, nil
		}
		read += len(msgs)
		for _, m := range msgs {
			if m.SequenceNumber != nil && *m.SequenceNumber >= next {
				next = *m.SequenceNumber + 1
			}
			var ev results.Event
			if err := json.Unmarshal(m.Body, &ev); err != nil {
				out.Undecodable = append(out.Undecodable, fmt.Errorf("message %q (sequence number %s) is not a result event: %w: %q", m.MessageID, seq(m.SequenceNumber), err, m.Body))
				continue
			}
			out.Events = append(out.Events, ev)
			corr := ""
			if m.CorrelationID != nil {
				corr = *m.CorrelationID
			}
			out.CorrelationIDs = append(out.CorrelationIDs, corr)
		}
	}
}

func seq(n *int64) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}
