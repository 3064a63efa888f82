package batchemu

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/executor"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/taskrun"
)

// attemptRunner runs one attempt of a task or start task. The real one is
// *executor.Runner; tests may swap in a fake through Options.runner.
type attemptRunner interface {
	Run(ctx context.Context, spec executor.Spec) executor.Result
}

var _ attemptRunner = (*executor.Runner)(nil)

func newExecutorRunner(o *Options, log *slog.Logger) attemptRunner {
	eo := &executor.Options{Logger: log, Now: o.Now, HTTPClient: &http.Client{}}
	if o.Storage != nil {
		eo.Storage = &executor.StorageConfig{BlobEndpoint: o.Storage.BlobEndpoint, AccountName: o.Storage.AccountName, AccountKey: o.Storage.AccountKey}
	}
	return executor.NewRunner(eo)
}

// account is what every task process learns of the account; mu held
// (accountURL is set by the first request).
func (s *Server) account() taskrun.Account {
	return taskrun.Account{Name: s.opts.AccountName, URL: s.accountURL, BaseEnv: s.baseEnv}
}
