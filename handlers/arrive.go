package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/customhandler"
	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/request"
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

// BlobCreated handles an Event Grid event: a blob committed to the input
// container is a request (a drop). An .mp4 is recorded as queued and its
// arrival sent, unless the same work is already done (answered at once
// with that output) or in flight (it shares that task); any other blob is
// answered "ignored", and an .mp4 that cannot be transcoded (empty, a ".."
// segment) "rejected". Events that announce no committed blob in the
// input container are not requests and are dropped with a log line. It
// answers 2xx for everything it decided and fails only when the record,
// the arrival or the answer could not be written, so Event Grid retries;
// the request id (from the blob version) makes retries the same request.
func (a *App) BlobCreated(ctx context.Context, req *customhandler.InvokeRequest) (*customhandler.InvokeResponse, error) {
	resp := &customhandler.InvokeResponse{}
	defer a.flushActivity(ctx)
	ev, err := req.EventGrid(bindingEvent)
	if err != nil {
		a.log.Error("blob created: undecodable event ignored", "err", err)
		resp.Logf("ignored: undecodable event: %v", err)
		return resp, nil
	}
	log := a.log.With("event_id", ev.ID)
	v, why := a.droppedVersion(ev)
	if why != "" {
		log.Info("blob created: event ignored", "reason", why, "subject", ev.Subject)
		resp.Logf("ignored event %s: %s", ev.ID, why)
		return resp, nil
	}
	r := a.resolve(arrival.Arrival{Version: v}, "", request.SourceDrop)
	log = log.With("container", v.Container, "blob", v.Blob, "request", r.ID)
	now := a.now().UTC()
	var transition func(*lifecycle.Record) lifecycle.Change
	switch err := (arrival.Arrival{Version: v}).Validate(); {
	case !arrival.HasMP4Extension(v.Blob):
		rej := &results.Rejection{Reason: string(arrival.ReasonBadExtension), MessageID: r.ID, Message: arrival.NotMP4Message}
		transition = func(rec *lifecycle.Record) lifecycle.Change { return rec.Refuse(r, results.StateIgnored, rej, now) }
	case err != nil:
		rej := rejectionOf(err, r.ID, nil)
		transition = func(rec *lifecycle.Record) lifecycle.Change { return rec.Refuse(r, results.StateRejected, rej, now) }
	default:
		r.ContentMD5 = a.contentMD5(ctx, log, v)
		transition = func(rec *lifecycle.Record) lifecycle.Change { return rec.Queue(r, now) }
	}
	ch, err := a.updateStatus(ctx, v.Container, v.Blob, transition)
	if err != nil {
		return nil, err
	}
	if ch.Send {
		if err := a.sendAttempt(ctx, r); err != nil {
			return nil, err
		}
		log.Info("blob created: arrival sent")
		resp.Logf("arrival sent for %s/%s (request %s)", v.Container, v.Blob, r.ID)
	}
	if err := a.publishAll(ctx, ch.Events); err != nil {
		return nil, err
	}
	for _, e := range ch.Events {
		log.Info("blob created: answered", "status", e.Status)
		resp.Logf("%s/%s: %s", v.Container, v.Blob, e.Status)
	}
	return resp, nil
}

// droppedVersion is the blob version an event announces as committed to
// the input container, or why the event is not a request.
func (a *App) droppedVersion(ev customhandler.EventGridEvent) (request.Version, string) {
	if ev.EventType != blobCreatedType {
		return request.Version{}, "event type " + ev.EventType
	}
	var data blobCreatedData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return request.Version{}, "undecodable data: " + err.Error()
	}
	if !committedAPIs[data.API] {
		return request.Version{}, "api " + data.API + " does not commit a blob"
	}
	container, blob, ok := parseSubject(ev.Subject)
	switch {
	case !ok:
		return request.Version{}, "subject is not a blob path"
	case container != a.cfg.InputContainer:
		return request.Version{}, "container " + container + " is not the input container"
	}
	return request.Version{Container: container, Blob: blob, ETag: arrival.NormalizeETag(data.ETag), Size: data.ContentLength}, ""
}

// contentMD5 reads the blob's Content-MD5 (one HEAD request) and returns
// it in arrival form, or "" when there is none (block-list uploads unless
// the client set x-ms-blob-content-md5), the blob has changed since the
// event (its own event follows) or the read failed: without a hash only
// the same version counts as the same content.
func (a *App) contentMD5(ctx context.Context, log *slog.Logger, v request.Version) string {
	props, err := a.d.Blobs.GetProperties(ctx, v.Container, v.Blob)
	if err != nil {
		log.Warn("blob created: cannot read blob properties; arrival sent without content hash", "err", err)
		return ""
	}
	if props.ETag == nil || arrival.NormalizeETag(string(*props.ETag)) != v.ETag {
		log.Info("blob created: blob changed since the event; arrival sent without content hash")
		return ""
	}
	if props.ContentLength != nil && *props.ContentLength != v.Size {
		log.Warn("blob created: blob size differs from the event; arrival sent without content hash",
			"event_size", v.Size, "blob_size", *props.ContentLength)
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
