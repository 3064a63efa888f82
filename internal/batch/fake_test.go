package batch

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const (
	fakeAccount = "devaccount"
	// fakeKey is base64("secretkey0123456789"), the key of the captures.
	fakeKey = "c2VjcmV0a2V5MDEyMzQ1Njc4OQ=="
)

// recordedRequest is what the fake saw on the wire.
type recordedRequest struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Query         string `json:"query,omitempty"`
	ContentType   string `json:"contentType,omitempty"`
	ContentLength string `json:"contentLength,omitempty"`
	Body          string `json:"body,omitempty"`
}

// addHook lets a test decide the outcome of one addtaskcollection call.
// It returns the HTTP status and, for 200, a result per task; a task left
// out of the map succeeds, and a result with an empty status is left out
// of the response.
type addHook func(ids []string, bodyLen int) (int, map[string]TaskAddResult)

// fakeBatch is a small in-memory Batch service for the client tests that
// need what the Batch emulator (emulators/batchemu, which emulator_test.go
// runs for the tests of ordinary answers) cannot be made to produce:
//   - addtasks_test.go decides the outcome of each addtaskcollection call
//     (onAdd: 413 RequestBodyTooLarge, 5xx, a partial result, a result left
//     out, one task refused) and holds calls in flight (holdFor) to count
//     the client's concurrency;
//   - golden_test.go and TestReadModelsDecode pin the exact request bytes
//     (recorded) and need fixed response times, and every step answered
//     (a second terminate of a job, a patch of a job without pool);
//   - list_test.go switches whether next links carry the api-version
//     (nextLinkAPIVersion), which the emulator always writes one way;
//   - TestEmptyIDsRejected checks that no request reached the service at
//     all (recorded), which the emulator cannot report;
//   - BenchmarkAddTasks10000 measures the client's own cost against a
//     server that does next to nothing, which the emulator (validation,
//     state, journal, scheduler) is not.
//
// TestListOptionsErrors and TestNextLinkRequest send no request; the fake
// only gives their client an endpoint.
//
// It checks only that a Shared Key header is present: signatures are
// verified by the emulator in TestSharedKeyOnTheWire and the conformance
// suite.
type fakeBatch struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex // guards everything below
	pools     map[string]json.RawMessage
	jobs      map[string]json.RawMessage
	tasks     map[string][]json.RawMessage // job id → tasks in add order
	requests  []recordedRequest
	onAdd     addHook
	inflight  int // concurrent addtaskcollection calls now
	maxFlight int // highest inflight seen
	addDelay  time.Duration
	// holdFor makes each addtaskcollection call wait (up to 5s) until this
	// many calls are in flight at once, so concurrency tests do not depend
	// on timing.
	holdFor int
	// nextLinkAPIVersion makes next links carry the api-version.
	nextLinkAPIVersion bool
}

