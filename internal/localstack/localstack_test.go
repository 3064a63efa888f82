package localstack

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/azurite"
)

func TestChildEnv(t *testing.T) {
	in := []string{"PATH=/usr/bin", "HOME=/h", "FFBATCH_LOG_LEVEL=debug", "AzureWebJobsStorage=x",
		"ServiceBusConnection=y", "FUNCTIONS_CUSTOMHANDLER_PORT=1", "FUNCHOST_EVENTGRID_BLOBS=z", "GOFLAGS=-mod=mod"}
	got := childEnv(in)
	want := []string{"PATH=/usr/bin", "HOME=/h", "GOFLAGS=-mod=mod"}
	if !slices.Equal(got, want) {
		t.Errorf("childEnv = %q, want %q", got, want)
	}
}

func TestResolvePorts(t *testing.T) {
	tests := []struct {
		name string
		in   Ports
		free bool
		want func(Ports) bool
	}{
		{"defaults", Ports{}, false, func(p Ports) bool { return p == DefaultPorts }},
		{"explicit kept", Ports{Blob: 1234}, false, func(p Ports) bool { return p.Blob == 1234 && p.Batch == DefaultPorts.Batch }},
		{"free ports", Ports{Batch: 4321}, true, func(p Ports) bool {
			return p.Batch == 4321 && p.Blob != 0 && p.Blob != DefaultPorts.Blob && p.Functions != 0 && p.AMQP != p.SBHTTP
		}},
		{"explicit default port kept with free ports", Ports{Blob: DefaultPorts.Blob}, true, func(p Ports) bool {
			return p.Blob == DefaultPorts.Blob && p.Batch != 0 && p.Batch != DefaultPorts.Batch
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolvePorts(tt.in, tt.free)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(got) {
				t.Errorf("resolvePorts(%+v, %v) = %+v", tt.in, tt.free, got)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	repo, err := FindRepo()
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{o: Options{RepoDir: repo, Settings: map[string]string{"FFBATCH_POOL_IDLE_TIMEOUT": "3s", "FFBATCH_SWEEP_SCHEDULE": "* * * * * *"}},
		ports: Ports{Blob: 1, AMQP: 2, SBHTTP: 3, Batch: 4, Functions: 5}, batchKey: "batch-key==", sbKey: "sb-key=="}
	az := &azurite.Instance{BlobEndpoint: "http://127.0.0.1:1/devstoreaccount1", AccountName: azurite.AccountName, AccountKey: azurite.AccountKey,
		ConnectionString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"}
	v, err := s.settings(az)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AzureWebJobsStorage":               az.ConnectionString,
		"FFBATCH_STORAGE_CONNECTION_STRING": az.ConnectionString,
		"FFBATCH_BATCH_ENDPOINT":            "http://127.0.0.1:4",
		"FFBATCH_BATCH_AUTH":                "sharedkey",
		"FFBATCH_BATCH_ACCOUNT_KEY":         s.batchKey,
		"FFBATCH_POOL_IDLE_TIMEOUT":         "3s",          // Options.Settings win
		"FFBATCH_SWEEP_SCHEDULE":            "* * * * * *", // over the local override too
		"FFBATCH_INPUT_CONTAINER":           "input",       // from the example file
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %q, want %q", k, v[k], w)
		}
	}
	if !strings.Contains(v["ServiceBusConnection"], "Endpoint=sb://127.0.0.1:2;") || !strings.Contains(v["ServiceBusConnection"], "SharedAccessKey="+s.sbKey+";") {
		t.Errorf("ServiceBusConnection = %q, want the local AMQP port and key", v["ServiceBusConnection"])
	}
	ep := endpointsFrom(v, az, s.ports)
	if ep.FunctionsURL != "http://127.0.0.1:5" || ep.ServiceBusHTTP != "http://127.0.0.1:3" || ep.OutputContainer != "output" {
		t.Errorf("endpoints = %+v", ep)
	}
	if str := ep.String(); strings.Contains(str, s.batchKey) || strings.Contains(str, s.sbKey) {
		t.Errorf("Endpoints.String leaks a key: %s", str)
	}
}

func TestEndpointsFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadEndpoints(dir); !errors.Is(err, ErrNoStack) {
		t.Fatalf("LoadEndpoints without a file: err = %v, want ErrNoStack", err)
	}
	want := Endpoints{BlobEndpoint: "http://b", FunctionsURL: "http://f", PoolID: "p"}
	if err := SaveEndpoints(dir, want); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("stack.json mode = %v, want 0600", st.Mode().Perm())
	}
	got, err := LoadEndpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("LoadEndpoints = %+v, want %+v", got, want)
	}
	if err := RemoveEndpoints(dir); err != nil {
		t.Fatal(err)
	}
	if err := RemoveEndpoints(dir); err != nil {
		t.Errorf("second RemoveEndpoints: %v", err)
	}
}

