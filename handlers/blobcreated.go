package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/results"
)

// committedAPIs are the storage operations whose BlobCreated event means a
// complete, committed blob. (PutBlock and CreateFile fire no BlobCreated
// for a complete blob, or describe an empty file still being written.)
var committedAPIs = map[string]bool{
	"PutBlob": true, "PutBlockList": true, "CopyBlob": true, "FlushWithClose": true,
}

const blobCreatedType = "Microsoft.Storage.BlobCreated"

type blobCreatedData struct {
	API           string `json:"api"`
	ETag          string `json:"eTag"`
	ContentLength int64  `json:"contentLength"`
	BlobType      string `json:"blobType"`
	URL           string `json:"url"`
}

// BlobCreated handles an Event Grid event. It answers 2xx for every event
// it decides to ignore (Event Grid would otherwise redeliver for a day) and
// fails only when the arrival could not be sent, so Event Grid retries;
// the message id makes those retries harmless.
func (a *App) BlobCreated(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	ev, err := req.EventGrid(bindingEvent)
	if err != nil {
		a.log.Error("blob created: undecodable event ignored", "err", err)
		resp.Logf("ignored: undecodable event: %v", err)
		return resp, nil
	}
	log := a.log.With("event_id", ev.ID)
	ignore := func(why string) (*customhandler.InvokeResponse, error) {
		log.Info("blob created: event ignored", "reason", why, "subject", ev.Subject)
		resp.Logf("ignored event %s: %s", ev.ID, why)
		return resp, nil
	}
	if ev.EventType != blobCreatedType {
		return ignore("event type " + ev.EventType)
	}
	var data blobCreatedData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return ignore("undecodable data: " + err.Error())
	}
	if !committedAPIs[data.API] {
		return ignore("api " + data.API + " does not commit a blob")
	}
	container, blob, ok := parseSubject(ev.Subject)
	if !ok {
		return ignore("subject is not a blob path")
	}
	if container != a.cfg.InputContainer {
		return ignore("container " + container + " is not the input container")
	}
	if !arrival.HasMP4Extension(blob) {
		return ignore("not an .mp4 blob")
	}
	arr := arrival.Arrival{Container: container, Blob: blob, ETag: arrival.NormalizeETag(data.ETag), Size: data.ContentLength}
	if err := arr.Validate(); err != nil {
		// A committed .mp4 that cannot be transcoded (empty, a ".." in its
		// name): record it so it is not silently lost.
		log.Warn("blob created: blob rejected", "err", err)
		body, _ := arr.Marshal()
		ev := a.rejectionEvent(arr.MessageID(), body, err)
		// The event names the blob: it is known here, unlike for an
		// unparseable upstream message.
		ev.File = &results.File{Container: container, Blob: blob, ETag: arr.ETag, Size: arr.Size}
		if perr := a.publish(ctx, ev); perr != nil {
			return nil, perr
		}
		a.putStatus(ctx, results.FileStatus{Container: container, Blob: blob, ETag: arr.ETag, State: results.StateRejected,
			Rejection: &results.Rejection{Reason: string(err.(*arrival.Error).Reason()), Message: err.Error(), MessageID: arr.MessageID()}, FinishedAt: a.now().UTC()})
		resp.Logf("rejected %s/%s: %v", container, blob, err)
		return resp, nil
	}
	arr.ContentMD5 = a.contentMD5(ctx, log, arr)
	queued := results.FileStatus{Container: container, Blob: blob, ETag: arr.ETag, State: results.StateQueued,
		Content: a.arrivalContent(arr), QueuedAt: a.now().UTC()}
	if arr.ContentMD5 != "" {
		// Skip the arrival if this content is already transcoded or in
		// flight under another version. SubmitTasks checks again
		// atomically; this only saves the message and the write.
		holder, err := a.d.Status.Claim(ctx, queued)
		if err != nil {
			log.Warn("blob created: content check failed; sending the arrival anyway", "err", err)
		} else if holder != nil {
			a.logRepeat(log, "blob created", arr, holder)
			resp.Logf("skipped %s/%s version %s: identical content to version %s (%s)", container, blob, arr.ETag, holder.ETag, holder.State)
			return resp, nil
		}
	}
	msg, err := arrivalMessage(arr)
	if err != nil {
		return nil, err
	}
	if err := a.d.Arrivals.SendMessage(ctx, msg, nil); err != nil {
		return nil, fmt.Errorf("send arrival for %s/%s: %w", container, blob, err)
	}
	if arr.ContentMD5 == "" {
		a.putStatus(ctx, queued)
	}
	log.Info("blob created: arrival sent", "container", container, "blob", blob, "message_id", arr.MessageID(), "content_md5", arr.ContentMD5)
	resp.Logf("arrival sent for %s/%s (message %s)", container, blob, arr.MessageID())
	return resp, nil
}

// contentMD5 reads the blob's Content-MD5 (one HEAD request) and returns
// it in arrival form, or "" when there is none (block-list uploads unless
// the client set x-ms-blob-content-md5), the blob has changed since the
// event (its own event follows) or the read failed: without a hash the
// arrival is transcoded like any new version.
func (a *App) contentMD5(ctx context.Context, log *slog.Logger, arr arrival.Arrival) string {
	props, err := a.d.Blobs.GetProperties(ctx, arr.Container, arr.Blob)
	if err != nil {
		log.Warn("blob created: cannot read blob properties; arrival sent without content hash", "blob", arr.Blob, "err", err)
		return ""
	}
	if props.ETag == nil || arrival.NormalizeETag(string(*props.ETag)) != arr.ETag {
		log.Info("blob created: blob changed since the event; arrival sent without content hash", "blob", arr.Blob)
		return ""
	}
	if props.ContentLength != nil && *props.ContentLength != arr.Size {
		log.Warn("blob created: blob size differs from the event; arrival sent without content hash", "blob", arr.Blob,
			"event_size", arr.Size, "blob_size", *props.ContentLength)
		return ""
	}
	return arrival.EncodeContentMD5(props.ContentMD5)
}

// parseSubject splits "/blobServices/default/containers/{c}/blobs/{name}".
// The name is taken verbatim (subjects carry it unescaped, slashes
// included).
func parseSubject(subject string) (container, blob string, ok bool) {
	const prefix = "/blobServices/default/containers/"
	rest, found := strings.CutPrefix(subject, prefix)
	if !found {
		return "", "", false
	}
	container, blob, found = strings.Cut(rest, "/blobs/")
	if !found || container == "" || blob == "" {
		return "", "", false
	}
	return container, blob, true
}
