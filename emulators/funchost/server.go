package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const maxRequestBody = 100 << 20 // the host's default request size limit

// routes builds the host's HTTP surface: function routes under the route
// prefix, the admin API (master key; ping is anonymous) and the Event
// Grid webhook (its system key), as keys.go describes.
func (h *Host) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/host/status", h.adminOnly(h.handleHostStatus))
	mux.HandleFunc("GET /admin/host/ping", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /admin/functions/{name}", h.adminOnly(h.handleAdminInvoke))
	webhook := h.systemKeyOnly(EventGridKeyName, h.handleEventGridWebhook)
	mux.HandleFunc("POST /runtime/webhooks/eventgrid", webhook)
	mux.HandleFunc("POST /runtime/webhooks/EventGrid", webhook)
	mux.HandleFunc("/", h.handleFunctionRoute)
	return mux
}

// adminOnly answers 401 with an empty body unless the request presents
// the master key.
func (h *Host) adminOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.keys.isAdmin(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// systemKeyOnly answers 401 with an empty body unless the request
// presents the system key name (or the master key).
func (h *Host) systemKeyOnly(name string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.keys.isSystem(r, name) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

type hostStatus struct {
	ID      string   `json:"id"`
	State   string   `json:"state"`
	Version string   `json:"version"`
	Errors  []string `json:"errors,omitempty"`
}

func (h *Host) handleHostStatus(w http.ResponseWriter, _ *http.Request) {
	st := hostStatus{ID: h.hostID, State: "Running", Version: HostVersion}
	if err := h.Err(); err != nil {
		st.State = "Error"
		st.Errors = []string{err.Error()}
	}
	writeJSON(w, http.StatusOK, st)
}

// handleAdminInvoke is POST /admin/functions/{name} with {"input": "..."}:
// the function runs in the background and the host answers 202.
func (h *Host) handleAdminInvoke(w http.ResponseWriter, r *http.Request) {
	fn := h.function(r.PathValue("name"))
	if fn == nil {
		http.Error(w, fmt.Sprintf("function %q not found", r.PathValue("name")), http.StatusNotFound)
		return
	}
	var body struct {
		Input *string `json:"input"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody)).Decode(&body); err != nil {
		http.Error(w, `the request body must be a JSON object such as {"input": ""}: `+err.Error(), http.StatusBadRequest)
		return
	}
	if fn.HTTP != nil {
		http.Error(w, fmt.Sprintf("function %q has an httpTrigger; call it on its route instead", fn.Name), http.StatusBadRequest)
		return
	}
	input := ""
	if body.Input != nil {
		input = *body.Input
	}
	if fn.EventGrid {
		if _, err := decodeEvents([]byte(input)); err != nil {
			http.Error(w, "input must be an Event Grid event: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	h.goBackground(func(ctx context.Context) {
		if err := h.runFunction(ctx, fn, input, "Manual"); err != nil {
			h.log.Error("manual invocation failed", slog.String("function", fn.Name), slog.Any("error", err))
		}
	})
	w.WriteHeader(http.StatusAccepted)
}

// handleFunctionRoute serves httpTrigger functions under /<routePrefix>/.
func (h *Host) handleFunctionRoute(w http.ResponseWriter, r *http.Request) {
	path := unescapedPath(r.URL)
	if h.cfg.RoutePrefix != "" {
		prefix := "/" + h.cfg.RoutePrefix
		if !strings.EqualFold(path, prefix) && !hasPrefixFold(path, prefix+"/") {
			http.NotFound(w, r)
			return
		}
		path = path[len(prefix):]
	}
	fn, params := h.matchRoute(path, r.Method)
	if fn == nil {
		http.NotFound(w, r)
		return
	}
	g := h.keys.authorize(r, fn.Name)
	if !g.allows(fn.HTTP.authLevel) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.httpSem != nil {
		select {
		case h.httpSem <- struct{}{}:
			defer func() { <-h.httpSem }()
		case <-r.Context().Done():
			return
		}
	}
	if h.cfg.Handler.EnableForwarding && fn.httpInAndOut() {
		h.forwardHTTP(w, r, fn)
		return
	}
	h.invokeHTTP(w, r, fn, params, g)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// matchRoute finds the enabled HTTP function for path and method; routes
// with more literal segments win.
func (h *Host) matchRoute(path, method string) (*function, map[string]string) {
	var best *function
	var bestParams map[string]string
	for _, fn := range h.fns {
		if fn.HTTP == nil || fn.Disabled || !fn.HTTP.allows(method) {
			continue
		}
		params, ok := fn.HTTP.route.match(path)
		if !ok {
			continue
		}
		if best == nil || fn.HTTP.route.literals() > best.HTTP.route.literals() {
			best, bestParams = fn, params
		}
	}
	return best, bestParams
}

// httpRequestData builds Data.<req> and the Metadata of an HTTP invocation
// (GetRequestAsJObject and the HTTP trigger's binding data).
func httpRequestData(r *http.Request, body []byte, params map[string]string, fnName string, g grant, now time.Time) (map[string]any, map[string]any) {
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	headers := map[string][]string{}
	flat := map[string]string{}
	for k, vs := range r.Header {
		headers[k] = vs
		flat[k] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["Host"] = []string{r.Host}
		flat["Host"] = r.Host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := scheme + "://" + r.Host + r.URL.RequestURI()
	req := map[string]any{
		"Url":        u,
		"Method":     r.Method,
		"Query":      query,
		"Headers":    headers,
		"Params":     params,
		"Identities": g.identities(),
	}
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/octet-stream" || strings.HasPrefix(mt, "multipart/") {
			req["Body"] = body // []byte: base64 in JSON, as Newtonsoft writes byte[]
		} else {
			req["Body"] = string(body)
		}
	}
	md := map[string]any{
		"Query":   query,
		"Headers": flat,
		"Params":  params,
	}
	for k, v := range params {
		md[k] = hostString(v)
	}
	md["sys"] = newSys(fnName, now)
	return req, md
}

func (h *Host) invokeHTTP(w http.ResponseWriter, r *http.Request, fn *function, params map[string]string, g grant) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxRequestBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	reqData, md := httpRequestData(r, body, params, fn.Name, g, h.now())
	inv := newInvocation(fn, "This function was programmatically called via the host APIs.")
	resp, err := h.invoker.invoke(r.Context(), inv, &invocationRequest{
		Data:     map[string]any{fn.Trigger.Name: reqData},
		Metadata: md,
	})
	if err != nil {
		w.Header().Set("X-Azure-Functions-InvocationId", inv.ID)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var raw json.RawMessage
	if fn.HTTPOut != nil {
		if fn.HTTPOut.Name == "$return" {
			raw = resp.ReturnValue
		} else {
			raw = resp.Outputs[fn.HTTPOut.Name]
		}
	}
	if err := writeHTTPOutput(w, raw); err != nil {
		h.log.Error("http output binding", slog.String("function", fn.Name), slog.String("invocationId", inv.ID), slog.Any("error", err))
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// writeHTTPOutput turns an http output value ({statusCode|status, body,
// headers}, case-insensitive) into the HTTP response. A missing value gives
// 204 No Content.
func writeHTTPOutput(w http.ResponseWriter, raw json.RawMessage) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		var s string
		if json.Unmarshal(trimmed, &s) == nil && json.Unmarshal([]byte(s), &obj) == nil {
			// a JSON string holding the response object
		} else {
			w.WriteHeader(http.StatusOK)
			_, err := w.Write(stringOrJSON(trimmed))
			return err
		}
	}
	fields := map[string]json.RawMessage{}
	for k, v := range obj {
		fields[strings.ToLower(k)] = v
	}
	status := http.StatusOK
	for _, k := range []string{"statuscode", "status"} {
		if v, ok := fields[k]; ok {
			n, err := statusCode(v)
			if err != nil {
				return err
			}
			status = n
			break
		}
	}
	if hv, ok := fields["headers"]; ok {
		var hdr map[string]any
		if err := json.Unmarshal(hv, &hdr); err != nil {
			return fmt.Errorf("headers must be an object: %w", err)
		}
		keys := make([]string, 0, len(hdr))
		for k := range hdr {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.Header().Set(k, fmt.Sprint(hdr[k]))
		}
	}
	var body []byte
	if bv, ok := fields["body"]; ok {
		body = stringOrJSON(bytes.TrimSpace(bv))
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func stringOrJSON(v []byte) []byte {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []byte(s)
	}
	if string(v) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) == nil {
		return buf.Bytes()
	}
	return v
}

func statusCode(v json.RawMessage) (int, error) {
	var n int
	if json.Unmarshal(v, &n) == nil {
		if n < 100 || n > 599 {
			return 0, fmt.Errorf("status code %d out of range", n)
		}
		return n, nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 599 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("status code %s is not a number", string(v))
}

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forwardHTTP sends the original request to the handler with its original
// method and path (enableForwardingHttpRequest) and relays the response.
func (h *Host) forwardHTTP(w http.ResponseWriter, r *http.Request, fn *function) {
	inv := newInvocation(fn, "This function was programmatically called via the host APIs.")
	wrote := false
	err := h.invoker.call(r.Context(), inv, func(ctx context.Context, base string) error {
		out, err := http.NewRequestWithContext(ctx, r.Method, base+r.URL.RequestURI(), r.Body)
		if err != nil {
			return err
		}
		out.Header = r.Header.Clone()
		for _, k := range hopHeaders {
			out.Header.Del(k)
		}
		out.ContentLength = r.ContentLength
		out.Host = r.Host
		setHostHeaders(out.Header, inv.ID)
		resp, err := h.invoker.client.Do(out)
		if err != nil {
			return fmt.Errorf("forward request to custom handler: %w", err)
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		for _, k := range hopHeaders {
			w.Header().Del(k)
		}
		w.WriteHeader(resp.StatusCode)
		wrote = true
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("relay custom handler response: %w", err)
		}
		return nil
	})
	if err != nil && !wrote {
		w.WriteHeader(http.StatusInternalServerError)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := marshalJSON(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

// errBadEvents is wrapped by decodeEvents for malformed webhook bodies.
var errBadEvents = errors.New("malformed Event Grid events")

// decodeEvents reads one event object or an array of them.
func decodeEvents(raw []byte) ([]map[string]any, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", errBadEvents)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if trimmed[0] == '[' {
		var evs []map[string]any
		if err := dec.Decode(&evs); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadEvents, err)
		}
		if len(evs) == 0 {
			return nil, fmt.Errorf("%w: empty array", errBadEvents)
		}
		return evs, nil
	}
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadEvents, err)
	}
	return []map[string]any{ev}, nil
}

// handleEventGridWebhook is the Event Grid extension's endpoint
// (POST /runtime/webhooks/eventgrid?functionName=<fn>), following its
// HttpRequestProcessor: the aeg-event-type header selects the validation
// handshake, notifications (events invoked in parallel; 202, or 500 with the
// first failure) or Unsubscribe (202); anything else is 400.
func (h *Host) handleEventGridWebhook(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("functionName")
	fn := h.function(strings.TrimPrefix(name, "Host.Functions."))
	if fn == nil || !fn.EventGrid || fn.Disabled {
		http.Error(w, fmt.Sprintf("cannot find function: '%s'", name), http.StatusNotFound)
		return
	}
	typ := r.Header.Get("aeg-event-type")
	switch strings.ToLower(typ) {
	case "subscriptionvalidation", "notification":
	case "unsubscribe":
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		http.Error(w, fmt.Sprintf("aeg-event-type %q must be SubscriptionValidation, Notification or Unsubscribe", typ), http.StatusBadRequest)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	events, err := decodeEvents(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.EqualFold(typ, "subscriptionvalidation") {
		data, _ := events[0]["data"].(map[string]any)
		writeJSON(w, http.StatusOK, map[string]any{"validationResponse": data["validationCode"]})
		return
	}
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for i, ev := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.deliverEvent(r.Context(), fn, ev, "EventGrid")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// deliverEvent invokes an eventGridTrigger function with one event: the
// event object in Data and its "data" in Metadata.
func (h *Host) deliverEvent(ctx context.Context, fn *function, ev map[string]any, reason string) error {
	md := map[string]any{"sys": newSys(fn.Name, h.now())}
	if d, ok := ev["data"]; ok && d != nil {
		md["data"] = d
	}
	_, err := h.invoker.invoke(ctx, newInvocation(fn, reason), &invocationRequest{
		Data:     map[string]any{fn.Trigger.Name: ev},
		Metadata: md,
	})
	return err
}
