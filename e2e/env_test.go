package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// TestEnv: what `ffbatch env` prints, read by a shell, connects to the
// running stack: Blob storage, Service Bus, Batch and the Functions host
// and the Service Bus emulator's HTTP endpoint answer with those values,
// and `env --json` holds the same values.
func TestEnv(t *testing.T) {
	p := startPipeline(t, nil)
	if err := p.stack.WriteRecord(); err != nil {
		t.Fatal(err)
	}
	state := p.stack.Dir
	// The export lines go through a real shell, then `env -0` reports
	// what the shell made of them.
	sh := exec.Command("/bin/sh", "-c", `eval "$("$FFBATCH" -state "$STATE" env)" && env -0`)
	sh.Env = append(sh.Environ(), "FFBATCH="+filepath.Join(binDir, "ffbatch"), "STATE="+state)
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("eval ffbatch env: %v", err)
	}
	vars := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	code, jsonOut, errs := ffbatchBinary(t, "-state", state, "env", "--json")
	if code != 0 {
		t.Fatalf("env --json: exit %d: %s", code, errs)
	}
	var asJSON map[string]string
	if err := json.Unmarshal([]byte(jsonOut), &asJSON); err != nil {
		t.Fatalf("env --json is not a JSON object: %v\n%s", err, jsonOut)
	}
	if len(asJSON) < 15 {
		t.Errorf("env --json has %d variables, want the 21 of docs/local-stack.md:\n%s", len(asJSON), jsonOut)
	}
	for k, v := range asJSON {
		if vars[k] != v {
			t.Errorf("%s: export gives %q, --json %q", k, vars[k], v)
		}
	}
	ctx := p.ctx()
	t.Run("storage", func(t *testing.T) {
		for _, name := range []string{"FFBATCH_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_CONNECTION_STRING"} {
			c, err := azblob.NewClientFromConnectionString(vars[name], nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, err := c.ServiceClient().NewContainerClient(vars["FFBATCH_INPUT_CONTAINER"]).GetProperties(ctx, nil); err != nil {
				t.Errorf("%s: input container %q: %v", name, vars["FFBATCH_INPUT_CONTAINER"], err)
			}
		}
	})
	t.Run("service bus", func(t *testing.T) {
		c, err := azservicebus.NewClientFromConnectionString(vars["FFBATCH_SERVICEBUS_CONNECTION_STRING"], nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		r, err := c.NewReceiverForQueue(vars["FFBATCH_ARRIVALS_QUEUE"], nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close(context.Background())
		if _, err := r.PeekMessages(ctx, 1, nil); err != nil {
			t.Errorf("peek %s: %v", vars["FFBATCH_ARRIVALS_QUEUE"], err)
		}
	})
	t.Run("batch", func(t *testing.T) {
		for _, names := range [][3]string{
			{"FFBATCH_BATCH_ENDPOINT", "FFBATCH_BATCH_ACCOUNT_NAME", "FFBATCH_BATCH_ACCOUNT_KEY"},
			{"AZURE_BATCH_ENDPOINT", "AZURE_BATCH_ACCOUNT", "AZURE_BATCH_ACCESS_KEY"},
		} {
			cred, err := batch.NewSharedKeyCredential(vars[names[1]], vars[names[2]])
			if err != nil {
				t.Fatalf("%s: %v", names[2], err)
			}
			o := &batch.ClientOptions{}
			o.InsecureAllowCredentialWithHTTP = true
			c, err := batch.NewSharedKeyClient(vars[names[0]], cred, o)
			if err != nil {
				t.Fatalf("%s: %v", names[0], err)
			}
			// A signed call: a wrong key would be refused.
			if _, err := c.PoolExists(ctx, vars["FFBATCH_POOL_ID"]); err != nil {
				t.Errorf("pool exists with %s: %v", names, err)
			}
		}
	})
	t.Run("http endpoints", func(t *testing.T) {
		for _, c := range []struct{ url, want string }{
			{vars["FFBATCH_LOCAL_FUNCTIONS_URL"] + "/admin/host/status?code=" + url.QueryEscape(vars["FFBATCH_LOCAL_FUNCTIONS_MASTER_KEY"]), `"state":"Running"`},
			{vars["FFBATCH_LOCAL_SERVICEBUS_HTTP"] + "/health", `"ok"`},
			{vars["FFBATCH_LOCAL_BLOB_ENDPOINT"] + "?comp=list", "AuthorizationFailure"},
		} {
			resp, err := http.Get(c.url)
			if err != nil {
				t.Errorf("GET %s: %v", c.url, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), c.want) {
				t.Errorf("GET %s: %s %q, want %q in it", c.url, resp.Status, body, c.want)
			}
		}
	})
}
