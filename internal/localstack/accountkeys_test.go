package localstack

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// TestEnsureKey: a missing key file gets a random 64-byte key (mode 0600),
// the next start reads the same key, another stack gets another key, and
// an emptied file is an error rather than a silent new key.
func TestEnsureKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, keysDir, "batch.key")
	first, err := ensureKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(first); err != nil || len(raw) != 64 {
		t.Errorf("key %q: %d bytes (%v), want 64 bytes of base64", first, len(raw), err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if again, err := ensureKey(path); err != nil || again != first {
		t.Errorf("second read = %q, %v; want the same key", again, err)
	}
	if other, err := ensureKey(filepath.Join(t.TempDir(), "batch.key")); err != nil || other == first {
		t.Errorf("another stack's key = %q, %v; want a different key", other, err)
	}
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureKey(path); err == nil {
		t.Error("an empty key file was accepted")
	}
}
