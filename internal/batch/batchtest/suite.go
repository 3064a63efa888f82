// Package batchtest is the conformance suite for Batch endpoints as seen
// through the internal/batch client. Run drives a live endpoint (the local
// emulator, or a real Batch account) through every client operation and
// checks the service's behaviour: status codes and error codes, paging,
// OData filters, Shared Key rejection, autoscale evaluation and task
// execution (retries, wall-clock limits, job completion).
//
// Run creates its own pools and jobs with a random prefix and deletes them
// when the test ends. It needs an account where it may create pools; the
// execution tests need one dedicated node. It does not check storage
// (resource and output files); that is the pipeline's end-to-end tests'
// job.
package batchtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// Endpoint is a Batch account to test. URL and AccountName are required,
// and AccountKey or TokenCredential (or both); the other fields have
// defaults that suit the emulator.
type Endpoint struct {
	URL         string
	AccountName string
	// AccountKey, when set, authenticates the suite's client with Shared
	// Key; without it the suite uses TokenCredential.
	AccountKey string

	// VMSize and Image describe the pools the suite creates. Defaults:
	// STANDARD_D2S_V3 with Canonical ubuntu-24_04-lts server.
	VMSize         string
	Image          batch.ImageReference
	NodeAgentSKUID string
	// Timeout bounds each wait for a state change (node allocation, task
	// completion). Default 60s; a real account needs minutes.
	Timeout time.Duration
	// PollInterval is the delay between polls while waiting. Default 100ms.
	PollInterval time.Duration
	// TokenCredential, when set, is used to check Microsoft Entra ID
	// authentication (NewClient) as well, and authenticates the suite's
	// client when AccountKey is empty.
	TokenCredential azcore.TokenCredential
}

func (e Endpoint) withDefaults() Endpoint {
	if e.VMSize == "" {
		e.VMSize = "STANDARD_D2S_V3"
	}
	if e.Image == (batch.ImageReference{}) {
		e.Image = batch.ImageReference{Publisher: "Canonical", Offer: "ubuntu-24_04-lts", SKU: "server", Version: "latest"}
	}
	if e.NodeAgentSKUID == "" {
		e.NodeAgentSKUID = "batch.node.ubuntu 24.04"
	}
	if e.Timeout <= 0 {
		e.Timeout = 60 * time.Second
	}
	if e.PollInterval <= 0 {
		e.PollInterval = 100 * time.Millisecond
	}
	return e
}

// suite is the state shared by one run's subtests.
type suite struct {
	ep     Endpoint
	c      *batch.Client
	prefix string // unique per run, so runs never collide
}

// Run runs the whole suite. newEndpoint is called once per Run.
func Run(t *testing.T, newEndpoint func(t *testing.T) Endpoint) {
	t.Helper()
	ep := newEndpoint(t).withDefaults()
	s := &suite{ep: ep, c: suiteClient(t, ep), prefix: "bt" + randomHex(t, 4)}
	t.Run("Auth", s.testAuth)
	t.Run("Pools", s.testPools)
	t.Run("Autoscale", s.testAutoscale)
	t.Run("Jobs", s.testJobs)
	t.Run("Tasks", s.testTasks)
	t.Run("Paging", s.testPaging)
	t.Run("Execution", s.testExecution)
}

