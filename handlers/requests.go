package handlers

import (
	"errors"
	"fmt"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// Rejection reasons decided by the functions rather than the parser.
const (
	reasonContainerNotAllowed = "container_not_allowed"
	reasonOutputTaken         = "output_taken"
)

// resolve is the request an arrival carries in a message with messageID:
// its preset (else the configured default) and output (else the naming
// rule, plan.OutputName).
func (a *App) resolve(arr arrival.Arrival, messageID string, source request.Source) request.Request {
	preset := arr.Preset
	if preset == "" {
		preset = a.cfg.DefaultPreset
	}
	output := arr.Output
	if output == "" {
		output = plan.OutputName(arr.Blob, preset, a.cfg.DefaultPreset)
	}
	return arr.Resolve(messageID, source, preset, output)
}

// rejectionOf describes why an arrival is invalid; body, when given, is
// excerpted for diagnosis.
func rejectionOf(err error, messageID string, body []byte) *results.Rejection {
	rej := &results.Rejection{Reason: "invalid", Message: err.Error(), MessageID: messageID}
	if len(body) > 0 {
		rej.Body = results.Excerpt(string(body), 512)
	}
	var ae *arrival.Error
	if errors.As(err, &ae) {
		rej.Reason = string(ae.Reason())
		for _, p := range ae.Problems {
			rej.Problems = append(rej.Problems, results.Problem{Field: p.Field, Reason: string(p.Reason), Message: p.Message})
		}
	}
	return rej
}

// outputTaken is the rejection of a request whose output another input
// or preset owns.
func outputTaken(r request.Request, holder *lifecycle.OutputOwner) *results.Rejection {
	return &results.Rejection{Reason: reasonOutputTaken, MessageID: r.ID, Message: fmt.Sprintf(
		"output %q belongs to %s/%s with preset %s; name another output, or set \"overwrite\": true to take it over",
		r.Output, holder.Container, holder.Blob, holder.Preset)}
}

// ownerOf is the output claim of a request.
func ownerOf(r request.Request) lifecycle.OutputOwner {
	return lifecycle.OutputOwner{Output: r.Output, Container: r.Container, Blob: r.Blob, Preset: r.Preset, Request: r.ID}
}
