package localstack

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The storage account key, the Batch account key and the Service Bus SAS
// key are the stack's own: random, made when the state directory is new
// (--fresh makes new ones), kept in <data>/keys/ (mode 0600) and handed to
// the services in a file (--key-file, --storage-key-file) or Azurite's
// environment, never on a command line, which every local user can read.

// keysDir is the directory of the key files under the data directory.
const keysDir = "keys"

// stackKeyFiles are the key files under the data directory.
var stackKeyFiles = struct{ storage, batch, serviceBus string }{
	storage:    filepath.Join(keysDir, "storage.key"),
	batch:      filepath.Join(keysDir, "batch.key"),
	serviceBus: filepath.Join(keysDir, "servicebus.key"),
}

// ensureKey returns the key in path, first writing a random one (64 bytes,
// standard base64, as Azure's keys look) when the file does not exist.
func ensureKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
		return "", fmt.Errorf("read key %s: the file is empty (remove it, or start with --fresh, for a new key)", path)
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read key: %w", err)
	}
	raw := make([]byte, 64)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make key: %w", err)
	}
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("write key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write key %s: %w", path, err)
	}
	return key, nil
}
