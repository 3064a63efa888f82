package handlers

import (
	"context"
	"encoding/json"
	"fmt"
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
		if perr := a.publish(ctx, a.rejectionEvent(arr.MessageID(), body, err)); perr != nil {
			return nil, perr
		}
		a.putStatus(ctx, results.FileStatus{Container: container, Blob: blob, ETag: arr.ETag, State: results.StateRejected,
			Rejection: &results.Rejection{Reason: string(err.(*arrival.Error).Reason()), Message: err.Error(), MessageID: arr.MessageID()}, FinishedAt: a.now().UTC()})
		resp.Logf("rejected %s/%s: %v", container, blob, err)
		return resp, nil
	}
	msg, err := arrivalMessage(arr)
	if err != nil {
		return nil, err
	}
	if err := a.d.Arrivals.SendMessage(ctx, msg, nil); err != nil {
		return nil, fmt.Errorf("send arrival for %s/%s: %w", container, blob, err)
	}
	a.putStatus(ctx, results.FileStatus{Container: container, Blob: blob, ETag: arr.ETag, State: results.StateQueued, QueuedAt: a.now().UTC()})
	log.Info("blob created: arrival sent", "container", container, "blob", blob, "message_id", arr.MessageID())
	resp.Logf("arrival sent for %s/%s (message %s)", container, blob, arr.MessageID())
	return resp, nil
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
