// Package schematest checks documents against docs/schemas/status.schema.json
// with a JSON Schema (draft 2020-12) validator, for the tests of the Status
// API's producers (docs/decisions/0090-jsonschema-validator-for-tests.md).
// Only tests import it.
package schematest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compiled is the status schema, compiled once per test binary.
var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, fmt.Errorf("schematest: cannot locate the repository")
	}
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", "docs", "schemas", "status.schema.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schematest: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("schematest: %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		return nil, fmt.Errorf("schematest: %w", err)
	}
	return c.Compile(path)
})

// Validate fails t when body is not a document the Status API may answer.
func Validate(t testing.TB, body []byte) {
	t.Helper()
	if err := Check(body); err != nil {
		t.Errorf("%v\ndocument: %.2000s", err, body)
	}
}

// Check validates body against the status schema.
func Check(body []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("does not match docs/schemas/status.schema.json: %w", err)
	}
	return nil
}
