package handlers

import (
	"context"
	"fmt"
	"sync"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// claimOutputs claims each request's output before it is journalled (at
// most statusWorkers claims at once) and returns the requests to journal
// and the answers of those refused: a request whose output another input
// or preset owns is rejected (output_taken), unless its record shows it
// was accepted earlier (a redelivery or a later attempt keeps its
// decision). Only a refusal reads and writes the record.
//
// This is one storage round trip per request on SubmitTasks' path; it
// moves to settling (the task's MP3 is promoted to its output only if the
// claim holds), after which SubmitTasks writes nothing per request.
func (a *App) claimOutputs(ctx context.Context, reqs []request.Request) ([]request.Request, []*results.Event, error) {
	refused := make([][]*results.Event, len(reqs))
	err := forEach(len(reqs), statusWorkers, func(i int) error {
		evs, err := a.claimOutput(ctx, reqs[i])
		refused[i] = evs
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("submit tasks: %w", err)
	}
	var keep []request.Request
	var answers []*results.Event
	for i, r := range reqs {
		if refused[i] == nil {
			keep = append(keep, r)
		}
		answers = append(answers, refused[i]...)
	}
	return keep, answers, nil
}

// claimOutput claims r's output; it returns r's answer if r is refused,
// nil if it goes on.
func (a *App) claimOutput(ctx context.Context, r request.Request) ([]*results.Event, error) {
	holder, err := a.d.Status.ClaimOutput(ctx, ownerOf(r), r.Overwrite)
	if err != nil || holder == nil {
		return nil, err
	}
	now := a.now().UTC()
	var once sync.Once
	ch, err := a.updateStatus(ctx, r.Container, r.Blob, func(rec *lifecycle.Record) lifecycle.Change {
		if rec.Accepted(r.ID) {
			return lifecycle.Change{}
		}
		once.Do(func() {
			a.log.Warn("submit tasks: output taken", "request", r.ID, "output", r.Output, "holder_blob", holder.Blob, "holder_preset", holder.Preset)
		})
		return rec.Refuse(r, results.StateRejected, outputTaken(r, holder), now)
	})
	if err != nil || len(ch.Events) == 0 {
		return nil, err
	}
	return ch.Events, nil
}
