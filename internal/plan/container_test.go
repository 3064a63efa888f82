package plan

import (
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
)

// TestTaskContainerMode: with a container image the task runs in it, in the
// task working directory (so the fixed file names still apply), and nothing
// else about the task changes.
func TestTaskContainerMode(t *testing.T) {
	preset, ok := LookupPreset("mp3-192k-cbr")
	if !ok {
		t.Fatal("preset mp3-192k-cbr missing")
	}
	f := TaskFile{Request: request.Request{Version: request.Version{Container: "input", Blob: "a b.mp4", ETag: "0x1", Size: 10}, Preset: preset.Name, Output: "a b.mp3"}}
	opts := TaskOptions{InputURL: "https://x/in?sig=s", OutputContainerURL: "https://x/out?sig=s", LogsPrefix: "logs/", MinWallClock: time.Minute}
	host, err := Task("t-1", f, preset, opts)
	if err != nil {
		t.Fatal(err)
	}
	if host.ContainerSettings != nil {
		t.Errorf("task without a container image has containerSettings %+v", host.ContainerSettings)
	}
	opts.ContainerImage = "example.azurecr.io/ffmpeg:7"
	inContainer, err := Task("t-1", f, preset, opts)
	if err != nil {
		t.Fatal(err)
	}
	cs := inContainer.ContainerSettings
	if cs == nil || cs.ImageName != opts.ContainerImage || cs.WorkingDirectory != "taskWorkingDirectory" {
		t.Fatalf("containerSettings = %+v, want image %s in taskWorkingDirectory", cs, opts.ContainerImage)
	}
	if inContainer.CommandLine != host.CommandLine || inContainer.ID != host.ID {
		t.Errorf("container mode changed the command line or id: %q/%q vs %q/%q", inContainer.CommandLine, inContainer.ID, host.CommandLine, host.ID)
	}
}
