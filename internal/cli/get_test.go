package cli

import (
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/results"
)

func TestLogsPrefix(t *testing.T) {
	const azurite = "http://127.0.0.1:10000/devstoreaccount1"
	tests := []struct {
		name, url, endpoint, want string
		wantErr                   bool
	}{
		{"azurite", azurite + "/output/logs/t-1", azurite, "logs/t-1", false},
		{"endpoint with a trailing slash", azurite + "/output/logs/t-1", azurite + "/", "logs/t-1", false},
		{"azure", "https://acct.blob.core.windows.net/output/logs/t-2", "https://acct.blob.core.windows.net", "logs/t-2", false},
		{"escaped prefix", azurite + "/output/my%20logs/t-3/", azurite, "my logs/t-3", false},
		{"another container", azurite + "/input/logs/t-1", azurite, "", true},
		{"another host", "http://127.0.0.1:1/devstoreaccount1/output/logs/t-1", azurite, "", true},
		{"the container itself", azurite + "/output/", azurite, "", true},
		{"not a URL", "://", azurite, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := logsPrefix(tt.url, tt.endpoint, "output")
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("logsPrefix(%q) = %q, %v; want %q (error %v)", tt.url, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNoMP3Reason(t *testing.T) {
	tests := []struct {
		name string
		f    fileView
		want string
	}{
		{"failed", fileView{Blob: "a.mp4", State: results.StateFailed, Reason: "ffmpeg FailureExitCode exit 1:\n bad"}, "failed: ffmpeg FailureExitCode exit 1: bad"},
		{"ignored", fileView{Blob: "n.txt", State: results.StateIgnored, Reason: "unsupported_extension: not an .mp4"}, "ignored: unsupported_extension: not an .mp4"},
		{"in flight", fileView{Blob: "b.mp4", State: results.StateRunning}, "running, not finished yet (`ffbatch watch b.mp4` follows it)"},
		{"succeeded, MP3 not listed yet", fileView{Blob: "c.mp4", State: results.StateSucceeded, OutputSize: -1}, "succeeded, not finished yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noMP3Reason(tt.f); !strings.HasPrefix(got, tt.want) {
				t.Errorf("noMP3Reason = %q, want it to start with %q", got, tt.want)
			}
		})
	}
}
