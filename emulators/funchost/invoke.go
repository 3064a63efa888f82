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
	"strings"
	"time"

	"github.com/google/uuid"
)

// HostVersion is what funchost reports in X-Azure-Functions-HostVersion and
// User-Agent: the real host release whose protocol it follows, marked local.
const HostVersion = "4.1037.0-funchost"

// ErrFunctionTimeout is wrapped by invocations that exceeded functionTimeout.
var ErrFunctionTimeout = errors.New("function timeout")

// maxResponseBody bounds what funchost reads from the handler.
const maxResponseBody = 64 << 20

// InvocationEvent reports the start (Done false) or the end (Done true) of
// one function invocation to Options.OnInvocation.
type InvocationEvent struct {
	Function string
	// ID is the X-Azure-Functions-InvocationId sent to the handler.
	ID     string
	Reason string
	Done   bool
	// Duration and Err are set when Done.
	Duration time.Duration
	Err      error
}

// invoker sends invocations to the handler over HTTP.
type invoker struct {
	worker  *worker
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration // functionTimeout; zero means unbounded
	observe func(InvocationEvent)
}

func (iv *invoker) notify(ev InvocationEvent) {
	if iv.observe != nil {
		iv.observe(ev)
	}
}

func newInvoker(w *worker, log *slog.Logger, now func() time.Time, timeout time.Duration) *invoker {
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
		// Never follow redirects: the host hands the handler's response on.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if timeout > 0 {
		client.Timeout = timeout + time.Minute // functions-host.md §1.5
	}
	return &invoker{worker: w, client: client, log: log, now: now, timeout: timeout}
}

// invocation is one call into the handler.
type invocation struct {
	ID       string
	Function *function
	Reason   string
}

func newInvocation(fn *function, reason string) *invocation {
	return &invocation{ID: uuid.NewString(), Function: fn, Reason: reason}
}

// call runs do against the ready handler with functionTimeout applied. On a
// timeout the handler is killed and restarted, as the real host does.
func (iv *invoker) call(ctx context.Context, inv *invocation, do func(ctx context.Context, base string) error) error {
	log := iv.log.With(slog.String("function", inv.Function.Name), slog.String("invocationId", inv.ID))
	log.Info(fmt.Sprintf("Executing 'Functions.%s' (Reason='%s', Id=%s)", inv.Function.Name, inv.Reason, inv.ID))
	start := iv.now()
	iv.notify(InvocationEvent{Function: inv.Function.Name, ID: inv.ID, Reason: inv.Reason})
	callCtx := ctx
	if iv.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, iv.timeout)
		defer cancel()
	}
	base, gen, err := iv.worker.endpoint(callCtx)
	if err == nil {
		err = do(callCtx, base)
	}
	if err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		log.Error(fmt.Sprintf("A function timeout has occurred. Restarting worker process executing invocationId '%s'.", inv.ID), slog.Duration("functionTimeout", iv.timeout))
		if gen != 0 {
			iv.worker.restart(gen)
		}
		err = fmt.Errorf("%w: invocation %s of %s exceeded %s", ErrFunctionTimeout, inv.ID, inv.Function.Name, iv.timeout)
	}
	elapsed := iv.now().Sub(start)
	iv.notify(InvocationEvent{Function: inv.Function.Name, ID: inv.ID, Reason: inv.Reason, Done: true, Duration: elapsed, Err: err})
	if err != nil {
		log.Error(fmt.Sprintf("Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)", inv.Function.Name, inv.ID, elapsed.Milliseconds()), slog.Any("error", err))
		return fmt.Errorf("invoke %s: %w", inv.Function.Name, err)
	}
	log.Info(fmt.Sprintf("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", inv.Function.Name, inv.ID, elapsed.Milliseconds()))
	return nil
}

// invoke POSTs the envelope to /<FunctionName> and returns the decoded
// response. Non-2xx and non-JSON replies fail the invocation; Logs are echoed
// only on success (functions-host.md §0 item 3).
func (iv *invoker) invoke(ctx context.Context, inv *invocation, req *invocationRequest) (*invocationResponse, error) {
	body, err := marshalJSON(req)
	if err != nil {
		return nil, fmt.Errorf("encode invocation of %s: %w", inv.Function.Name, err)
	}
	var out *invocationResponse
	err = iv.call(ctx, inv, func(ctx context.Context, base string) error {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/"+inv.Function.Name, bytes.NewReader(body))
		if err != nil {
			return err
		}
		hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
		setHostHeaders(hreq.Header, inv.ID)
		resp, err := iv.client.Do(hreq)
		if err != nil {
			return fmt.Errorf("post to custom handler: %w", err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		if err != nil {
			return fmt.Errorf("read custom handler response: %w", err)
		}
		out, err = decodeResponse(resp, raw)
		if err != nil {
			return err
		}
		log := iv.log.With(slog.String("function", inv.Function.Name), slog.String("invocationId", inv.ID), slog.String("category", "Function."+inv.Function.Name+".User"))
		for _, l := range out.Logs {
			log.Info(l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func setHostHeaders(h http.Header, invocationID string) {
	h.Set("X-Azure-Functions-InvocationId", invocationID)
	h.Set("X-Azure-Functions-HostVersion", HostVersion)
	h.Set("User-Agent", "Azure-Functions-Host/"+HostVersion)
}

// decodeResponse applies the host's rules to the handler's reply.
func decodeResponse(resp *http.Response, raw []byte) (*invocationResponse, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("response status code does not indicate success: %d (%s)", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !(mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")) {
		return nil, fmt.Errorf("invalid HttpResponseMessage: content type %q is not JSON (set Content-Type: application/json); body: %s", ct, excerpt(raw))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("invalid HttpResponseMessage: empty body")
	}
	var out invocationResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("invalid HttpResponseMessage: %w; body: %s", err, excerpt(raw))
	}
	return &out, nil
}

func excerpt(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
