package funchost

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// invocationRequest is the body the host POSTs to /<FunctionName>
// (functions-host.md §1.2). funchost keeps its own copy of the wire types so
// a mismatch with internal/customhandler shows up as a failing test.
type invocationRequest struct {
	Data     map[string]any `json:"Data"`
	Metadata map[string]any `json:"Metadata"`
}

// invocationResponse is the handler's reply (§1.3).
type invocationResponse struct {
	Outputs     map[string]json.RawMessage `json:"Outputs"`
	Logs        []string                   `json:"Logs"`
	ReturnValue json.RawMessage            `json:"ReturnValue"`
}

// sysMetadata is SystemBindingData, present in every invocation's Metadata.
type sysMetadata struct {
	MethodName string `json:"MethodName"`
	UtcNow     string `json:"UtcNow"`
	RandGuid   string `json:"RandGuid"`
}

func newSys(name string, now time.Time) sysMetadata {
	return sysMetadata{MethodName: name, UtcNow: netUTC(now), RandGuid: uuid.NewString()}
}

// marshalJSON encodes like Newtonsoft: no HTML escaping, no trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// The helpers below reproduce GetHttpScriptInvocationContextValue
// (functions-host.md §0 item 1): what a .NET value of the binding data turns
// into inside Data and Metadata.

// hostString is a .NET string (or Uri): JObject.FromObject fails, so it is
// serialised, and the JSON text itself travels as a string: "\"abc\"".
func hostString(s string) string {
	b, _ := marshalJSON(s)
	return string(b)
}

// hostInt is an integer: serialised to its JSON text, "4".
func hostInt(n int64) string { return strconv.FormatInt(n, 10) }

// hostArray is an array: serialised to a JSON string holding the array.
func hostArray(v any) string {
	b, _ := marshalJSON(v)
	return string(b)
}

// hostDateTime is a DateTime after the host's Parse(ToString()) round trip:
// second precision and no zone.
func hostDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// hostDateTimeOffset is a DateTimeOffset after the same round trip: second
// precision, offset kept.
func hostDateTimeOffset(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// netUTC is how Newtonsoft writes a UTC DateTime inside an object or array:
// up to seven fractional digits, trailing zeros trimmed, "Z".
func netUTC(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.9999999Z07:00") }

// netOffset is how Newtonsoft writes a DateTimeOffset (or a local DateTime on
// a UTC machine) inside an object: fraction trimmed, "+00:00".
func netOffset(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.9999999-07:00") }
