package executor

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

func TestRunResourceFiles(t *testing.T) {
	bs := newBlobStore(t)
	c := bs.newContainer(t, "inputs")
	putBlob(t, c, "single.txt", []byte("single"))
	putBlob(t, c, "media/a.mp4", []byte("aaa"))
	putBlob(t, c, "media/sub/b.mp4", []byte("bbb"))
	putBlob(t, c, "other/c.txt", []byte("ccc"))

	tests := []struct {
		name      string
		rf        func() ResourceFile
		wantFiles map[string]string      // relative to wd -> content
		wantModes map[string]os.FileMode // relative to wd -> permission bits
	}{
		{
			name: "httpUrl with SAS to a nested filePath, default mode",
			rf: func() ResourceFile {
				return ResourceFile{HTTPURL: blobSAS(t, c, "single.txt"), FilePath: "in/renamed.txt"}
			},
			wantFiles: map[string]string{"in/renamed.txt": "single"},
			wantModes: map[string]os.FileMode{"in/renamed.txt": 0o770},
		},
		{
			name: "httpUrl with explicit fileMode",
			rf: func() ResourceFile {
				return ResourceFile{HTTPURL: blobSAS(t, c, "single.txt"), FilePath: "s.txt", FileMode: "0640"}
			},
			wantFiles: map[string]string{"s.txt": "single"},
			wantModes: map[string]os.FileMode{"s.txt": 0o640},
		},
		{
			name: "storageContainerUrl with prefix keeps the blob directory structure under filePath",
			rf: func() ResourceFile {
				return ResourceFile{StorageContainerURL: containerSAS(t, c, readList), BlobPrefix: "media/", FilePath: "inputs"}
			},
			wantFiles: map[string]string{"inputs/media/a.mp4": "aaa", "inputs/media/sub/b.mp4": "bbb"},
		},
		{
			name: "autoStorageContainerName without filePath downloads the whole container into wd",
			rf:   func() ResourceFile { return ResourceFile{AutoStorageContainerName: containerName(c.URL())} },
			wantFiles: map[string]string{
				"single.txt": "single", "media/a.mp4": "aaa", "media/sub/b.mp4": "bbb", "other/c.txt": "ccc",
			},
		},
		{
			name: "prefix that is a partial file name",
			rf: func() ResourceFile {
				return ResourceFile{AutoStorageContainerName: containerName(c.URL()), BlobPrefix: "oth"}
			},
			wantFiles: map[string]string{"other/c.txt": "ccc"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, logs := newTestRunner(t, bs.storageConfig())
			taskDir := t.TempDir()
			res := r.Run(context.Background(), Spec{
				CommandLine:   "/bin/true",
				Env:           baseEnv(taskDir),
				TaskDir:       taskDir,
				ResourceFiles: []ResourceFile{tc.rf()},
			})
			if res.Failure != nil || exitCode(res) != "0" {
				t.Fatalf("exit %s failure %v", exitCode(res), res.Failure)
			}
			wd := filepath.Join(taskDir, "wd")
			got := map[string]string{}
			filepath.WalkDir(wd, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(wd, p)
					b, _ := os.ReadFile(p)
					got[filepath.ToSlash(rel)] = string(b)
				}
				return nil
			})
			if !reflect.DeepEqual(got, tc.wantFiles) {
				t.Errorf("files in wd = %v, want %v", got, tc.wantFiles)
			}
			for rel, mode := range tc.wantModes {
				st, err := os.Stat(filepath.Join(wd, rel))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != mode {
					t.Errorf("mode of %s = %o, want %o", rel, st.Mode().Perm(), mode)
				}
			}
			assertNoSecrets(t, logs.String(), res, taskDir)
		})
	}
}

// containerName returns the last path segment of a container URL.
func containerName(u string) string {
	u = strings.TrimSuffix(strings.SplitN(u, "?", 2)[0], "/")
	return u[strings.LastIndex(u, "/")+1:]
}

