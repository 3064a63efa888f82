package statusapi

import (
	"context"

	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// links mints a row's read-only links: the MP3 of a succeeded request and
// the logs of a task that ended (stdout.txt and stderr.txt, one blob each:
// no list permission). nil when there is nothing to link or signing fails
// (the row is still shown).
func (b *Builder) links(ctx context.Context, r Row) *Links {
	sign := func(container, blob string) string {
		u, err := b.src.Signer.ReadBlobURL(ctx, container, blob, b.cfg.LinkLifetime)
		if err != nil {
			return ""
		}
		return u
	}
	l := &Links{ExpiresAt: b.cfg.Now().UTC().Add(b.cfg.LinkLifetime)}
	if r.State == results.StateSucceeded && r.Output != "" && !r.OutputCut {
		l.Output = sign(b.cfg.OutputContainer, r.Output)
	}
	if r.TaskID != "" && !r.Reused && (r.State == results.StateSucceeded || r.State == results.StateFailed) {
		logs := plan.LogsPath(b.cfg.LogsPrefix, r.TaskID)
		l.Stdout = sign(b.cfg.OutputContainer, logs+"/stdout.txt")
		l.Stderr = sign(b.cfg.OutputContainer, logs+"/stderr.txt")
	}
	if l.Output == "" && l.Stdout == "" && l.Stderr == "" {
		return nil
	}
	return l
}
