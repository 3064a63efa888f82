package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// maxDeadLetterRetries is how many times SweepPools sends again the
// arrival of a request whose arrival went to the dead-letter queue (each
// after FFBATCH_RESUBMIT_BACKOFF × 2ⁿ⁻¹) before it answers the request
// failed with category deadletter.
const maxDeadLetterRetries = 5

// maxDeadLettersPerSweep bounds the dead-lettered arrivals one sweep
// handles; the next sweep takes the rest.
const maxDeadLettersPerSweep = 100

// deadLetterWait bounds the wait for dead-lettered arrivals a peek has
// shown (a receive blocks until a message comes).
const deadLetterWait = 5 * time.Second

// deadLetterQueue is the arrivals queue's dead-letter subqueue
// (<queue>/$DeadLetterQueue), received in peek-lock mode.
type deadLetterQueue interface {
	PeekMessages(ctx context.Context, maxMessageCount int, opts *azservicebus.PeekMessagesOptions) ([]*azservicebus.ReceivedMessage, error)
	ReceiveMessages(ctx context.Context, maxMessages int, opts *azservicebus.ReceiveMessagesOptions) ([]*azservicebus.ReceivedMessage, error)
	CompleteMessage(ctx context.Context, msg *azservicebus.ReceivedMessage, opts *azservicebus.CompleteMessageOptions) error
}

var _ deadLetterQueue = (*azservicebus.Receiver)(nil)

type deadLetterStats struct{ retried, answered int }

// sweepDeadLetters gives every dead-lettered arrival its way out: an
// arrival SubmitTasks failed on too often (storage or Batch down for
// longer than its deliveries), or that expired in the queue. A message
// that is not a valid arrival gets its rejected answer; a request still
// waiting for that arrival is sent again under a new message id
// (lifecycle.Record.DeadLettered), until it has been dead-lettered
// maxDeadLetterRetries times, and then answered failed with the
// dead-letter reason. The record is written first, then the messages are
// sent, then the dead-lettered message is completed; a failure leaves it
// in the dead-letter queue for the next sweep.
func (a *App) sweepDeadLetters(ctx context.Context) (deadLetterStats, error) {
	var st deadLetterStats
	if a.d.DeadLetters == nil {
		return st, nil
	}
	peeked, err := a.d.DeadLetters.PeekMessages(ctx, 1, &azservicebus.PeekMessagesOptions{FromSequenceNumber: new(int64)})
	if err != nil {
		return st, fmt.Errorf("sweep dead letters: peek: %w", err)
	}
	if len(peeked) == 0 {
		return st, nil
	}
	rctx, cancel := context.WithTimeout(ctx, deadLetterWait)
	msgs, err := a.d.DeadLetters.ReceiveMessages(rctx, maxDeadLettersPerSweep, nil)
	cancel()
	if err != nil && !(len(msgs) == 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil) {
		return st, fmt.Errorf("sweep dead letters: receive: %w", err)
	}
	for _, m := range msgs {
		retried, err := a.redrive(ctx, m)
		if err != nil {
			return st, fmt.Errorf("sweep dead letters: message %s: %w", m.MessageID, err)
		}
		if retried {
			st.retried++
		} else {
			st.answered++
		}
	}
	return st, nil
}

// redrive handles one dead-lettered arrival and completes it. It reports
// whether the request was sent again.
func (a *App) redrive(ctx context.Context, m *azservicebus.ReceivedMessage) (bool, error) {
	sm := customhandler.ServiceBusMessage{Body: m.Body, MessageID: m.MessageID}
	if m.CorrelationID != nil {
		sm.CorrelationID = *m.CorrelationID
	}
	r, rej := a.admit(sm)
	var ch lifecycle.Change
	if rej != nil {
		ch.Events = []*results.Event{rej}
	} else {
		fail, now := deadLetterFailure(m), a.now().UTC()
		var err error
		ch, err = a.updateStatus(ctx, r.Container, r.Blob, func(rec *lifecycle.Record) lifecycle.Change {
			return rec.DeadLettered(r, fail, maxDeadLetterRetries, now)
		})
		if err != nil {
			return false, err
		}
	}
	if err := a.carryOut(ctx, ch); err != nil {
		return false, err
	}
	if err := a.d.DeadLetters.CompleteMessage(ctx, m, nil); err != nil {
		return false, fmt.Errorf("complete: %w", err)
	}
	log := a.log.With("message_id", m.MessageID, "reason", deadLetterReason(m))
	if len(ch.Resend) > 0 {
		log.Warn("sweep: dead-lettered arrival sent again", "request", r.ID, "retry", ch.Resend[0].Retry)
		return true, nil
	}
	log.Warn("sweep: dead-lettered arrival answered", "answers", len(ch.Events))
	return false, nil
}

// deadLetterFailure is the failure a request is answered with once its
// arrivals went to the dead-letter queue too often: the queue's reason
// (MaxDeliveryCountExceeded, TTLExpiredException, ...) and description.
func deadLetterFailure(m *azservicebus.ReceivedMessage) *results.Failure {
	return &results.Failure{Category: results.CategoryDeadLetter, Transient: true, Code: deadLetterReason(m),
		Message: fmt.Sprintf("the arrival went to the dead-letter queue more than %d times; last: %s", maxDeadLetterRetries, describe(m))}
}

// deadLetterReason is the message's dead-letter reason.
func deadLetterReason(m *azservicebus.ReceivedMessage) string {
	if m.DeadLetterReason == nil || *m.DeadLetterReason == "" {
		return "unknown"
	}
	return *m.DeadLetterReason
}

// describe is the reason and, when set, the description.
func describe(m *azservicebus.ReceivedMessage) string {
	if m.DeadLetterErrorDescription == nil || *m.DeadLetterErrorDescription == "" {
		return deadLetterReason(m)
	}
	return deadLetterReason(m) + ": " + *m.DeadLetterErrorDescription
}