func TestRunResourceFileFailures(t *testing.T) {
	bs := newBlobStore(t)
	c := bs.newContainer(t, "failing")
	putBlob(t, c, "present.txt", []byte("x"))

	tests := []struct {
		name      string
		storage   bool
		rf        func() ResourceFile
		wantCode  string
		wantCat   string
		wantInURL string // a detail value must contain this (the URL without query)
	}{
		{
			name:     "missing blob via httpUrl",
			rf:       func() ResourceFile { return ResourceFile{HTTPURL: blobSAS(t, c, "nope.mp4"), FilePath: "nope.mp4"} },
			wantCode: CodeBlobNotFound, wantCat: CategoryUserError, wantInURL: "/nope.mp4",
		},
		{
			name: "missing container via storageContainerUrl",
			rf: func() ResourceFile {
				return ResourceFile{StorageContainerURL: containerSAS(t, bs.missingContainer(t), readList)}
			},
			wantCode: CodeBlobNotFound, wantCat: CategoryUserError, wantInURL: "/missing-",
		},
		{
			name: "tampered signature is access denied",
			rf: func() ResourceFile {
				u := strings.Replace(blobSAS(t, c, "present.txt"), "sig=", "sig=AAAA", 1)
				return ResourceFile{HTTPURL: u, FilePath: "p.txt"}
			},
			wantCode: CodeBlobAccessDenied, wantCat: CategoryUserError, wantInURL: "/present.txt",
		},
		{
			name: "container SAS without list permission is access denied",
			rf: func() ResourceFile {
				return ResourceFile{StorageContainerURL: containerSAS(t, c, sas.ContainerPermissions{Read: true})}
			},
			wantCode: CodeBlobAccessDenied, wantCat: CategoryUserError, wantInURL: containerName(c.URL()),
		},
		{
			name:     "connection refused is a server error",
			rf:       func() ResourceFile { return ResourceFile{HTTPURL: "http://127.0.0.1:1/c/b?sig=SECRET", FilePath: "b"} },
			wantCode: CodeBlobDownloadMiscError, wantCat: CategoryServerError, wantInURL: "http://127.0.0.1:1/c/b",
		},
		{
			name:     "auto storage not configured",
			rf:       func() ResourceFile { return ResourceFile{AutoStorageContainerName: containerName(c.URL())} },
			wantCode: CodeInvalidResourceFile, wantCat: CategoryUserError,
		},
		{
			name:     "auto storage missing container",
			storage:  true,
			rf:       func() ResourceFile { return ResourceFile{AutoStorageContainerName: "no-such-container"} },
			wantCode: CodeBlobNotFound, wantCat: CategoryUserError, wantInURL: "/no-such-container",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sc *StorageConfig
			if tc.storage {
				sc = bs.storageConfig()
			}
			r, logs := newTestRunner(t, sc)
			taskDir := t.TempDir()
			res := r.Run(context.Background(), Spec{
				CommandLine:   "/bin/touch ran.marker",
				Env:           baseEnv(taskDir),
				TaskDir:       taskDir,
				ResourceFiles: []ResourceFile{tc.rf()},
			})
			if res.ExitCode != nil {
				t.Errorf("exit code = %d, want nil (process must not run)", *res.ExitCode)
			}
			if _, err := os.Stat(filepath.Join(taskDir, "wd", "ran.marker")); err == nil {
				t.Errorf("the command ran despite the resource file failure")
			}
			if res.Failure == nil || res.Failure.Code != tc.wantCode || res.Failure.Category != tc.wantCat {
				t.Fatalf("failure = %+v, want %s/%s", res.Failure, tc.wantCat, tc.wantCode)
			}
			if tc.wantInURL != "" {
				found := false
				for _, d := range res.Failure.Details {
					if strings.Contains(d.Value, tc.wantInURL) {
						found = true
					}
				}
				if !found {
					t.Errorf("details %+v lack a URL containing %q", res.Failure.Details, tc.wantInURL)
				}
			}
			assertNoSecrets(t, logs.String(), res, taskDir)
			if strings.Contains(logs.String()+res.Failure.Message, "SECRET") {
				t.Errorf("query string leaked: %s / %s", logs.String(), res.Failure.Message)
			}
		})
	}
}

func TestRunOutputFileUploadConditions(t *testing.T) {
	bs := newBlobStore(t)
	tests := []struct {
		name     string
		exit     string
		wantCode string
		want     []string
	}{
		{"success uploads tasksuccess and taskcompletion", "0", "", []string{"always/result.txt", "ok/result.txt"}},
		{"failure uploads taskfailure and taskcompletion", "2", CodeFailureExitCode, []string{"always/result.txt", "bad/result.txt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := bs.newContainer(t, "outputs")
			dest := containerSAS(t, c, writeOnly)
			r, logs := newTestRunner(t, nil)
			taskDir := t.TempDir()
			res := r.Run(context.Background(), Spec{
				CommandLine: `/bin/sh -c "echo out > result.txt; exit ` + tc.exit + `"`,
				Env:         baseEnv(taskDir),
				TaskDir:     taskDir,
				OutputFiles: []OutputFile{
					{FilePattern: "result.txt", ContainerURL: dest, Path: "ok/result.txt", UploadCondition: "TaskSuccess"},
					{FilePattern: "result.txt", ContainerURL: dest, Path: "bad/result.txt", UploadCondition: "taskfailure"},
					{FilePattern: "result.txt", ContainerURL: dest, Path: "always/result.txt", UploadCondition: "taskcompletion"},
				},
			})
			if exitCode(res) != tc.exit || failureCode(res) != tc.wantCode {
				t.Fatalf("exit %s failure %v, want exit %s code %q", exitCode(res), res.Failure, tc.exit, tc.wantCode)
			}
			got := listBlobs(t, c)
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("blobs = %q, want %q", got, tc.want)
			}
			if b, ok := getBlob(t, c, "always/result.txt"); !ok || string(b) != "out\n" {
				t.Errorf("always/result.txt = %q (exists %v), want %q", b, ok, "out\n")
			}
			out := readFile(t, filepath.Join(taskDir, "fileuploadout.txt"))
			if !strings.Contains(out, "Uploaded") {
				t.Errorf("fileuploadout.txt lacks upload records: %s", out)
			}
			assertNoSecrets(t, logs.String(), res, taskDir)
		})
	}
}

