package batchemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// maxBodyBytes is the request body limit: the service rejects bodies of 1 MB
// or more with 413 RequestBodyTooLarge.
const maxBodyBytes = 1 << 20

// reqCtx carries per-request values to handlers.
type reqCtx struct {
	requestID  string
	apiVersion string
	now        time.Time
	base       string // scheme://host of the request, used in urls
}

// writeError answers r with e.
func (rc *reqCtx) writeError(w http.ResponseWriter, r *http.Request, e *wireerr.Error) {
	wireerr.Write(w, r, rc.base, rc.requestID, rc.now, e)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx) *wireerr.Error

// handle wraps h with the checks every Batch operation gets: request-id,
// client-request-id echo, api-version, authentication.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := &reqCtx{requestID: newRequestID(), now: s.now(), base: baseURL(r)}
		w.Header().Set("request-id", rc.requestID)
		w.Header().Set("DataServiceVersion", "3.0")
		if strings.EqualFold(r.Header.Get("return-client-request-id"), "true") {
			if id := r.Header.Get("client-request-id"); id != "" {
				w.Header().Set("client-request-id", id)
			}
		}
		s.mu.Lock()
		closed := s.closed
		if s.accountURL == "" {
			s.accountURL = rc.base
		}
		s.mu.Unlock()
		if closed {
			rc.writeError(w, r, wireerr.ServerBusy())
			return
		}
		out := w
		var dw *durableWriter
		if s.store != nil && mutating(r) {
			dw = newDurableWriter(w)
			out = dw
		}
		v, e := checkAPIVersion(r)
		if e == nil {
			e = s.auth.Check(r, rc.now)
		}
		if e == nil {
			rc.apiVersion = v
			e = h(out, r, rc)
		}
		if e != nil {
			s.log.Debug("request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code)
			rc.writeError(out, r, e)
		}
		if dw == nil {
			return
		}
		// Answer only once the state the handler left (even a rejection
		// such as TaskExists reports state a retry relies on) is durable.
		s.mu.Lock()
		gen := s.gen
		s.mu.Unlock()
		if err := s.syncTo(gen); err != nil {
			s.log.Error("request not acknowledged: state not saved", "method", r.Method, "path", r.URL.Path, "err", err)
			rc.writeError(w, r, wireerr.Internal())
			return
		}
		dw.flush()
	}
}

// baseURL is scheme://host of r, the prefix of every url the emulator returns.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// readJSON decodes the request body into v. An empty body is an error unless
// allowEmpty; it then leaves v untouched and reports false.
func readJSON(r *http.Request, v any, allowEmpty bool) (bool, *wireerr.Error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return false, wireerr.InvalidBody("the request body could not be read: " + err.Error())
	}
	if len(data) >= maxBodyBytes {
		return false, wireerr.BodyTooLarge(maxBodyBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return false, nil
		}
		return false, wireerr.InvalidBody("the request body is empty")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return false, wireerr.InvalidProperty(ute.Field, ute.Value, "the value has the wrong JSON type, expected "+ute.Type.String())
		}
		return false, wireerr.InvalidBody(err.Error())
	}
	return true, nil
}

// writeJSON writes v with the given status and the Batch content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// setEntityHeaders sets ETag, Last-Modified and, when id is set, DataServiceId.
func setEntityHeaders(w http.ResponseWriter, etag string, lastModified time.Time, dataServiceID string) {
	h := w.Header()
	if etag != "" {
		h.Set("ETag", etag)
	}
	if !lastModified.IsZero() {
		h.Set("Last-Modified", lastModified.UTC().Format(http.TimeFormat))
	}
	if dataServiceID != "" {
		h.Set("DataServiceId", dataServiceID)
	}
}

// versioned is a rendered entity that carries its own ETag and
// Last-Modified: a job, a pool or a task.
type versioned interface {
	Version() (etag string, lastModified time.Time)
}

// getEntity answers a GET (or HEAD) of one entity of the given entity set
// ("jobs", "pools", "tasks"). It checks $select against T's schema, then
// calls render with mu held to look the entity up and render a copy of it;
// the read preconditions, the entity headers and the $select-shaped body
// are worked out from that copy after mu is released. HEAD gets the
// headers only.
func getEntity[T versioned](s *Server, w http.ResponseWriter, r *http.Request, rc *reqCtx, set string, render func() (T, *wireerr.Error)) *wireerr.Error {
	var zero T
	o, e := parseQueryOptions(r, schemaOf(zero), false)
	if e != nil {
		return e
	}
	s.mu.Lock()
	out, e := render()
	s.mu.Unlock()
	if e != nil {
		return e
	}
	etag, lastModified := out.Version()
	if e := checkConditions(r, etag, lastModified, true); e != nil {
		return e
	}
	setEntityHeaders(w, etag, lastModified, "")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	body, e := shape(out, o.selectExpr, rc.base+"/$metadata#"+set+"/@Element")
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// checkConditions applies If-Match / If-None-Match / If-Modified-Since /
// If-Unmodified-Since to an entity. read says whether the operation is a
// read (a failed If-None-Match then means 304 instead of 412).
func checkConditions(r *http.Request, etag string, lastModified time.Time, read bool) *wireerr.Error {
	notMet := wireerr.ConditionNotMet(false)
	if v := r.Header.Get("If-Match"); v != "" && v != "*" && !etagIn(v, etag) {
		return notMet
	}
	if v := r.Header.Get("If-None-Match"); v != "" && (v == "*" || etagIn(v, etag)) {
		if read {
			return wireerr.ConditionNotMet(true)
		}
		return notMet
	}
	lm := lastModified.Truncate(time.Second)
	if v := r.Header.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return notMet
		}
	}
	if v := r.Header.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			if read {
				return wireerr.ConditionNotMet(true)
			}
			return notMet
		}
	}
	return nil
}

func etagIn(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if v == etag {
			return true
		}
	}
	return false
}

func parseIntStrict(s string) (int, error) {
	return strconv.Atoi(strings.TrimSpace(s))
}
