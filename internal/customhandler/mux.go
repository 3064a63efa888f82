package customhandler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Handler runs one function invocation. A returned error fails the
// invocation: the Mux answers 500, which makes the host retry or abandon the
// trigger (a Service Bus batch is redelivered). Return a response with
// Logs, not an error, for outcomes that should complete the trigger.
type Handler interface {
	Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	return f(ctx, req)
}

// DefaultMaxRequestBytes bounds an invocation body (a Service Bus batch of
// up to 1,000 messages of up to 256 KiB each, doubly encoded, fits).
const DefaultMaxRequestBytes = 512 << 20

// MuxOptions configure a Mux. A nil *MuxOptions means defaults.
type MuxOptions struct {
	// MaxRequestBytes bounds the request body; default DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// Now is the clock used for invocation durations; default time.Now.
	Now func() time.Time
}

// Mux routes the host's invocations to functions by name: POST
// /{FunctionName} for each registered function, and GET / for the host's
// readiness and ping probes. It is safe for concurrent use once all
// functions are registered (register before serving).
type Mux struct {
	mux      *http.ServeMux
	log      *slog.Logger
	maxBytes int64
	now      func() time.Time
}

// NewMux returns an empty Mux that logs invocations to log.
func NewMux(log *slog.Logger, opts *MuxOptions) *Mux {
	m := &Mux{mux: http.NewServeMux(), log: log, maxBytes: DefaultMaxRequestBytes, now: time.Now}
	if opts != nil {
		if opts.MaxRequestBytes > 0 {
			m.maxBytes = opts.MaxRequestBytes
		}
		if opts.Now != nil {
			m.now = opts.Now
		}
	}
	m.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ready"}`)
	})
	return m
}

// Handle registers h for the function named function (the folder name of
// its function.json). It panics on an empty or path-like name, or a name
// registered twice, as http.ServeMux does.
func (m *Mux) Handle(function string, h Handler) {
	if function == "" || strings.ContainsAny(function, "/{} ") {
		panic(fmt.Sprintf("customhandler: invalid function name %q", function))
	}
	m.mux.Handle("POST /"+function, m.invoke(function, h))
}

// ServeHTTP implements http.Handler.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

type invocationIDKey struct{}

// InvocationID returns the host's invocation id for ctx (from the
// X-Azure-Functions-InvocationId header), or "".
func InvocationID(ctx context.Context) string {
	s, _ := ctx.Value(invocationIDKey{}).(string)
	return s
}

func (m *Mux) invoke(function string, h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.now()
		id := r.Header.Get("X-Azure-Functions-InvocationId")
		log := m.log.With("function", function, "invocation_id", id)
		ctx := context.WithValue(r.Context(), invocationIDKey{}, id)

		var req InvokeRequest
		body := http.MaxBytesReader(w, r.Body, m.maxBytes)
		if err := json.NewDecoder(body).Decode(&req); err != nil {
			log.Error("invocation body rejected", "err", err)
			writeJSON(w, http.StatusBadRequest, &InvokeResponse{Logs: []string{"invalid invocation body: " + err.Error()}})
			return
		}
		resp, err := callHandler(ctx, h, &req)
		elapsed := m.now().Sub(start)
		if err != nil {
			// The host ignores Logs on a non-2xx reply; they still help a
			// local stand-in and anyone reading the handler's own log.
			log.Error("invocation failed", "err", err, "duration_ms", elapsed.Milliseconds())
			writeJSON(w, http.StatusInternalServerError, &InvokeResponse{Logs: []string{"invocation failed: " + err.Error()}})
			return
		}
		if resp == nil {
			resp = &InvokeResponse{}
		}
		log.Info("invocation done", "duration_ms", elapsed.Milliseconds(), "logs", len(resp.Logs))
		writeJSON(w, http.StatusOK, resp)
	})
}

// callHandler runs h and turns a panic into an error so one bad invocation
// does not take down the single handler process (and every in-flight
// invocation with it).
func callHandler(ctx context.Context, h Handler, req *InvokeRequest) (resp *InvokeResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v", p)
		}
	}()
	return h.Invoke(ctx, req)
}

// writeJSON writes v with the explicit Content-Type the host requires.
func writeJSON(w http.ResponseWriter, status int, v *InvokeResponse) {
	if v.Outputs == nil {
		v.Outputs = map[string]any{}
	}
	if v.Logs == nil {
		v.Logs = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(&InvokeResponse{Outputs: map[string]any{}, Logs: []string{"marshal response: " + err.Error()}})
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
