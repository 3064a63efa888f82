package sbemu_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// runClient runs a client script and requires it to print OK.
func runClient(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("%s %s failed: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// missingEntities names a queue and a topic the test configuration does not
// have; each client script checks that its SDK reports them as not found.
const missingEntities = "SB_MISSING=no-such-queue,no-such-topic"

// TestNodeClient drives the emulator with @azure/service-bus (rhea), which
// `make test` installs under tools/node_modules.
func TestNodeClient(t *testing.T) {
	nodeModules := filepath.Join(repoRoot(t), "tools", "node_modules")
	if _, err := os.Stat(filepath.Join(nodeModules, "@azure", "service-bus")); err != nil {
		t.Fatalf("@azure/service-bus is not installed under %s (run make test's bootstrap): %v", nodeModules, err)
	}
	e := newEnv(t, nil)
	script, _ := filepath.Abs(filepath.Join("testdata", "clients", "servicebus.js"))
	runClient(t, []string{"NODE_PATH=" + nodeModules, "SB_CONN=" + connString(e.addr, "SAS_KEY_VALUE"), "SB_QUEUE=q1", missingEntities},
		"node", script)
}

// TestPythonClient drives the emulator with azure-servicebus (uamqp) from
// Debian's python3-azure (/usr/bin/python3, installed by make test's
// bootstrap). That SDK version only speaks AMQPS, so the emulator also
// serves a TLS listener here (ServeAMQP accepts any net.Listener).
func TestPythonClient(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import azure.servicebus").CombinedOutput(); err != nil {
		t.Fatalf("azure-servicebus is not importable by %s (install python3-azure): %v\n%s", python, err, out)
	}
	e := newEnv(t, nil)
	cfg, caPath := selfSignedTLS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.ServeAMQP(tls.NewListener(ln, cfg))
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	script, _ := filepath.Abs(filepath.Join("testdata", "clients", "servicebus.py"))
	conn := "Endpoint=sb://127.0.0.1/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE"
	runClient(t, []string{"SB_CONN=" + conn, "SB_QUEUE=q1", missingEntities, "SB_PORT=" + port, "SB_CA=" + caPath}, python, script)
}

// selfSignedTLS returns a server TLS config for 127.0.0.1 and localhost and
// the path of its certificate as a PEM CA bundle.
func selfSignedTLS(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, caPath
}