func TestLayout(t *testing.T) {
	repo, err := FindRepo()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	handler := filepath.Join(dir, "fake-handler")
	if err := os.WriteFile(handler, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Stack{Dir: dir, o: Options{RepoDir: repo}, bins: map[string]string{"handler": handler}}
	app, err := s.layout()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"host.json", "BlobCreated/function.json", "SubmitTasks/function.json", "SweepPools/function.json", "Status/function.json", "Dashboard/function.json"} {
		if _, err := os.Stat(filepath.Join(app, f)); err != nil {
			t.Errorf("layout is missing %s: %v", f, err)
		}
	}
	st, err := os.Stat(filepath.Join(app, "handler"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("handler mode %v is not executable", st.Mode())
	}
}

func TestProcStop(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		wantErr bool
	}{
		{"exits on SIGTERM", "sleep 30 & wait", false},
		{"ignores SIGTERM", "trap '' TERM; sleep 30 & wait; sleep 30", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &proc{name: "t", bin: "/bin/sh", args: []string{"-c", tt.script}, logPath: filepath.Join(t.TempDir(), "t.log")}
			if err := p.start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.kill)
			// Wait for the shell to start its child, so the group has two members.
			var kids []int
			for range 100 {
				kids, _ = childPIDs(p.pid())
				if len(kids) > 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if len(kids) == 0 {
				t.Fatal("shell started no child")
			}
			err := p.stop(200 * time.Millisecond)
			if (err != nil) != tt.wantErr {
				t.Errorf("stop error = %v, want error %v", err, tt.wantErr)
			}
			select {
			case <-p.exited():
			default:
				t.Fatal("process still running after stop")
			}
			for _, k := range kids {
				if waitGone(k) != nil {
					t.Errorf("child %d of the process group survived stop", k)
				}
			}
		})
	}
}

// waitGone waits briefly for pid to disappear (a killed child is reaped by
// init shortly after its parent exits).
func waitGone(pid int) error {
	for range 100 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if strings.Contains(string(b), ") Z ") {
			return nil // zombie: dead, waiting for its reaper
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("still alive")
}

func TestStateDirLock(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err == nil || !strings.Contains(err.Error(), "is in use by a running stack, run by ") {
		t.Fatalf("second lock: err = %v, want in use", err)
	}
	first.Close()
	again, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}

func TestRepoAbove(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	for _, d := range []string{deep, filepath.Join(root, "function-definitions")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := repoAbove(deep); ok {
		t.Fatal("found a repository without go.mod")
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, ok := repoAbove(deep)
	if !ok || got != root {
		t.Errorf("repoAbove(%s) = %q, %v; want %q", deep, got, ok, root)
	}
}

func TestSettingsFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadSettings(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadSettings without a file: err = %v, want os.ErrNotExist", err)
	}
	want := map[string]string{"FFBATCH_DEFAULT_PRESET": "mp3-v2-vbr", "FFBATCH_INPUT_CONTAINER": "input"}
	if err := writeSettings(filepath.Join(dir, SettingsFile), want, 7071); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("ReadSettings = %v, want %v", got, want)
	}
}