// suiteClient is the client every test uses: Shared Key when the endpoint
// has a key, else Entra ID.
func suiteClient(t *testing.T, ep Endpoint) *batch.Client {
	t.Helper()
	if ep.AccountKey != "" {
		return newClient(t, ep, ep.AccountKey)
	}
	if ep.TokenCredential == nil {
		t.Fatal("batchtest: the endpoint has neither an AccountKey nor a TokenCredential")
	}
	c, err := batch.NewClient(ep.URL, ep.TokenCredential, clientOptions(t, ep))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

func newClient(t *testing.T, ep Endpoint, key string) *batch.Client {
	t.Helper()
	cred, err := batch.NewSharedKeyCredential(ep.AccountName, key)
	if err != nil {
		t.Fatalf("shared key credential: %v", err)
	}
	c, err := batch.NewSharedKeyClient(ep.URL, cred, clientOptions(t, ep))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

func clientOptions(t *testing.T, ep Endpoint) *batch.ClientOptions {
	t.Helper()
	u, err := url.Parse(ep.URL)
	if err != nil {
		t.Fatalf("endpoint URL: %v", err)
	}
	return &batch.ClientOptions{ClientOptions: azcore.ClientOptions{
		InsecureAllowCredentialWithHTTP: u.Scheme == "http",
		Retry:                           policy.RetryOptions{MaxRetries: 3, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: time.Second},
	}}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// id returns a unique resource id for this run.
func (s *suite) id(name string) string { return s.prefix + "-" + name }

// ctx returns a context for a test's calls that outlasts the test's waits
// (each up to the endpoint's Timeout; node allocation on a real account
// takes minutes) and ends with the test.
func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+4*s.ep.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// ctxFor returns a context for one immediate call.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// pool creates a pool with the given dedicated node count and deletes it
// when the test ends.
func (s *suite) pool(t *testing.T, name string, nodes int32, mutate func(*batch.PoolAddParameter)) string {
	t.Helper()
	p := batch.PoolAddParameter{
		ID:     s.id(name),
		VMSize: s.ep.VMSize,
		VirtualMachineConfiguration: &batch.VirtualMachineConfiguration{
			ImageReference: s.ep.Image, NodeAgentSKUID: s.ep.NodeAgentSKUID,
		},
		TargetDedicatedNodes:   to.Ptr(nodes),
		TargetLowPriorityNodes: to.Ptr[int32](0),
	}
	if mutate != nil {
		mutate(&p)
	}
	if err := s.c.CreatePool(ctxFor(t), p); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	t.Cleanup(func() {
		if err := s.c.DeletePool(context.Background(), p.ID); err != nil && !batch.HasCode(err, batch.CodePoolNotFound) &&
			!batch.HasCode(err, batch.CodePoolBeingDeleted) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return p.ID
}

// job creates a job on poolID and deletes it when the test ends.
func (s *suite) job(t *testing.T, name, poolID string, mutate func(*batch.JobAddParameter)) string {
	t.Helper()
	j := batch.JobAddParameter{ID: s.id(name), PoolInfo: batch.PoolInfo{PoolID: poolID}}
	if mutate != nil {
		mutate(&j)
	}
	if err := s.c.CreateJob(ctxFor(t), j); err != nil {
		t.Fatalf("create job: %v", err)
	}
	t.Cleanup(func() {
		if err := s.c.DeleteJob(context.Background(), j.ID); err != nil && !batch.HasCode(err, batch.CodeJobNotFound) &&
			!batch.HasCode(err, batch.CodeJobBeingDeleted) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return j.ID
}

// wantError checks that err is a response error with the status and one
// of the codes, and that its body is a Batch error with a message.
func wantError(t *testing.T, what string, err error, status int, codes ...string) {
	t.Helper()
	alts := make([]statusCode, len(codes))
	for i, c := range codes {
		alts[i] = statusCode{status, c}
	}
	wantOneOf(t, what, err, alts...)
}

// statusCode is one acceptable (HTTP status, Batch code) answer.
type statusCode struct {
	status int
	code   string
}

// wantOneOf is wantError for operations where the service may answer in
// more than one documented way (for example a resource that is being
// deleted, or already gone).
func wantOneOf(t *testing.T, what string, err error, alts ...statusCode) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got success, want one of %v", what, alts)
		return
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: got %v, want an *azcore.ResponseError", what, err)
		return
	}
	if !slices.Contains(alts, statusCode{re.StatusCode, re.ErrorCode}) {
		t.Errorf("%s: got HTTP %d %q, want one of %v", what, re.StatusCode, re.ErrorCode, alts)
		return
	}
	if re.StatusCode == 404 && re.RawResponse != nil && re.RawResponse.Request != nil && re.RawResponse.Request.Method == "HEAD" {
		return // HEAD answers carry no body
	}
	be, ok := batch.AsError(err)
	if !ok {
		t.Errorf("%s: the body is not a Batch error", what)
	} else if be.MessageText() == "" {
		t.Errorf("%s: the error has no message", what)
	}
}

// eventually polls cond until it returns true, or fails the test after the
// endpoint's timeout with the last observation.
func (s *suite) eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(s.ep.Timeout)
	last := ""
	for {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last seen: %s", what, s.ep.Timeout, last)
		}
		time.Sleep(s.ep.PollInterval)
	}
}

// listTasks collects every task of a job, following next links, and
// returns the tasks and the number of pages.
func listTasks(t *testing.T, c *batch.Client, jobID string, opts *batch.ListOptions) ([]batch.Task, int) {
	t.Helper()
	pager := c.NewListTasksPager(jobID, opts)
	var all []batch.Task
	pages := 0
	for pager.More() {
		if pages > 1000 {
			t.Fatalf("list tasks of %s: more than 1000 pages", jobID)
		}
		page, err := pager.NextPage(ctxFor(t))
		if err != nil {
			t.Fatalf("list tasks of %s (%+v): %v", jobID, opts, err)
		}
		pages++
		all = append(all, page.Value...)
	}
	return all, pages
}

func taskIDs(tasks []batch.Task) []string {
	ids := make([]string, len(tasks))
	for i, task := range tasks {
		ids[i] = task.ID
	}
	slices.Sort(ids)
	return ids
}

func describeTask(task *batch.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "state=%s", task.State)
	if ei := task.ExecutionInfo; ei != nil {
		fmt.Fprintf(&b, " result=%s retryCount=%d", ei.Result, ei.RetryCount)
		if ei.ExitCode != nil {
			fmt.Fprintf(&b, " exitCode=%d", *ei.ExitCode)
		}
		if ei.FailureInfo != nil {
			fmt.Fprintf(&b, " failure=%s/%s", ei.FailureInfo.Category, ei.FailureInfo.Code)
		}
	}
	return b.String()
}
