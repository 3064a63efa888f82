package customhandler

import (
	"encoding/json"
	"fmt"
	"time"
)

// InvokeRequest is the body the host POSTs to /{FunctionName}: input
// values keyed by binding name, and binding metadata. Values are kept raw
// because the host's encoding varies; read them with the typed accessors or
// the package-level decoders.
type InvokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// SysMetadata is Metadata.sys, which the host always sends.
type SysMetadata struct {
	MethodName string    `json:"MethodName"`
	UtcNow     time.Time `json:"-"`
	RandGuid   string    `json:"RandGuid"`
}

// Input returns Data[name], or an error wrapping ErrMissing.
func (r *InvokeRequest) Input(name string) (json.RawMessage, error) {
	v, ok := r.Data[name]
	if !ok || isNull(v) {
		return nil, fmt.Errorf("input %q: %w", name, ErrMissing)
	}
	return v, nil
}

// Meta returns Metadata[key], or an error wrapping ErrMissing.
func (r *InvokeRequest) Meta(key string) (json.RawMessage, error) {
	v, ok := r.Metadata[key]
	if !ok || isNull(v) {
		return nil, fmt.Errorf("metadata %q: %w", key, ErrMissing)
	}
	return v, nil
}

// MetaString returns the text of a scalar metadata value, "" if absent.
func (r *InvokeRequest) MetaString(key string) string {
	v, err := r.Meta(key)
	if err != nil {
		return ""
	}
	s, err := String(v)
	if err != nil {
		return ""
	}
	return s
}

// Sys decodes Metadata.sys. It is best effort: a missing or malformed sys
// yields the zero value.
func (r *InvokeRequest) Sys() SysMetadata {
	var raw struct {
		MethodName json.RawMessage `json:"MethodName"`
		UtcNow     json.RawMessage `json:"UtcNow"`
		RandGuid   json.RawMessage `json:"RandGuid"`
	}
	var s SysMetadata
	if Decode(r.Metadata["sys"], &raw) != nil {
		return s
	}
	s.MethodName, _ = String(raw.MethodName)
	s.RandGuid, _ = String(raw.RandGuid)
	s.UtcNow, _ = Time(raw.UtcNow)
	return s
}

// InvokeResponse is the body the handler returns: output binding values by
// name, log lines the host writes to the invocation's log (only on a 2xx
// reply), and the value for a $return binding.
type InvokeResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// Log appends a line to Logs. Never pass secrets, keys or SAS URLs.
func (r *InvokeResponse) Log(msg string) { r.Logs = append(r.Logs, msg) }

// Logf appends a formatted line to Logs. Never pass secrets, keys or SAS URLs.
func (r *InvokeResponse) Logf(format string, args ...any) {
	r.Logs = append(r.Logs, fmt.Sprintf(format, args...))
}

// ErrBase64Output is returned by SetOutput for a string the host would
// silently decode as base64 before handing it to the output binding.
var ErrBase64Output = fmt.Errorf("string output would be decoded as base64 by the host; send an object or binary data instead")

// SetOutput sets an output binding value. Strings that look like base64
// are refused (the host would deliver the decoded bytes instead); objects,
// numbers and []byte (sent as base64 on purpose) are accepted.
func (r *InvokeResponse) SetOutput(name string, v any) error {
	if s, ok := v.(string); ok && LooksLikeBase64(s) {
		return fmt.Errorf("set output %q: %w", name, ErrBase64Output)
	}
	if r.Outputs == nil {
		r.Outputs = map[string]any{}
	}
	r.Outputs[name] = v
	return nil
}

// HTTPResponse is the value of an output binding of type "http" when
// forwarding is off; the host reads statusCode, body and headers
// case-insensitively.
type HTTPResponse struct {
	StatusCode int               `json:"statusCode"`
	Body       string            `json:"body"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// SetHTTPResponse sets the http output binding name to r as it is (a
// page, a script: any text body with its own headers).
func (r *InvokeResponse) SetHTTPResponse(name string, resp HTTPResponse) {
	if r.Outputs == nil {
		r.Outputs = map[string]any{}
	}
	r.Outputs[name] = resp
}

// SetHTTP sets the http output binding name to a response with status and
// a JSON body (the body is marshalled; Content-Type is application/json).
func (r *InvokeResponse) SetHTTP(name string, status int, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("set http output %q: %w", name, err)
	}
	if r.Outputs == nil {
		r.Outputs = map[string]any{}
	}
	r.Outputs[name] = HTTPResponse{
		StatusCode: status,
		Body:       string(b),
		Headers:    map[string]string{"Content-Type": "application/json"},
	}
	return nil
}
