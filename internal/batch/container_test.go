package batch

import (
	"encoding/json"
	"testing"
)

func TestTaskContainerSettingsWireShape(t *testing.T) {
	task := TaskAddParameter{
		ID: "t1", CommandLine: "ffmpeg -version",
		ContainerSettings: &TaskContainerSettings{
			ImageName: "example.azurecr.io/ffmpeg:7", WorkingDirectory: "taskWorkingDirectory",
			Registry: &ContainerRegistry{RegistryServer: "example.azurecr.io"},
		},
	}
	got, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"t1","commandLine":"ffmpeg -version","containerSettings":{"imageName":"example.azurecr.io/ffmpeg:7","registry":{"registryServer":"example.azurecr.io"},"workingDirectory":"taskWorkingDirectory"}}`
	if string(got) != want {
		t.Fatalf("containerSettings wire shape:\n got %s\nwant %s", got, want)
	}
	var back Task
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.ContainerSettings == nil || back.ContainerSettings.ImageName != "example.azurecr.io/ffmpeg:7" {
		t.Fatalf("containerSettings did not round-trip: %+v", back.ContainerSettings)
	}
}
