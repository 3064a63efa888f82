package batchtest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// The real-account harness's environment (docs/emulator-fidelity.md,
// "Running the conformance suites against Azure").
const (
	envBatchEndpoint = "FFBATCH_CONFORMANCE_BATCH_ENDPOINT" // https://<account>.<region>.batch.azure.com
	envBatchAccount  = "FFBATCH_CONFORMANCE_BATCH_ACCOUNT"  // default: the endpoint's first label
	envBatchKey      = "FFBATCH_CONFORMANCE_BATCH_KEY"      // Shared Key; without it, Entra ID
	envBatchVMSize   = "FFBATCH_CONFORMANCE_BATCH_VM_SIZE"  // default STANDARD_D2S_V3
)

// errNoBatchAccount means the harness is not configured: the test skips.
var errNoBatchAccount = errors.New(envBatchEndpoint + " is not set: set it (and " + envBatchAccount + " and " +
	envBatchKey + " for Shared Key, or sign in for azidentity's DefaultAzureCredential) to run the Batch conformance suite against a real account")

// TestAzure runs the conformance suite against a real Batch account. It
// creates pools and jobs named bt<random>-… (two one-node pools for a few
// minutes each) and deletes them when it ends, also on failure.
func TestAzure(t *testing.T) {
	ep, err := azureEndpoint(os.LookupEnv)
	if errors.Is(err, errNoBatchAccount) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	Run(t, func(*testing.T) Endpoint { return ep })
}

// azureEndpoint builds the real account's Endpoint from the environment
// (lookup is os.LookupEnv). Without a key it authenticates with
// DefaultAzureCredential, which does no I/O until a token is needed.
func azureEndpoint(lookup func(string) (string, bool)) (Endpoint, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	raw := get(envBatchEndpoint)
	if raw == "" {
		return Endpoint{}, errNoBatchAccount
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return Endpoint{}, fmt.Errorf("%s=%q: want https://<account>.<region>.batch.azure.com", envBatchEndpoint, raw)
	}
	ep := Endpoint{
		URL:          strings.TrimSuffix(raw, "/"),
		AccountName:  get(envBatchAccount),
		AccountKey:   get(envBatchKey),
		VMSize:       get(envBatchVMSize),
		Timeout:      20 * time.Minute, // node allocation and start take minutes
		PollInterval: 5 * time.Second,
	}
	if ep.AccountName == "" {
		ep.AccountName, _, _ = strings.Cut(u.Hostname(), ".")
	}
	if ep.AccountKey == "" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return Endpoint{}, fmt.Errorf("no %s, and DefaultAzureCredential: %w", envBatchKey, err)
		}
		ep.TokenCredential = cred
	}
	return ep, nil
}

// TestAzureEndpointFromEnv is the harness's dry run, part of make test: it
// checks the configuration built from the environment, without network.
func TestAzureEndpointFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Endpoint
		entra   bool
		wantErr string
	}{
		{name: "not configured", env: map[string]string{}, wantErr: envBatchEndpoint + " is not set"},
		{name: "shared key",
			env: map[string]string{envBatchEndpoint: "https://acct1.westeurope.batch.azure.com/", envBatchAccount: "acct1", envBatchKey: "a2V5"},
			want: Endpoint{URL: "https://acct1.westeurope.batch.azure.com", AccountName: "acct1", AccountKey: "a2V5",
				Timeout: 20 * time.Minute, PollInterval: 5 * time.Second}},
		{name: "entra id, account from the host, vm size",
			env:   map[string]string{envBatchEndpoint: "https://acct2.eastus.batch.azure.com", envBatchVMSize: "STANDARD_D2AS_V5"},
			want:  Endpoint{URL: "https://acct2.eastus.batch.azure.com", AccountName: "acct2", VMSize: "STANDARD_D2AS_V5", Timeout: 20 * time.Minute, PollInterval: 5 * time.Second},
			entra: true},
		{name: "http", env: map[string]string{envBatchEndpoint: "http://acct.eastus.batch.azure.com"}, wantErr: "want https://"},
		{name: "path", env: map[string]string{envBatchEndpoint: "https://acct.eastus.batch.azure.com/pools"}, wantErr: "want https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{envBatchEndpoint, envBatchAccount, envBatchKey, envBatchVMSize} {
				t.Setenv(k, tt.env[k]) // empty means unset to the harness
			}
			got, err := azureEndpoint(os.LookupEnv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("azureEndpoint() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got.TokenCredential.(*azidentity.DefaultAzureCredential); ok != tt.entra {
				t.Errorf("TokenCredential = %T, want DefaultAzureCredential: %v", got.TokenCredential, tt.entra)
			}
			got.TokenCredential = nil
			if got != tt.want {
				t.Errorf("azureEndpoint() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
