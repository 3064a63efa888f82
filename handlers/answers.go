package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/arrival/arrivalmsg"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

const contentTypeJSON = "application/json"

// carryOut does what a written transition asks (lifecycle.Change): it
// schedules the resubmissions, sends the resends and publishes the
// answers. Every message has an id recorded before the send, so a retry
// after a failure here repeats them harmlessly.
func (a *App) carryOut(ctx context.Context, ch lifecycle.Change) error {
	for _, r := range ch.Resubmit {
		if err := a.sendAttempt(ctx, r); err != nil {
			return err
		}
	}
	for _, r := range ch.Resend {
		if err := a.sendResend(ctx, r); err != nil {
			return err
		}
	}
	return a.publishAll(ctx, ch.Events)
}

// publishAll publishes events in order, stopping at the first failure.
func (a *App) publishAll(ctx context.Context, evs []*results.Event) error {
	for _, ev := range evs {
		if err := a.publish(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// publish sends one result event to the results topic: MessageId the
// event id (one per request), CorrelationId the request's correlation.
func (a *App) publish(ctx context.Context, ev *results.Event) error {
	body, err := ev.Marshal()
	if err != nil {
		return err
	}
	ct, subject, id := contentTypeJSON, string(ev.Status), ev.ID
	m := &azservicebus.Message{
		Body: body, MessageID: &id, ContentType: &ct, Subject: &subject,
		ApplicationProperties: map[string]any{"status": string(ev.Status)},
	}
	if ev.Request != nil && ev.Request.Correlation != "" {
		c := ev.Request.Correlation
		m.CorrelationID = &c
	}
	if err := a.d.Results.SendMessage(ctx, m, nil); err != nil {
		return fmt.Errorf("publish %s result %s: %w", ev.Status, ev.ID, err)
	}
	return nil
}

// sendAttempt sends the arrival of attempt r.Attempt of r: at once for
// the first attempt (a drop's arrival), after its backoff for a
// resubmission.
func (a *App) sendAttempt(ctx context.Context, r request.Request) error {
	msg, err := arrivalmsg.New(arrival.FromRequest(r))
	if err != nil {
		return err
	}
	if err := a.enqueue(ctx, msg, r.Attempt); err != nil {
		return fmt.Errorf("send attempt %d of %s/%s: %w", r.Attempt, r.Container, r.Blob, err)
	}
	return nil
}

// sendResend sends a waiting request's arrival again under its resend
// message id: at once, or after the backoff of its dead-letter retry.
func (a *App) sendResend(ctx context.Context, r lifecycle.Resend) error {
	msg, err := arrivalmsg.Resend(arrival.FromRequest(r.Request), r.N)
	if err != nil {
		return err
	}
	if err := a.enqueue(ctx, msg, r.Retry); err != nil {
		return fmt.Errorf("resend %d of attempt %d of %s/%s: %w", r.N, r.Attempt, r.Container, r.Blob, err)
	}
	return nil
}

// enqueue sends an arrival at once (n == 0), or schedules it after the
// backoff of retry n.
func (a *App) enqueue(ctx context.Context, msg *azservicebus.Message, n int) error {
	if n == 0 {
		return a.d.Arrivals.SendMessage(ctx, msg, nil)
	}
	at := a.now().Add(backoff(a.cfg.ResubmitBackoff, n))
	_, err := a.d.Arrivals.ScheduleMessages(ctx, []*azservicebus.Message{msg}, at, nil)
	return err
}

// backoff is the delay before resubmission n (1-based): base × 2^(n-1),
// capped at a day.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}
