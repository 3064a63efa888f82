package cli

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
)

// TestUploadAll: several files go up at once, each with its Content-MD5
// and an MP4 content type; a large file reports its progress; one bad file
// fails the call without stopping the others.
func TestUploadAll(t *testing.T) {
	az := azuritetest.Start(t)
	blobs, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := blobs.CreateContainer(ctx, "input", nil); err != nil {
		t.Fatal(err)
	}
	progressFrom = 1 << 20
	t.Cleanup(func() { progressFrom = 64 << 20 })
	dir := t.TempDir()
	var ups []pendingUpload
	for i, size := range []int{10, 1000, 5 << 20, 20, 30, 40} {
		p := filepath.Join(dir, fmt.Sprintf("f%d.mp4", i))
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte('a' + i)}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		ups = append(ups, pendingUpload{path: p, blob: fmt.Sprintf("up/f%d.mp4", i), size: int64(size)})
	}
	ups = append(ups, pendingUpload{path: filepath.Join(dir, "missing.mp4"), blob: "up/missing.mp4"})
	var out bytes.Buffer
	err = uploadAll(ctx, &out, blobs, "input", ups)
	if err == nil || !strings.Contains(err.Error(), "missing.mp4") {
		t.Errorf("uploadAll error = %v, want one naming missing.mp4", err)
	}
	for _, u := range ups[:6] {
		data, _ := os.ReadFile(u.path)
		want := md5.Sum(data)
		props, err := blobs.ServiceClient().NewContainerClient("input").NewBlobClient(u.blob).GetProperties(ctx, nil)
		if err != nil {
			t.Errorf("%s: %v", u.blob, err)
			continue
		}
		if !bytes.Equal(props.ContentMD5, want[:]) || props.ContentType == nil || *props.ContentType != MP4ContentType {
			t.Errorf("%s: Content-MD5 %x (want %x), type %v", u.blob, props.ContentMD5, want, props.ContentType)
		}
		if !strings.Contains(out.String(), "-> input/"+u.blob) {
			t.Errorf("no line for %s in:\n%s", u.blob, out.String())
		}
	}
	for i, pct := range []string{"25%", "50%", "75%"} {
		if !strings.Contains(out.String(), "uploading "+ups[2].path+": "+bar(i+1, 4)+" "+pct) {
			t.Errorf("no %s progress line for the large file in:\n%s", pct, out.String())
		}
	}
}
