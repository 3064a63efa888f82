package lifecycle

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/internal/request"
	"github.com/ffbatch/ffbatch/internal/results"
)

// failedRecord is a record whose current request failed in ffmpeg.
func failedRecord(blob string) *Record {
	exit := int32(1)
	r := &Record{Container: "input", Blob: blob, UpdatedAt: t0.Add(time.Minute)}
	r.Requests = []Entry{{
		Request: req("r-1", func(r *request.Request) { r.Blob, r.Size, r.Output = blob, 1234, "out/x.mp3" }),
		State:   results.StateFailed, TaskID: "t-1", Retries: 2, Requeues: 1,
		Failure: &results.Failure{Category: results.CategoryFFmpeg, Code: "FailureExitCode", ExitCode: &exit,
			Message: "The task process exited\nwith an unexpected exit code", Stderr: "input.mp4: Invalid data found when processing input"},
		QueuedAt: t0, SubmittedAt: t0.Add(time.Second), StartedAt: t0.Add(2 * time.Second), FinishedAt: t0.Add(3 * time.Second), AnsweredAt: t0.Add(4 * time.Second),
	}}
	return r
}

func TestRowMetadataRoundTrip(t *testing.T) {
	succeeded := &Record{Container: "input", Blob: "shows/ép 1.mp4", UpdatedAt: t0}
	succeeded.Requests = []Entry{{
		Request: req("r-2", func(r *request.Request) { r.Blob = "shows/ép 1.mp4"; r.Attempt = 1 }), State: results.StateSucceeded,
		MP3: &results.Output{Blob: "shows/ép 1.mp3"}, MP3Size: 4096, AudioMillis: 5020, Reused: &results.Reuse{Request: "r-1"},
		QueuedAt: t0, AnsweredAt: t0.Add(time.Second),
	}}
	tests := []struct {
		name string
		rec  *Record
	}{
		{"failed", failedRecord("broken.mp4")},
		{"succeeded, reused, unicode", succeeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := RowOf(tc.rec)
			md := metadata(tc.rec)
			for k, v := range md {
				if strings.IndexFunc(*v, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
					t.Errorf("metadata %s = %q is not printable ASCII", k, *v)
				}
			}
			got := rowFromListing(RecordName(tc.rec.Container, tc.rec.Blob), md, tc.rec.UpdatedAt)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("row from metadata:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	if r, _ := RowOf(failedRecord("x.mp4")); r.Reason != "ffmpeg FailureExitCode exit 1: The task process exited with an unexpected exit code" {
		t.Errorf("reason = %q", r.Reason)
	}
}

// TestMetadataBudget: names of 1,000 four-byte characters escape to
// 12 KiB each; the metadata stays within Azure's 8 KiB and the row says
// the names were cut.
func TestMetadataBudget(t *testing.T) {
	blob := strings.Repeat("😀", 1000) + ".mp4"
	rec := failedRecord(blob)
	rec.Requests[0].Output = strings.Repeat("😀", 1000) + ".mp3"
	rec.Requests[0].Failure.Stderr = strings.Repeat("x", 4000)
	md := metadata(rec)
	if n := metadataSize(md); n > maxMetadataBytes {
		t.Fatalf("metadata is %d bytes, over %d", n, maxMetadataBytes)
	}
	row := rowFromListing(RecordName("input", blob), md, t0)
	if !row.BlobCut || !strings.HasPrefix(blob, row.Blob) || row.Blob == "" {
		t.Errorf("row blob = %.30q (cut %v), want a cut prefix of the name", row.Blob, row.BlobCut)
	}
	if !row.OutputCut || !strings.HasPrefix(rec.Requests[0].Output, row.Output) {
		t.Errorf("row output = %.30q (cut %v), want a cut prefix", row.Output, row.OutputCut)
	}
	if row.State != results.StateFailed || row.TaskID != "t-1" {
		t.Errorf("row lost its summary: %+v", row)
	}
}
