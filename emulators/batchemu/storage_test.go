package batchemu

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
)

// azuriteKey is Azurite's well-known devstoreaccount1 key.
const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// TestTaskWithAzurite runs a task whose inputs come from Azurite (an
// auto-storage container and a SAS blob URL) and whose outputs are uploaded
// to a SAS container URL, like the pipeline's transcoding tasks.
func TestTaskWithAzurite(t *testing.T) {
	inst := azuritetest.Start(t)
	ctx := context.Background()
	cred, err := azblob.NewSharedKeyCredential(inst.AccountName, azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.NewClientWithSharedKeyCredential(inst.BlobEndpoint+"/", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, out := svc.NewContainerClient("input"), svc.NewContainerClient("output")
	for _, c := range []*container.Client{in, out} {
		if _, err := c.Create(ctx, nil); err != nil {
			t.Fatalf("create container: %v", err)
		}
	}
	if _, err := in.NewBlockBlobClient("in.txt").UploadBuffer(ctx, []byte("hello"), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	blobURL, err := in.NewBlobClient("in.txt").GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	outURL, err := out.GetSASURL(sas.ContainerPermissions{Create: true, Write: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}

	env := startServer(t, &Options{Storage: &StorageAccount{BlobEndpoint: inst.BlobEndpoint, AccountName: inst.AccountName, AccountKey: azuriteKey}})
	setupJob(t, env, "p", 1, map[string]any{"id": "j", "poolInfo": map[string]any{"poolId": "p"}})
	env.must(http.StatusCreated, "POST", "/jobs/j/tasks", map[string]any{
		"id":          "t",
		"commandLine": `/bin/sh -c "tr a-z A-Z < in.txt > out.txt && cat copy.txt >> out.txt"`,
		"resourceFiles": []any{
			map[string]any{"autoStorageContainerName": "input"},
			map[string]any{"httpUrl": blobURL, "filePath": "copy.txt"},
		},
		"outputFiles": []any{
			map[string]any{"filePattern": "out.txt", "destination": map[string]any{"container": map[string]any{"containerUrl": outURL, "path": "results/out.txt"}},
				"uploadOptions": map[string]any{"uploadCondition": "TaskSuccess"}},
			map[string]any{"filePattern": "../std*.txt", "destination": map[string]any{"container": map[string]any{"containerUrl": outURL, "path": "logs"}},
				"uploadOptions": map[string]any{"uploadCondition": "taskcompletion"}},
		},
	})
	task := env.waitTaskState("j", "t", "completed", 60*time.Second)
	if lookupPath(task, "executionInfo/result") != "success" {
		t.Fatalf("task failed: %v", task["executionInfo"])
	}
	if got := lookupPath(task, "outputFiles").([]any)[0].(map[string]any)["uploadOptions"].(map[string]any)["uploadCondition"]; got != "tasksuccess" {
		t.Errorf("uploadCondition stored as %v, want the lower-case wire value", got)
	}
	for name, want := range map[string]string{"results/out.txt": "HELLOhello", "logs/stdout.txt": ""} {
		resp, err := out.NewBlobClient(name).DownloadStream(ctx, nil)
		if err != nil {
			t.Errorf("download %s: %v", name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
}