func TestRunOutputFileToMissingContainer(t *testing.T) {
	bs := newBlobStore(t)
	r, logs := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{
		CommandLine: `/bin/sh -c "echo x > a.txt"`,
		Env:         baseEnv(taskDir),
		TaskDir:     taskDir,
		OutputFiles: []OutputFile{{
			FilePattern: "a.txt", ContainerURL: containerSAS(t, bs.missingContainer(t), writeOnly),
			UploadCondition: "taskcompletion",
		}},
	})
	if exitCode(res) != "0" {
		t.Errorf("exit code = %s, want 0 (the process succeeded)", exitCode(res))
	}
	if res.Failure == nil || res.Failure.Code != CodeFileUploadContainerNotFound || res.Failure.Category != CategoryUserError {
		t.Fatalf("failure = %+v, want usererror/%s", res.Failure, CodeFileUploadContainerNotFound)
	}
	if errLog := readFile(t, filepath.Join(taskDir, "fileuploaderr.txt")); !strings.Contains(errLog, "a.txt") {
		t.Errorf("fileuploaderr.txt does not mention the file: %q", errLog)
	}
	assertNoSecrets(t, logs.String(), res, taskDir)
}

func TestRunOutputFileAccessDenied(t *testing.T) {
	bs := newBlobStore(t)
	c := bs.newContainer(t, "readonly")
	r, logs := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{
		CommandLine: `/bin/sh -c "echo x > a.txt"`,
		Env:         baseEnv(taskDir),
		TaskDir:     taskDir,
		OutputFiles: []OutputFile{{
			FilePattern: "a.txt", ContainerURL: containerSAS(t, c, readList), UploadCondition: "tasksuccess",
		}},
	})
	if res.Failure == nil || res.Failure.Code != CodeFileUploadMiscError {
		t.Fatalf("failure = %+v, want %s", res.Failure, CodeFileUploadMiscError)
	}
	if blobs := listBlobs(t, c); len(blobs) != 0 {
		t.Errorf("blobs = %q, want none", blobs)
	}
	assertNoSecrets(t, logs.String(), res, taskDir)
}

func TestRunOutputFilePatternsAndHeaders(t *testing.T) {
	bs := newBlobStore(t)
	c := bs.newContainer(t, "patterns")
	dest := containerSAS(t, c, writeOnly)
	r, logs := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{
		CommandLine: `/bin/sh -c "mkdir -p out/deep .hidden && echo 1 > out/a.mp3 && echo 2 > out/deep/b.mp3 && echo 3 > .hidden/c.mp3 && echo logged"`,
		Env:         baseEnv(taskDir),
		TaskDir:     taskDir,
		OutputFiles: []OutputFile{
			{FilePattern: "**/*.mp3", ContainerURL: dest, Path: "mp3", UploadCondition: "tasksuccess",
				UploadHeaders: []Header{{Name: "Content-Type", Value: "audio/mpeg"}, {Name: "x-ms-meta-source", Value: "executor"}}},
			{FilePattern: "../std*.txt", ContainerURL: dest, Path: "task-7", UploadCondition: "taskcompletion"},
		},
	})
	if res.Failure != nil {
		t.Fatalf("failure = %+v", res.Failure)
	}
	got := listBlobs(t, c)
	sort.Strings(got)
	want := []string{"mp3/out/a.mp3", "mp3/out/deep/b.mp3", "task-7/stderr.txt", "task-7/stdout.txt"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("blobs = %q, want %q", got, want)
	}
	if b, _ := getBlob(t, c, "task-7/stdout.txt"); string(b) != "logged\n" {
		t.Errorf("stdout blob = %q, want %q", b, "logged\n")
	}
	props, err := c.NewBlobClient("mp3/out/a.mp3").GetProperties(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if props.ContentType == nil || *props.ContentType != "audio/mpeg" {
		t.Errorf("content type = %v, want audio/mpeg", props.ContentType)
	}
	if v := props.Metadata["source"]; v == nil || *v != "executor" {
		if v2 := props.Metadata["Source"]; v2 == nil || *v2 != "executor" {
			t.Errorf("metadata = %v, want source=executor", props.Metadata)
		}
	}
	assertNoSecrets(t, logs.String(), res, taskDir)
}

