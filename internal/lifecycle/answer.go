package lifecycle

import (
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// answer is the result event of an answered entry: the one place result
// events are built. It depends only on the entry, so repeating an answer
// gives the same event.
func answer(e *Entry) *results.Event {
	v := e.Version
	ev := &results.Event{
		Schema: results.SchemaVersion, ID: request.ResultID(e.ID), Status: results.Status(e.State), Time: e.AnsweredAt.UTC(),
		Request: &results.RequestRef{ID: e.ID, Source: string(e.Source), Correlation: e.Correlation, Force: e.Force},
		File:    &v, Preset: e.Preset, TaskID: e.TaskID,
		Output: e.MP3, Audio: e.Audio, Reused: e.Reused, Logs: e.Logs, Failure: e.Failure, Rejection: e.Rejection,
	}
	if e.State == results.StateSucceeded || e.State == results.StateFailed {
		ev.Timings = results.NewTimings(e.SubmittedAt, e.StartedAt, e.FinishedAt)
		ev.Attempts = &results.Attempts{Retries: e.Retries, Requeues: e.Requeues, Resubmits: e.Attempt}
	}
	if e.Reused != nil {
		ev.TaskID, ev.Timings, ev.Attempts = "", nil, nil
	}
	return ev
}

// MessageRejection is the result event of a message that names no
// request it could be recorded under (it could not be parsed, or names a
// container ffbatch does not serve): its id derives from the message id
// and body, so a redelivery is the same answer.
func MessageRejection(messageID, correlation string, body []byte, rej *results.Rejection, now time.Time) *results.Event {
	id := messageID
	if id == "" {
		id = "body-" + request.Hash(string(body))[:64]
	}
	ev := &results.Event{Schema: results.SchemaVersion, ID: request.ResultID(id), Status: results.StatusRejected, Time: now.UTC(), Rejection: rej}
	ev.Request = &results.RequestRef{ID: id, Source: string(request.SourceMessage), Correlation: correlation}
	return ev
}