func newFakeBatch(t testing.TB) *fakeBatch {
	t.Helper()
	f := &fakeBatch{t: t, pools: map[string]json.RawMessage{}, jobs: map[string]json.RawMessage{}, tasks: map[string][]json.RawMessage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pools", f.createPool)
	mux.HandleFunc("GET /pools/{pool}", f.getPool)
	mux.HandleFunc("HEAD /pools/{pool}", f.getPool)
	mux.HandleFunc("DELETE /pools/{pool}", f.status(http.StatusAccepted))
	mux.HandleFunc("POST /pools/{pool}/resize", f.status(http.StatusAccepted))
	mux.HandleFunc("POST /pools/{pool}/enableautoscale", f.status(http.StatusOK))
	mux.HandleFunc("POST /pools/{pool}/disableautoscale", f.status(http.StatusOK))
	mux.HandleFunc("POST /pools/{pool}/evaluateautoscale", f.evaluate)
	mux.HandleFunc("POST /jobs", f.createJob)
	mux.HandleFunc("GET /jobs/{job}", f.getJob)
	mux.HandleFunc("PATCH /jobs/{job}", f.status(http.StatusOK))
	mux.HandleFunc("DELETE /jobs/{job}", f.status(http.StatusAccepted))
	mux.HandleFunc("POST /jobs/{job}/terminate", f.status(http.StatusAccepted))
	mux.HandleFunc("POST /jobs/{job}/addtaskcollection", f.addCollection)
	mux.HandleFunc("GET /jobs/{job}/tasks", f.listTasks)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		f.mu.Lock()
		f.requests = append(f.requests, recordedRequest{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), ContentLength: r.Header.Get("Content-Length"), Body: string(body),
		})
		f.mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "SharedKey "+fakeAccount+":") {
			writeFakeError(w, http.StatusForbidden, CodeAuthenticationFailed, "Server failed to authenticate the request.")
			return
		}
		if r.URL.Query().Get("api-version") == "" {
			writeFakeError(w, http.StatusBadRequest, "MissingRequiredQueryParameter", "api-version is missing")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a shared-key client for the fake with fast retries.
func (f *fakeBatch) client(t testing.TB, key string) *Client {
	t.Helper()
	return testClient(t, f.srv.URL, fakeAccount, key)
}

// testClient returns a shared-key client of account at url with fast
// retries, for the fake and the emulator alike.
func testClient(t testing.TB, url, account, key string) *Client {
	t.Helper()
	cred, err := NewSharedKeyCredential(account, key)
	if err != nil {
		t.Fatalf("NewSharedKeyCredential: %v", err)
	}
	c, err := NewSharedKeyClient(url, cred, &ClientOptions{ClientOptions: azcore.ClientOptions{
		InsecureAllowCredentialWithHTTP: true,
		Retry:                           policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond},
	}})
	if err != nil {
		t.Fatalf("NewSharedKeyClient: %v", err)
	}
	return c
}

func (f *fakeBatch) recorded() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

func writeFakeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Error{Code: code, Message: &ErrorMessage{Lang: "en-US", Value: msg + "\nRequestId:fake"},
		Values: []ErrorDetail{{Key: "Reason", Value: "fake"}}})
}

func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeBatch) status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

func idOf(body []byte) (string, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", err
	}
	return v.ID, nil
}