// TestRunLargeFileRoundTrip moves a file bigger than one upload block through a
// container resource file and an output file, and compares checksums.
func TestRunLargeFileRoundTrip(t *testing.T) {
	bs := newBlobStore(t)
	in := bs.newContainer(t, "bigin")
	out := bs.newContainer(t, "bigout")
	data := make([]byte, 2*uploadBlockSize+12345)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	putBlob(t, in, "big/blob.bin", data)

	r, logs := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{
		CommandLine:   "/bin/cp big/blob.bin copy.bin",
		Env:           baseEnv(taskDir),
		TaskDir:       taskDir,
		ResourceFiles: []ResourceFile{{StorageContainerURL: containerSAS(t, in, readList), BlobPrefix: "big/"}},
		OutputFiles: []OutputFile{{FilePattern: "copy.bin", ContainerURL: containerSAS(t, out, writeOnly),
			UploadCondition: "tasksuccess"}},
	})
	if res.Failure != nil {
		t.Fatalf("failure = %+v", res.Failure)
	}
	got, ok := getBlob(t, out, "copy.bin")
	if !ok {
		t.Fatal("copy.bin not uploaded")
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Errorf("round trip changed the content: got %d bytes, want %d", len(got), len(data))
	}
	assertNoSecrets(t, logs.String(), res, taskDir)
}

// TestRunWallClockStillUploadsFailureOutputs checks that a task killed by
// maxWallClockTime counts as failed for upload conditions.
func TestRunWallClockStillUploadsFailureOutputs(t *testing.T) {
	bs := newBlobStore(t)
	c := bs.newContainer(t, "wallclock")
	dest := containerSAS(t, c, writeOnly)
	r, _ := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{
		CommandLine:      `/bin/sh -c "echo started; sleep 30"`,
		Env:              baseEnv(taskDir),
		TaskDir:          taskDir,
		MaxWallClockTime: 200 * time.Millisecond,
		OutputFiles: []OutputFile{
			{FilePattern: "../stdout.txt", ContainerURL: dest, Path: "failed/stdout.txt", UploadCondition: "taskfailure"},
			{FilePattern: "../stdout.txt", ContainerURL: dest, Path: "ok/stdout.txt", UploadCondition: "tasksuccess"},
		},
	})
	if failureCode(res) != CodeTaskEnded {
		t.Fatalf("failure = %+v, want %s", res.Failure, CodeTaskEnded)
	}
	got := listBlobs(t, c)
	if !reflect.DeepEqual(got, []string{"failed/stdout.txt"}) {
		t.Errorf("blobs = %q, want only failed/stdout.txt", got)
	}
}

func TestOutputFileValidate(t *testing.T) {
	ok := OutputFile{FilePattern: "*.mp3", ContainerURL: "http://h/c?sig=x", UploadCondition: "TaskCompletion"}
	tests := []struct {
		name   string
		mutate func(*OutputFile)
		valid  bool
	}{
		{"valid", func(*OutputFile) {}, true},
		{"empty pattern", func(o *OutputFile) { o.FilePattern = "" }, false},
		{"bad pattern", func(o *OutputFile) { o.FilePattern = "x[" }, false},
		{"missing container", func(o *OutputFile) { o.ContainerURL = "" }, false},
		{"relative container", func(o *OutputFile) { o.ContainerURL = "c?sig=x" }, false},
		{"unknown condition", func(o *OutputFile) { o.UploadCondition = "always" }, false},
		{"empty condition", func(o *OutputFile) { o.UploadCondition = "" }, false},
		{"unnamed header", func(o *OutputFile) { o.UploadHeaders = []Header{{Value: "x"}} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			of := ok
			tc.mutate(&of)
			err := of.Validate()
			if (err == nil) != tc.valid {
				t.Fatalf("Validate() = %v, want valid=%v", err, tc.valid)
			}
			if err != nil && strings.Contains(err.Error(), "sig=") {
				t.Errorf("error leaks the SAS: %v", err)
			}
		})
	}
}

func TestRunInvalidOutputFileFailsAfterRun(t *testing.T) {
	r, _ := newTestRunner(t, nil)
	taskDir := t.TempDir()
	res := r.Run(context.Background(), Spec{
		CommandLine: "/bin/true", Env: baseEnv(taskDir), TaskDir: taskDir,
		OutputFiles: []OutputFile{{FilePattern: "*.mp3", ContainerURL: "http://h/c", UploadCondition: "sometimes"}},
	})
	if exitCode(res) != "0" || failureCode(res) != CodeInvalidOutputFile {
		t.Fatalf("exit %s failure %+v, want exit 0 and %s", exitCode(res), res.Failure, CodeInvalidOutputFile)
	}
}
