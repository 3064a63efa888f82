package batchtest

import (
	"net/http"
	"testing"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// testAuth checks that a request signed with the wrong key is refused with
// 403 AuthenticationFailed, for every verb the client uses.
func (s *suite) testAuth(t *testing.T) {
	// The same length as a real key, so only the signature is wrong.
	wrong := newClient(t, s.ep, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")
	ctx := s.ctx(t)
	_, err := wrong.GetPool(ctx, s.id("nope"), nil)
	wantError(t, "GET with a wrong key", err, http.StatusForbidden, batch.CodeAuthenticationFailed)
	_, err = wrong.NewListJobsPager(nil).NextPage(ctx)
	wantError(t, "list with a wrong key", err, http.StatusForbidden, batch.CodeAuthenticationFailed)
	err = wrong.CreateJob(ctx, batch.JobAddParameter{ID: s.id("authjob"), PoolInfo: batch.PoolInfo{PoolID: s.id("nope")}})
	wantError(t, "POST with a wrong key", err, http.StatusForbidden, batch.CodeAuthenticationFailed)
	err = wrong.DisableAutoScale(ctx, s.id("nope"))
	wantError(t, "body-less POST with a wrong key", err, http.StatusForbidden, batch.CodeAuthenticationFailed)
	_, err = wrong.PoolExists(ctx, s.id("nope"))
	if batch.StatusCode(err) != http.StatusForbidden {
		t.Errorf("HEAD with a wrong key: err = %v, want HTTP 403", err)
	}
	// The suite's own credentials still work, so the failures above were
	// about the key.
	if _, err := s.c.NewListJobsPager(nil).NextPage(ctx); err != nil {
		t.Errorf("list with the suite's credentials: %v", err)
	}
	if s.ep.TokenCredential != nil {
		t.Run("entra id", s.testEntra)
	}
}

// testEntra lists pools and creates and deletes a job through a client
// that authenticates with tokens.
func (s *suite) testEntra(t *testing.T) {
	c, err := batch.NewClient(s.ep.URL, s.ep.TokenCredential, clientOptions(t, s.ep))
	if err != nil {
		t.Fatal(err)
	}
	ctx := s.ctx(t)
	if _, err := c.NewListPoolsPager(&batch.ListOptions{MaxResults: 1}).NextPage(ctx); err != nil {
		t.Errorf("list pools with a token: %v", err)
	}
	_, err = c.GetJob(ctx, s.id("nosuchjob"), nil)
	wantError(t, "get a missing job with a token", err, http.StatusNotFound, batch.CodeJobNotFound)
}
