package customhandler

import (
	"encoding/json"
	"testing"
)

// FuzzDecoders checks that no host payload can make the decoders panic and
// that Unwrap always returns valid JSON for valid input.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\"abc\""`, `"[\"a\",1]"`, `{"a":"{\"b\":1}"}`, `"\"\\\"x\\\"\""`, `4`, `null`, `"eyJhIjoxfQ=="`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := json.RawMessage(s)
		_, _ = String(raw)
		_, _ = Int64(raw)
		_, _ = Time(raw)
		_, _ = Array(raw)
		_, _ = Bytes(raw)
		_, _ = Body(raw)
		var v any
		_ = Decode(raw, &v)
		if json.Valid(raw) && !json.Valid(Unwrap(raw)) {
			t.Errorf("Unwrap(%q) = %q is not valid JSON", s, Unwrap(raw))
		}
		req := &InvokeRequest{Data: map[string]json.RawMessage{"x": raw}, Metadata: map[string]json.RawMessage{"MessageIdArray": raw}}
		_, _ = req.ServiceBusBatch("x", BodyString)
		_, _ = req.EventGrid("x")
		_, _ = req.Timer("x")
		_, _ = req.HTTP("x")
	})
}
