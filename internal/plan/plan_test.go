package plan

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
	"github.com/ffbatch/ffbatch/internal/request"
)

var batchID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestOutputName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.mp4", "a.mp3"},
		{"a.mp4|mp3-v2-vbr", "a.mp3-v2-vbr.mp3"},
		{"shows/ep.1.MP4|mp3-320k-cbr", "shows/ep.1.mp3-320k-cbr.mp3"},
		{"noext|mp3-v5-vbr", "noext.mp3-v5-vbr.mp3"},
		{"a.mp4|mp3-192k-cbr", "a.mp3"},
		{"A.MP4", "A.mp3"},
		{"shows/ep.1.final.Mp4", "shows/ep.1.final.mp3"},
		{"dir.v2/noext", "dir.v2/noext.mp3"},
		{"dir/.hidden", "dir/.hidden.mp3"},
		{"names with spaces/ep 1.mp4", "names with spaces/ep 1.mp3"},
		{`q'"uotes;$(rm -rf ~).mp4`, `q'"uotes;$(rm -rf ~).mp3`},
		{"musique/été – 東京.mp4", "musique/été – 東京.mp3"},
	}
	for _, tc := range tests {
		blob, preset, _ := strings.Cut(tc.in, "|")
		if got := OutputName(blob, preset, DefaultPresetName); got != tc.want {
			t.Errorf("OutputName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPresets(t *testing.T) {
	names := PresetNames()
	for _, want := range []string{"mp3-128k-cbr", "mp3-192k-cbr", "mp3-v2-vbr"} {
		if _, ok := LookupPreset(want); !ok {
			t.Errorf("preset %s missing (have %v)", want, names)
		}
	}
	if _, ok := LookupPreset(DefaultPresetName); !ok {
		t.Errorf("default preset %s is not defined", DefaultPresetName)
	}
	for _, n := range names {
		p, _ := LookupPreset(n)
		args := Args(p)
		joined := strings.Join(args, " ")
		for _, must := range []string{"-nostdin", "-y", "-vn", "libmp3lame", "-i " + InputFile} {
			if !strings.Contains(joined, must) {
				t.Errorf("preset %s: args %q lack %q", n, joined, must)
			}
		}
		if args[len(args)-1] != OutputFile {
			t.Errorf("preset %s: last arg %q, want %s", n, args[len(args)-1], OutputFile)
		}
		isCBR, isVBR := strings.Contains(joined, "-b:a"), strings.Contains(joined, "-q:a")
		if isCBR == isVBR || strings.HasSuffix(n, "-cbr") != isCBR {
			t.Errorf("preset %s: CBR/VBR arguments do not match its name: %q", n, joined)
		}
	}
	// LookupPreset returns a copy.
	p, _ := LookupPreset("mp3-128k-cbr")
	p.Args[0] = "-evil"
	if q, _ := LookupPreset("mp3-128k-cbr"); q.Args[0] == "-evil" {
		t.Errorf("LookupPreset shares its argument slice")
	}
}

var opts = TaskOptions{
	InputURL:           "https://acct.blob.core.windows.net/input/x?sig=s",
	OutputContainerURL: "https://acct.blob.core.windows.net/output?sig=s",
	LogsPrefix:         "logs/",
	MaxTaskRetries:     2,
	MinWallClock:       10 * time.Minute,
	WallClockPerGiB:    20 * time.Minute,
}

func TestTaskNeverPutsNamesOnTheCommandLine(t *testing.T) {
	names := []string{
		"plain.mp4",
		"names with spaces/ep 1.mp4",
		`quotes'and"double.mp4`,
		"semi;colon.mp4",
		"$(rm -rf ~)`id`.mp4",
		"musique/été – 東京.mp4",
		"../../etc/passwd.mp4",
		"UPPER.MP4",
		strings.Repeat("n", 1020) + ".mp4",
	}
	preset, _ := LookupPreset("mp3-192k-cbr")
	wantCmd := "/bin/sh -c 'md5sum input.mp4 && exec ffmpeg -nostdin -y -hide_banner -loglevel info -nostats -progress pipe:1 -stats_period 86400 -xerror -f mov -protocol_whitelist file -i input.mp4 -vn -c:a libmp3lame -b:a 192k -ar 44100 " +
		"-metadata major_brand= -metadata minor_version= -metadata compatible_brands= output.mp3'"
	for _, name := range names {
		t.Run(name[:min(len(name), 30)], func(t *testing.T) {
			f := TaskFile{Request: request.Request{Version: request.Version{Container: "input", Blob: name, ETag: "0x1", Size: 1 << 20, ContentMD5: "1B2M2Y8AsgTpgAmY7PhCfg=="}, Preset: preset.Name, Output: OutputName(name, "", DefaultPresetName)}}
			task, err := Task("t-1", f, preset, opts)
			if err != nil {
				t.Fatalf("Task: %v", err)
			}
			if task.CommandLine != wantCmd {
				t.Errorf("CommandLine = %q, want %q", task.CommandLine, wantCmd)
			}
			if !batchID.MatchString(task.ID) {
				t.Errorf("task id %q invalid", task.ID)
			}
			if len(task.ResourceFiles) != 1 || task.ResourceFiles[0].FilePath != InputFile || task.ResourceFiles[0].HTTPURL != opts.InputURL {
				t.Errorf("resource files = %+v", task.ResourceFiles)
			}
			out := task.OutputFiles[0]
			if out.FilePattern != OutputFile || out.Destination.Container.Path != StagingName("t-1") || out.UploadOptions.UploadCondition != batch.OutputFileUploadConditionTaskSuccess {
				t.Errorf("output file = %+v", out)
			}
			wantMP3Headers := []batch.HTTPHeader{{Name: "Content-Type", Value: "audio/mpeg"}}
			if got := out.Destination.Container.UploadHeaders; !slices.Equal(got, wantMP3Headers) {
				t.Errorf("MP3 upload headers = %+v, want %+v", got, wantMP3Headers)
			}
			logs := task.OutputFiles[1]
			if logs.FilePattern != "../std*.txt" || logs.Destination.Container.Path != "logs/"+task.ID || logs.UploadOptions.UploadCondition != batch.OutputFileUploadConditionTaskCompletion {
				t.Errorf("logs output = %+v", logs)
			}
			wantLogHeaders := []batch.HTTPHeader{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
			if got := logs.Destination.Container.UploadHeaders; !slices.Equal(got, wantLogHeaders) {
				t.Errorf("log upload headers = %+v, want %+v", got, wantLogHeaders)
			}
			got, err := FileOf(&batch.Task{ID: task.ID, EnvironmentSettings: task.EnvironmentSettings})
			if err != nil || got.Blob != name || got.ContentMD5 != f.ContentMD5 {
				t.Errorf("FileOf = %+v, %v", got, err)
			}
			if len([]rune(task.DisplayName)) > 1024 {
				t.Errorf("display name has %d characters", len([]rune(task.DisplayName)))
			}
			// The task serialises as valid JSON with the name only in data fields.
			b, err := json.Marshal(task)
			if err != nil {
				t.Fatal(err)
			}
			var back batch.TaskAddParameter
			if err := json.Unmarshal(b, &back); err != nil || back.CommandLine != wantCmd {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

func TestTaskSizing(t *testing.T) {
	preset, _ := LookupPreset("mp3-v2-vbr")
	tests := []struct {
		name        string
		size        int64
		wantWall    time.Duration
		wantRetries int32
	}{
		{"small", 10 << 20, 30 * time.Minute, 2},
		{"exactly 1 GiB", 1 << 30, 30 * time.Minute, 2},
		{"just over 1 GiB", 1<<30 + 1, 50 * time.Minute, 2},
		{"3 GiB", 3 << 30, 70 * time.Minute, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task, err := Task("t-1", TaskFile{Request: request.Request{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: tc.size}, Output: "a.mp3"}}, preset, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(*task.Constraints.MaxWallClockTime); got != tc.wantWall {
				t.Errorf("maxWallClockTime = %v, want %v", got, tc.wantWall)
			}
			if got := *task.Constraints.MaxTaskRetryCount; got != tc.wantRetries {
				t.Errorf("maxTaskRetryCount = %d, want %d", got, tc.wantRetries)
			}
		})
	}
	if _, err := Task("t-1", TaskFile{Request: request.Request{Version: request.Version{Blob: "a.mp4"}, Output: "a.mp3"}}, preset, TaskOptions{}); err == nil {
		t.Errorf("Task without URLs succeeded")
	}
	if _, err := Task("t-1", TaskFile{Request: request.Request{Version: request.Version{Blob: "a.mp4"}}}, preset, opts); err == nil {
		t.Errorf("Task without output name succeeded")
	}
}

// TestURLLifetime: the URLs outlive queueing plus every attempt the task
// is given (opts: 10 min + 20 min per started GiB, 2 retries, 1 above
// 2 GiB), within the user delegation key's limit.
func TestURLLifetime(t *testing.T) {
	tests := []struct {
		name     string
		size     int64
		queueing time.Duration
		want     time.Duration
	}{
		{"small: 3 attempts of 30 min", 10 << 20, 2 * time.Hour, 2*time.Hour + 90*time.Minute},
		{"2 GiB: 3 attempts of 50 min", 2 << 30, 2 * time.Hour, 2*time.Hour + 150*time.Minute},
		{"2.5 GiB: 2 attempts of 70 min", 5 << 29, 2 * time.Hour, 2*time.Hour + 140*time.Minute},
		{"no queueing", 1, 0, 90 * time.Minute},
		{"4 TiB: capped", 4 << 40, 2 * time.Hour, MaxURLLifetime},
		{"long queueing: capped", 1, 7 * 24 * time.Hour, MaxURLLifetime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := URLLifetime(tc.size, tc.queueing, opts)
			if got != tc.want {
				t.Errorf("URLLifetime = %v, want %v", got, tc.want)
			}
			preset, _ := LookupPreset(DefaultPresetName)
			task, err := Task("t-1", TaskFile{Request: request.Request{Version: request.Version{Blob: "a.mp4", Size: tc.size}, Output: "a.mp3"}}, preset, opts)
			if err != nil {
				t.Fatal(err)
			}
			attempts := time.Duration(*task.Constraints.MaxTaskRetryCount+1) * time.Duration(*task.Constraints.MaxWallClockTime)
			if got < min(tc.queueing+attempts, MaxURLLifetime) {
				t.Errorf("URLLifetime %v is shorter than queueing %v plus the task's attempts %v", got, tc.queueing, attempts)
			}
		})
	}
	if MaxURLLifetime >= 7*24*time.Hour {
		t.Errorf("MaxURLLifetime %v reaches the 7-day user delegation key limit", MaxURLLifetime)
	}
}

func TestPool(t *testing.T) {
	base := PoolOptions{
		ID: "ffbatch-pool", VMSize: "Standard_D2s_v3", TaskSlotsPerNode: 2,
		DedicatedMin: 0, DedicatedMax: 1, SpotMin: 0, SpotMax: 4,
		AutoscaleInterval: 5 * time.Minute,
		ImagePublisher:    "Canonical", ImageOffer: "ubuntu-24_04-lts", ImageSKU: "server",
		NodeAgentSKU: "batch.node.ubuntu 24.04",
	}
	t.Run("autoscale", func(t *testing.T) {
		o := base
		o.Autoscale = true
		p, err := Pool(o)
		if err != nil {
			t.Fatal(err)
		}
		if p.EnableAutoScale == nil || !*p.EnableAutoScale || p.TargetDedicatedNodes != nil || p.TargetLowPriorityNodes != nil {
			t.Errorf("autoscale pool sets targets or lacks enableAutoScale: %+v", p)
		}
		if time.Duration(*p.AutoScaleEvaluationInterval) != 5*time.Minute {
			t.Errorf("interval = %v", *p.AutoScaleEvaluationInterval)
		}
		for _, must := range []string{"$PendingTasks", "$NodeDeallocationOption = taskcompletion", "$TargetDedicatedNodes", "$TargetLowPriorityNodes", "min(1, max(0, $need))", "min(4, max(0, $need - $dedicated))", "($pending + 2 - 1) / 2"} {
			if !strings.Contains(p.AutoScaleFormula, must) {
				t.Errorf("formula lacks %q:\n%s", must, p.AutoScaleFormula)
			}
		}
		if len(p.AutoScaleFormula) > 8<<10 || strings.Count(p.AutoScaleFormula, ";") > 100 {
			t.Errorf("formula exceeds Batch limits")
		}
		vm := p.VirtualMachineConfiguration
		if vm.ImageReference.Offer != "ubuntu-24_04-lts" || vm.NodeAgentSKUID != "batch.node.ubuntu 24.04" {
			t.Errorf("image = %+v", vm)
		}
		if p.StartTask == nil || p.StartTask.CommandLine != DefaultStartTask || !*p.StartTask.WaitForSuccess || p.StartTask.UserIdentity.AutoUser.ElevationLevel != batch.ElevationLevelAdmin {
			t.Errorf("start task = %+v", p.StartTask)
		}
		if p.TaskSlotsPerNode != 2 {
			t.Errorf("slots = %d", p.TaskSlotsPerNode)
		}
	})
	t.Run("managed", func(t *testing.T) {
		o := base
		o.DedicatedMin, o.SpotMin = 1, 2
		p, err := Pool(o)
		if err != nil {
			t.Fatal(err)
		}
		if p.EnableAutoScale != nil || p.AutoScaleFormula != "" || *p.TargetDedicatedNodes != 1 || *p.TargetLowPriorityNodes != 2 {
			t.Errorf("managed pool = %+v", p)
		}
	})
	t.Run("container image", func(t *testing.T) {
		o := base
		o.ContainerImage = "example.azurecr.io/ffmpeg:7"
		p, err := Pool(o)
		if err != nil {
			t.Fatal(err)
		}
		cc := p.VirtualMachineConfiguration.ContainerConfiguration
		if p.StartTask != nil || cc == nil || cc.ContainerImageNames[0] != o.ContainerImage {
			t.Errorf("container pool = %+v", p)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		if _, err := Pool(PoolOptions{ID: "p"}); err == nil {
			t.Errorf("Pool without vm size succeeded")
		}
	})
}

func TestManagedTargets(t *testing.T) {
	o := PoolOptions{TaskSlotsPerNode: 2, DedicatedMin: 0, DedicatedMax: 1, SpotMin: 0, SpotMax: 3}
	tests := []struct {
		pending, wantD, wantS int
	}{
		{0, 0, 0}, {1, 1, 0}, {2, 1, 0}, {3, 1, 1}, {8, 1, 3}, {100, 1, 3},
	}
	for _, tc := range tests {
		d, s := ManagedTargets(o, tc.pending)
		if d != tc.wantD || s != tc.wantS {
			t.Errorf("ManagedTargets(%d) = %d, %d; want %d, %d", tc.pending, d, s, tc.wantD, tc.wantS)
		}
	}
}