func (f *fakeBatch) createPool(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, err := idOf(body)
	if err != nil || id == "" {
		writeFakeError(w, http.StatusBadRequest, CodeInvalidRequestBody, "bad pool body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[strings.ToLower(id)]; ok {
		writeFakeError(w, http.StatusConflict, CodePoolExists, "The specified pool already exists.")
		return
	}
	f.pools[strings.ToLower(id)] = body
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeBatch) getPool(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p, ok := f.pools[strings.ToLower(r.PathValue("pool"))]
	f.mu.Unlock()
	if !ok {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeFakeError(w, http.StatusNotFound, CodePoolNotFound, "The specified pool does not exist.")
		return
	}
	var v map[string]any
	_ = json.Unmarshal(p, &v)
	v["state"] = "active"
	v["allocationState"] = "steady"
	v["creationTime"] = "2026-11-27T10:48:55.1234567Z"
	v["currentDedicatedNodes"] = 0
	writeFakeJSON(w, http.StatusOK, v)
}

func (f *fakeBatch) evaluate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AutoScaleFormula string `json:"autoScaleFormula"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	writeFakeJSON(w, http.StatusOK, map[string]any{"timestamp": "2026-11-27T10:48:55.5246331Z",
		"results": strings.TrimSuffix(body.AutoScaleFormula, ";") + ";$NodeDeallocationOption=requeue"})
}

func (f *fakeBatch) createJob(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, _ := idOf(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.jobs[strings.ToLower(id)]; ok {
		writeFakeError(w, http.StatusConflict, CodeJobExists, "The specified job already exists.")
		return
	}
	f.jobs[strings.ToLower(id)] = body
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeBatch) getJob(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	j, ok := f.jobs[strings.ToLower(r.PathValue("job"))]
	f.mu.Unlock()
	if !ok {
		writeFakeError(w, http.StatusNotFound, CodeJobNotFound, "The specified job does not exist.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(j)
}

func (f *fakeBatch) addCollection(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeFakeError(w, http.StatusBadRequest, CodeInvalidRequestBody, err.Error())
		return
	}
	if len(req.Value) > MaxTasksPerCollection {
		writeFakeError(w, http.StatusBadRequest, "InvalidPropertyValue", "too many tasks")
		return
	}
	if len(body) >= MaxCollectionBodyBytes {
		writeFakeError(w, http.StatusRequestEntityTooLarge, CodeRequestBodyTooLarge, "The request body is too large.")
		return
	}
	job := strings.ToLower(r.PathValue("job"))
	ids := make([]string, len(req.Value))
	for i, raw := range req.Value {
		ids[i], _ = idOf(raw)
	}
	f.mu.Lock()
	_, jobOK := f.jobs[job]
	hook, delay, hold := f.onAdd, f.addDelay, f.holdFor
	f.inflight++
	f.maxFlight = max(f.maxFlight, f.inflight)
	f.mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); hold > 0 && time.Now().Before(deadline); {
		f.mu.Lock()
		reached := f.maxFlight >= hold
		f.mu.Unlock()
		if reached {
			break
		}
		time.Sleep(time.Millisecond)
	}
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if !jobOK {
		writeFakeError(w, http.StatusNotFound, CodeJobNotFound, "The specified job does not exist.")
		return
	}
	time.Sleep(delay)
	status, custom := http.StatusOK, map[string]TaskAddResult(nil)
	if hook != nil {
		status, custom = hook(ids, len(body))
	}
	switch status {
	case http.StatusOK:
	case http.StatusRequestEntityTooLarge:
		writeFakeError(w, status, CodeRequestBodyTooLarge, "The request body is too large.")
		return
	default:
		writeFakeError(w, status, CodeInternalError, "injected failure")
		return
	}
	var out TaskAddCollectionResult
	f.mu.Lock()
	existing := map[string]bool{}
	for _, raw := range f.tasks[job] {
		id, _ := idOf(raw)
		existing[strings.ToLower(id)] = true
	}
	for i, id := range ids {
		res, ok := custom[id]
		switch {
		case ok && res.Status == "":
			continue // the hook asked for no result for this task
		case ok:
		case existing[strings.ToLower(id)]:
			res = TaskAddResult{Status: TaskAddStatusClientError, Error: &Error{Code: CodeTaskExists, Message: &ErrorMessage{Value: "The specified task already exists."}}}
		default:
			res = TaskAddResult{Status: TaskAddStatusSuccess}
		}
		res.TaskID = id
		if res.Status == TaskAddStatusSuccess {
			f.tasks[job] = append(f.tasks[job], req.Value[i])
			existing[strings.ToLower(id)] = true
		}
		out.Value = append(out.Value, res)
	}
	f.mu.Unlock()
	// Results may come back in any order; reverse them to prove the
	// client matches by id.
	for i, j := 0, len(out.Value)-1; i < j; i, j = i+1, j-1 {
		out.Value[i], out.Value[j] = out.Value[j], out.Value[i]
	}
	writeFakeJSON(w, http.StatusOK, out)
}

func (f *fakeBatch) taskIDs(job string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, raw := range f.tasks[strings.ToLower(job)] {
		id, _ := idOf(raw)
		ids = append(ids, id)
	}
	return ids
}

func (f *fakeBatch) listTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 1000
	if m := q.Get("maxresults"); m != "" {
		size, _ = strconv.Atoi(m)
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	f.mu.Lock()
	all := f.tasks[strings.ToLower(r.PathValue("job"))]
	withVersion := f.nextLinkAPIVersion
	f.mu.Unlock()
	end := min(skip+size, len(all))
	page := map[string]any{"value": all[skip:end]}
	if end < len(all) {
		next := url.Values{"$skiptoken": {strconv.Itoa(end)}, "maxresults": {strconv.Itoa(size)}}
		if withVersion {
			next.Set("api-version", q.Get("api-version"))
		}
		page["odata.nextLink"] = fmt.Sprintf("%s%s?%s", f.srv.URL, r.URL.Path, next.Encode())
	}
	writeFakeJSON(w, http.StatusOK, page)
}
