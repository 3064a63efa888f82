package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/ffbatch/ffbatch/internal/arrival"
)

// TestReuploadIdenticalContent: uploading the same bytes again (a new ETag
// but identical content) is a second request: it gets its own answer, a
// success that reuses the first MP3, with no second task and no second
// MP3.
func TestReuploadIdenticalContent(t *testing.T) {
	p := startPipeline(t, nil)
	const blob = "same.mp4"
	data := sample(t, "tone2s.mp4")
	etag := p.upload(blob, data)
	p.waitDone(map[string]string{blob: etag})
	p.waitEvents(map[string]int{blob: 1})
	first := p.outputs()["same.mp3"]
	if etag2 := p.upload(blob, data); etag2 == etag {
		t.Fatalf("re-upload kept etag %s; the test needs a new version", etag)
	}
	evs := p.waitEvents(map[string]int{blob: 2})[blob]
	settle()
	evs = p.waitEvents(map[string]int{blob: 2})[blob]
	if len(evs) != 2 || evs[1].Reused == nil || evs[1].Reused.Request != evs[0].Request.ID || evs[1].Output == nil || evs[1].Output.Blob != "same.mp3" {
		t.Errorf("identical re-upload: %s; want two answers, the second reusing the first's MP3", summarize(evs))
	}
	if got := p.outputs()["same.mp3"]; got != first {
		t.Errorf("identical re-upload wrote the MP3 again (etag %s -> %s)", first, got)
	}
}

// uploadBlocks uploads data as a block list (two Put Blocks and a Put
// Block List, as large-file uploaders do), setting x-ms-blob-content-md5
// when withMD5, and returns the ETag. (azblob's upload helpers send one
// Put Blob for a file this small.)
func (p *pipeline) uploadBlocks(name string, data []byte, withMD5 bool) string {
	p.t.Helper()
	bb := p.blobs.ServiceClient().NewContainerClient(p.ep.InputContainer).NewBlockBlobClient(name)
	half := len(data) / 2
	var ids []string
	for i, part := range [][]byte{data[:half], data[half:]} {
		id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "block-%04d", i))
		if _, err := bb.StageBlock(p.ctx(), id, streaming.NopCloser(bytes.NewReader(part)), nil); err != nil {
			p.t.Fatalf("stage block %d of %q: %v", i, name, err)
		}
		ids = append(ids, id)
	}
	var opts blockblob.CommitBlockListOptions
	if withMD5 {
		sum := md5.Sum(data)
		opts.HTTPHeaders = &blob.HTTPHeaders{BlobContentMD5: sum[:]}
	}
	resp, err := bb.CommitBlockList(p.ctx(), ids, &opts)
	if err != nil {
		p.t.Fatalf("commit block list of %q: %v", name, err)
	}
	return arrival.NormalizeETag(string(*resp.ETag))
}

// TestReuploadBlockList: a block-list upload has a Content-MD5 only if the
// uploader sets one. With it, an identical re-upload is skipped; without
// it, the re-upload is transcoded again (the documented fallback). Either
// way each upload is a request with its own answer.
func TestReuploadBlockList(t *testing.T) {
	p := startPipeline(t, nil)
	data := sample(t, "tone2s.mp4")
	const withMD5, without = "blocks/md5.mp4", "blocks/nomd5.mp4"
	etags := map[string]string{withMD5: p.uploadBlocks(withMD5, data, true), without: p.uploadBlocks(without, data, false)}
	p.waitDone(etags)
	p.waitEvents(map[string]int{withMD5: 1, without: 1})
	first := p.outputs()
	etags[without] = p.uploadBlocks(without, data, false)
	p.uploadBlocks(withMD5, data, true)
	p.waitDone(map[string]string{without: etags[without]})
	settle()
	by := p.waitEvents(map[string]int{withMD5: 2, without: 2})
	if evs := by[withMD5]; len(evs) != 2 || evs[1].Reused == nil {
		t.Errorf("block list with content MD5, identical re-upload: %s; want two answers, the second reused", summarize(evs))
	}
	if evs := by[without]; len(evs) != 2 || evs[1].Reused != nil {
		t.Errorf("block list without content MD5, identical re-upload: %d result events, want 2: %s", len(evs), summarize(evs))
	}
	now := p.outputs()
	if now["blocks/md5.mp3"] != first["blocks/md5.mp3"] {
		t.Errorf("block list with content MD5: the MP3 was written again")
	}
	if now["blocks/nomd5.mp3"] == first["blocks/nomd5.mp3"] {
		t.Errorf("block list without content MD5: the re-upload was not transcoded (MP3 etag unchanged)")
	}
}
