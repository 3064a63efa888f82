package localstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadServiceBusConfig(t *testing.T) {
	ep := Endpoints{ArrivalsQueue: "arrivals", ResultsTopic: "results", CLISubscription: CLISubscription}
	const full = `{"UserConfig": {"Namespaces": [{"Name": "sbemulatorns",
	  "Queues": [{"Name": "arrivals"}],
	  "Topics": [{"Name": "results", "Subscriptions": [{"Name": "all"}, {"Name": "cli"}, {"Name": "mine"}]}]}]}}`
	tests := []struct {
		name        string
		content     string // "" : no file
		wantErr     string
		wantMissing []string
	}{
		{"everything there", full, "", nil},
		{"no file", "", "no such file", nil},
		{"not JSON", "{", "service bus config", nil},
		{"no UserConfig", `{"Namespaces": []}`, "no UserConfig.Namespaces", nil},
		{"no cli subscription", strings.Replace(full, `{"Name": "cli"}, `, "", 1), "", []string{`subscription "cli" of topic "results"`}},
		{"no topic, no queue", `{"UserConfig": {"Namespaces": [{"Name": "sbemulatorns", "Queues": [{"Name": "orders"}]}]}}`, "",
			[]string{`queue "arrivals"`, `topic "results"`}},
		{"topic without subscriptions", `{"UserConfig": {"Namespaces": [{"Queues": [{"Name": "arrivals"}], "Topics": [{"Name": "results"}]}]}}`, "",
			[]string{`subscription "cli"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Config.json")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e, err := readServiceBusConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readServiceBusConfig error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := e.missing(ep)
			if len(got) != len(tt.wantMissing) {
				t.Fatalf("missing = %q, want %d entries like %q", got, len(tt.wantMissing), tt.wantMissing)
			}
			for i, w := range tt.wantMissing {
				if !strings.Contains(got[i], w) {
					t.Errorf("missing[%d] = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestLastOutputLine(t *testing.T) {
	long := strings.Repeat("x", maxShownLine+10)
	tests := []struct {
		name, log, want string
	}{
		{"error after the start marker", "---- t: starting a\nlevel=INFO msg=hi\nsbemu: --config c: bad\n", "sbemu: --config c: bad"},
		{"only the latest run", "---- t: starting a\nold error\n---- t2: starting a\n", ""},
		{"latest run's last line", "---- t: starting a\nold error\n---- t2: starting a\nnew error\n\n", "new error"},
		{"no marker", "just this\n", "just this"},
		{"empty", "", ""},
		{"long line cut", "---- t: starting\n" + long + "\n", long[:maxShownLine] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.log")
			if err := os.WriteFile(path, []byte(tt.log), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := lastOutputLine(path); got != tt.want {
				t.Errorf("lastOutputLine = %q, want %q", got, tt.want)
			}
		})
	}
	if got := lastOutputLine(filepath.Join(t.TempDir(), "missing.log")); got != "" {
		t.Errorf("lastOutputLine of a missing file = %q, want empty", got)
	}
}

func TestProcExitErrorQuotesItsOutput(t *testing.T) {
	p := &proc{name: "t", bin: "/bin/sh", args: []string{"-c", "echo starting; echo 't: bad flag' >&2; exit 3"}, logPath: filepath.Join(t.TempDir(), "t.log")}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	<-p.exited()
	err := p.exitError()
	for _, want := range []string{"t exited: exit status 3", "its last output: t: bad flag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("exitError = %q, want it to contain %q", err, want)
		}
	}
}
