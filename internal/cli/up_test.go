package cli

import (
	"bytes"
	"flag"
	"testing"

	"github.com/ffbatch/ffbatch/internal/localstack"
)

func TestStackFlagsServiceBusConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"built-in entities", nil, ""},
		{"a user's Config.json", []string{"--sb-config", "my/Config.json"}, "my/Config.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("up", flag.ContinueOnError)
			var sf stackFlags
			sf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := sf.options(&env{stateDir: t.TempDir()}, false).ServiceBusConfig; got != tc.want {
				t.Errorf("ServiceBusConfig for %q = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

func TestStackFlagsPorts(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     localstack.Ports
		wantFree bool
	}{
		{name: "no flags leave every port to localstack", args: nil, want: localstack.Ports{}},
		{name: "explicit port", args: []string{"--batch-port", "4321"}, want: localstack.Ports{Batch: 4321}},
		{name: "free ports", args: []string{"--free-ports"}, want: localstack.Ports{}, wantFree: true},
		{
			name: "explicit default port kept with free ports",
			args: []string{"--blob-port", "10000", "--free-ports"},
			want: localstack.Ports{Blob: 10000}, wantFree: true,
		},
		{
			name: "every port explicit",
			args: []string{"--blob-port", "1", "--amqp-port", "2", "--sb-http-port", "3", "--batch-port", "4", "--functions-port", "5"},
			want: localstack.Ports{Blob: 1, AMQP: 2, SBHTTP: 3, Batch: 4, Functions: 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			e := &env{stderr: &stderr, stateDir: t.TempDir()}
			fs := flag.NewFlagSet("up", flag.ContinueOnError)
			fs.SetOutput(&stderr)
			var sf stackFlags
			sf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse %q: %v (%s)", tc.args, err, stderr.String())
			}
			o := sf.options(e, false)
			if o.Ports != tc.want || o.FreePorts != tc.wantFree {
				t.Errorf("options for %q: Ports %+v FreePorts %v, want %+v %v", tc.args, o.Ports, o.FreePorts, tc.want, tc.wantFree)
			}
			if o.StateDir != e.stateDir {
				t.Errorf("StateDir = %q, want %q", o.StateDir, e.stateDir)
			}
		})
	}
}
