package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/google/uuid"

	"github.com/ffbatch/ffbatch/internal/azurite"
)

// EventGridBlobSource stands in for an Event Grid subscription on a storage
// account: funchost watches Container and delivers
// Microsoft.Storage.BlobCreated events to Function, for the blobs whose
// names start with Prefix and end with Suffix (the subscription's
// subjectBeginsWith and subjectEndsWith filters, which Event Grid applies
// before delivery: a blob they leave out never reaches the function).
type EventGridBlobSource struct {
	// Function is the eventGridTrigger function to invoke.
	Function string
	// Connection names the app setting with the storage connection string
	// ("UseDevelopmentStorage=true" works), or the prefix of an identity
	// connection (<Connection>__blobServiceUri or __accountName).
	// Default: AzureWebJobsStorage.
	Connection string
	// Container is the blob container to watch; %Setting% is expanded.
	Container string
	// Prefix and Suffix filter the blob names; %Setting% is expanded in
	// both. The watcher lists only the names under Prefix.
	Prefix, Suffix string
}

// matches reports whether the source's filters let the blob name through.
func (s EventGridBlobSource) matches(name string) bool {
	return strings.HasPrefix(name, s.Prefix) && strings.HasSuffix(name, s.Suffix)
}

// ParseEventGridBlobSources parses "Function=[Connection:]container[/filter]"
// entries separated by ';' or ',', the format of --eventgrid-blob and the
// FUNCHOST_EVENTGRID_BLOBS setting. The filter is the blob-name prefix, or
// "prefix*suffix" for names that start with prefix and end with suffix
// (so a prefix cannot contain '*'): "output/logs/*/stderr.txt" is
// subjectBeginsWith ".../containers/output/blobs/logs/" with
// subjectEndsWith "/stderr.txt".
func ParseEventGridBlobSources(s string) ([]EventGridBlobSource, error) {
	var out []EventGridBlobSource
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fn, target, ok := strings.Cut(part, "=")
		if !ok || fn == "" || target == "" {
			return nil, fmt.Errorf("event grid blob source %q: want Function=[Connection:]container", part)
		}
		src := EventGridBlobSource{Function: strings.TrimSpace(fn), Container: strings.TrimSpace(target)}
		if conn, c, ok := strings.Cut(target, ":"); ok {
			src.Connection, src.Container = strings.TrimSpace(conn), strings.TrimSpace(c)
		}
		if c, filter, ok := strings.Cut(src.Container, "/"); ok {
			src.Container = c
			src.Prefix, src.Suffix, _ = strings.Cut(filter, "*")
			if strings.Contains(src.Suffix, "*") {
				return nil, fmt.Errorf("event grid blob source %q: filter %q: want prefix or prefix*suffix, with one '*'", part, filter)
			}
		}
		if src.Container == "" {
			return nil, fmt.Errorf("event grid blob source %q: empty container", part)
		}
		out = append(out, src)
	}
	return out, nil
}

// devStorage is what UseDevelopmentStorage=true means: Azurite's
// well-known public development account on the default port.
var devStorage = "DefaultEndpointsProtocol=http;AccountName=" + azurite.AccountName + ";" +
	"AccountKey=" + azurite.AccountKey + ";" +
	"BlobEndpoint=http://127.0.0.1:10000/" + azurite.AccountName + ";"

// containerClient builds a client for the source's container from the app
// settings, as the storage extension resolves a "connection".
func containerClient(s appSettings, src EventGridBlobSource) (*container.Client, error) {
	conn := src.Connection
	if conn == "" {
		conn = "AzureWebJobsStorage"
	}
	cs, ok := s.lookup(conn)
	if !ok || cs == "" {
		cs, ok = s.lookup("AzureWebJobs" + conn)
	}
	if ok && cs != "" {
		if strings.EqualFold(strings.TrimRight(strings.TrimSpace(cs), ";"), "UseDevelopmentStorage=true") {
			cs = devStorage
		}
		c, err := container.NewClientFromConnectionString(cs, src.Container, nil)
		if err != nil {
			return nil, fmt.Errorf("storage connection %s: invalid connection string: %w", conn, err)
		}
		return c, nil
	}
	serviceURL, _ := s.lookup(conn + "__blobServiceUri")
	if serviceURL == "" {
		if acct, ok := s.lookup(conn + "__accountName"); ok && acct != "" {
			serviceURL = "https://" + acct + ".blob.core.windows.net"
		}
	}
	if serviceURL == "" {
		return nil, fmt.Errorf("storage connection %s: no app setting %s (connection string) nor %s__blobServiceUri / %s__accountName", conn, conn, conn, conn)
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("storage connection %s: credential: %w", conn, err)
	}
	c, err := container.NewClient(strings.TrimRight(serviceURL, "/")+"/"+url.PathEscape(src.Container), cred, nil)
	if err != nil {
		return nil, fmt.Errorf("storage connection %s: %w", conn, err)
	}
	return c, nil
}

// accountName reads the storage account from a container URL: the first
// path segment for emulator (IP or localhost) URLs, else the first host label.
func accountName(containerURL string) string {
	u, err := url.Parse(containerURL)
	if err != nil {
		return "unknown"
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil || host == "localhost" {
		seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		return seg
	}
	label, _, _ := strings.Cut(host, ".")
	return label
}

// blobCreatedEvent is an Event Grid schema event for Microsoft.Storage.BlobCreated.
type blobCreatedEvent struct {
	Topic           string          `json:"topic"`
	Subject         string          `json:"subject"`
	EventType       string          `json:"eventType"`
	EventTime       string          `json:"eventTime"`
	ID              string          `json:"id"`
	Data            blobCreatedData `json:"data"`
	DataVersion     string          `json:"dataVersion"`
	MetadataVersion string          `json:"metadataVersion"`
}

type blobCreatedData struct {
	API                string            `json:"api"`
	ClientRequestID    string            `json:"clientRequestId"`
	RequestID          string            `json:"requestId"`
	ETag               string            `json:"eTag"`
	ContentType        string            `json:"contentType"`
	ContentLength      int64             `json:"contentLength"`
	BlobType           string            `json:"blobType"`
	URL                string            `json:"url"`
	Sequencer          string            `json:"sequencer"`
	StorageDiagnostics map[string]string `json:"storageDiagnostics"`
}

// localSubscription is the subscription id funchost puts in event topics.
const localSubscription = "00000000-0000-0000-0000-000000000000"

// eventMap turns an event into the generic map deliverEvent sends.
func eventMap(ev blobCreatedEvent) (map[string]any, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// stateFlushEvery is the least time between two writes of the state file
// for deliveries (a poisoning is written at once).
const stateFlushEvery = time.Second

// eventGridState remembers which blob versions were delivered (or
// poisoned) so that a restart does not replay them. A delivery is recorded
// in memory and written with the others at the end of a scan at most once
// per stateFlushEvery, and on shutdown (flush): the file is a whole-state
// snapshot, so writing it per event would cost O(files) per event. Event
// Grid is at-least-once, and so is this: after a kill, the versions
// delivered since the last write (at most stateFlushEvery plus one poll)
// are delivered again, which the functions answer as the same request.
type eventGridState struct {
	path       string
	poisonPath string

	mu      sync.Mutex // guards file, dirty, written and writes to path and poisonPath
	file    eventGridStateFile
	dirty   bool      // file has changes not yet written
	written time.Time // when path was last written
	writes  int       // writes of path, for tests
}

type eventGridStateFile struct {
	Sequencer uint64            `json:"sequencer"`
	Delivered map[string]string `json:"delivered"` // function/container/blob -> ETag
	Poisoned  map[string]string `json:"poisoned"`
}

func loadEventGridState(dir string) (*eventGridState, error) {
	s := &eventGridState{
		path:       filepath.Join(dir, "eventgrid", "state.json"),
		poisonPath: filepath.Join(dir, "eventgrid", "poison.jsonl"),
		file:       eventGridStateFile{Delivered: map[string]string{}, Poisoned: map[string]string{}},
	}
	raw, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read event grid state: %w", err)
	}
	if err := json.Unmarshal(raw, &s.file); err != nil {
		return nil, fmt.Errorf("parse event grid state %s: %w", s.path, err)
	}
	if s.file.Delivered == nil {
		s.file.Delivered = map[string]string{}
	}
	if s.file.Poisoned == nil {
		s.file.Poisoned = map[string]string{}
	}
	return s, nil
}

// settled reports whether this version of the blob was delivered or poisoned.
func (s *eventGridState) settled(key, etag string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Delivered[key] == etag || s.file.Poisoned[key] == etag
}

func (s *eventGridState) nextSequencer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file.Sequencer++
	return fmt.Sprintf("%032x", s.file.Sequencer)
}

func (s *eventGridState) markDelivered(key, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file.Delivered[key] = etag
	delete(s.file.Poisoned, key)
	s.dirty = true
	return nil
}

// flush writes the state file when it has changes and, unless force, the
// last write is at least stateFlushEvery before now.
func (s *eventGridState) flush(now time.Time, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty || (!force && now.Sub(s.written) < stateFlushEvery) {
		return nil
	}
	return s.writeLocked(now)
}

// writeLocked writes the state file; s.mu is held.
func (s *eventGridState) writeLocked(now time.Time) error {
	if err := writeJSONFile(s.path, s.file); err != nil {
		return err
	}
	s.dirty, s.written = false, now
	s.writes++
	return nil
}

// poisonRecord is one line of the poison file.
type poisonRecord struct {
	Time      string         `json:"time"`
	Function  string         `json:"function"`
	Attempts  int            `json:"attempts"`
	LastError string         `json:"lastError"`
	Event     map[string]any `json:"event"`
}

func (s *eventGridState) markPoisoned(key, etag string, rec poisonRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file.Poisoned[key] = etag
	line, err := marshalJSON(rec)
	if err != nil {
		return fmt.Errorf("encode poison record: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.poisonPath), 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	f, err := os.OpenFile(s.poisonPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open poison file: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write poison file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write poison file: %w", err)
	}
	return s.writeLocked(time.Now())
}

// prune forgets blobs under prefix that no longer exist.
func (s *eventGridState) prune(prefix string, seen map[string]bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, m := range []map[string]string{s.file.Delivered, s.file.Poisoned} {
		for k := range m {
			if strings.HasPrefix(k, prefix) && !seen[k] {
				delete(m, k)
				changed = true
			}
		}
	}
	s.dirty = s.dirty || changed
	return nil
}

// blobWatcher polls one container for one function.
type blobWatcher struct {
	h       *Host
	fn      *function
	src     EventGridBlobSource
	client  *container.Client
	account string
	log     *slog.Logger
	sem     chan struct{} // bounds concurrent deliveries (shared per host)
	lister  *blobLister   // set by run

	mu       sync.Mutex // guards inflight
	inflight map[string]bool
	listing  time.Duration // time in List Blobs requests of the current scan (run's goroutine only)
}

// pollLoad bounds the share of time a watcher spends listing: the next
// poll waits at least pollLoad times as long as the last scan's listing
// requests took. A
// listing grows with the container (every input, every MP3 and log), and
// the storage service it loads is the one the tasks and functions use;
// with a small container the poll interval rules.
const pollLoad = 4

func (w *blobWatcher) run(ctx context.Context) {
	w.log.Info("watching container for BlobCreated events", slog.String("container", w.src.Container))
	w.lister = newBlobLister(w.client, w.log.With(slog.String("container", w.src.Container)))
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	lastErr := ""
	for {
		w.listing = 0
		err := w.scan(ctx)
		t.Reset(max(w.h.opts.BlobPollInterval, pollLoad*w.listing))
		// Log a failing listing once per distinct error, not every poll.
		switch {
		case err != nil && ctx.Err() == nil && errorKey(err) != lastErr:
			lastErr = errorKey(err)
			w.log.Warn("list blobs failed; retrying every poll", slog.String("container", w.src.Container), slog.Any("error", err))
		case err == nil && lastErr != "":
			lastErr = ""
			w.log.Info("list blobs recovered", slog.String("container", w.src.Container))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *blobWatcher) key(name string) string {
	return w.fn.Name + "/" + w.src.Container + "/" + name
}

// scan lists committed blobs (list-blobs returns no uncommitted ones, and
// blobLister skips past names the listing cannot return) and starts a
// delivery for each version not yet settled.
func (w *blobWatcher) scan(ctx context.Context) error {
	seen := map[string]bool{}
	err := w.lister.list(ctx, w.src.Prefix, func(item *container.BlobItem) error {
		if item.Name == nil || item.Properties == nil || item.Properties.ETag == nil || !w.src.matches(*item.Name) {
			return nil
		}
		key := w.key(*item.Name)
		seen[key] = true
		etag := strings.Trim(string(*item.Properties.ETag), `"`)
		if w.h.egState.settled(key, etag) {
			return nil
		}
		w.mu.Lock()
		busy := w.inflight[key+"@"+etag]
		if !busy {
			w.inflight[key+"@"+etag] = true
		}
		w.mu.Unlock()
		if busy {
			return nil
		}
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.h.wg.Add(1)
		go func() {
			defer w.h.wg.Done()
			defer func() { <-w.sem }()
			defer func() {
				w.mu.Lock()
				delete(w.inflight, key+"@"+etag)
				w.mu.Unlock()
			}()
			w.deliver(ctx, item, key, etag)
		}()
		return nil
	})
	w.listing += w.lister.took
	if err != nil {
		return err
	}
	if err := w.h.egState.prune(w.fn.Name+"/"+w.src.Container+"/", seen); err != nil {
		return err
	}
	if err := w.h.egState.flush(time.Now(), false); err != nil { // not a listing error; written again next poll
		w.log.Error("record delivered events", slog.Any("error", err))
	}
	return nil
}

// event builds the BlobCreated event for a listed blob.
func (w *blobWatcher) event(ctx context.Context, item *container.BlobItem, etag string) blobCreatedEvent {
	p := item.Properties
	name := *item.Name
	blobType := "BlockBlob"
	if p.BlobType != nil {
		blobType = string(*p.BlobType)
	}
	api := "PutBlob"
	if blobType == string(blob.BlobTypeBlockBlob) {
		bc := w.client.NewBlockBlobClient(name)
		if bl, err := bc.GetBlockList(ctx, blockblob.BlockListTypeCommitted, nil); err == nil && len(bl.CommittedBlocks) > 0 {
			api = "PutBlockList"
		}
	}
	lastModified := w.h.now()
	if p.LastModified != nil {
		lastModified = *p.LastModified
	}
	return blobCreatedEvent{
		Topic:     fmt.Sprintf("/subscriptions/%s/resourceGroups/funchost-local/providers/Microsoft.Storage/storageAccounts/%s", localSubscription, w.account),
		Subject:   "/blobServices/default/containers/" + w.src.Container + "/blobs/" + name,
		EventType: "Microsoft.Storage.BlobCreated",
		EventTime: netUTC(lastModified),
		ID:        uuid.NewString(),
		Data: blobCreatedData{
			API:                api,
			ClientRequestID:    uuid.NewString(),
			RequestID:          uuid.NewString(),
			ETag:               etag,
			ContentType:        deref(p.ContentType),
			ContentLength:      deref(p.ContentLength),
			BlobType:           blobType,
			URL:                w.client.NewBlobClient(name).URL(),
			Sequencer:          w.h.egState.nextSequencer(),
			StorageDiagnostics: map[string]string{"batchId": uuid.NewString()},
		},
		DataVersion:     "",
		MetadataVersion: "1",
	}
}

// deliver sends the event, retrying with exponential backoff, and records
// it as poison after the configured number of attempts.
func (w *blobWatcher) deliver(ctx context.Context, item *container.BlobItem, key, etag string) {
	ev, err := eventMap(w.event(ctx, item, etag))
	if err != nil {
		w.log.Error("encode event", slog.Any("error", err))
		return
	}
	log := w.log.With(slog.String("blob", *item.Name), slog.String("eTag", etag), slog.Any("eventId", ev["id"]))
	delay := w.h.opts.EventGridRetryDelay
	maxAttempts := w.h.cfg.PoisonThreshold
	if w.h.opts.EventGridMaxAttempts > 0 {
		maxAttempts = w.h.opts.EventGridMaxAttempts
	}
	var lastErr error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		lastErr = w.h.deliverEvent(ctx, w.fn, ev, "EventGrid")
		if lastErr == nil {
			if err := w.h.egState.markDelivered(key, etag); err != nil {
				log.Error("record delivered event", slog.Any("error", err))
			}
			return
		}
		if ctx.Err() != nil {
			return // not settled: delivered again after a restart
		}
		if attempt == maxAttempts {
			break
		}
		log.Warn("event delivery failed; retrying", slog.Int("attempt", attempt), slog.Duration("after", delay), slog.Any("error", lastErr))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Minute)
	}
	rec := poisonRecord{Time: netUTC(w.h.now()), Function: w.fn.Name, Attempts: maxAttempts, LastError: lastErr.Error(), Event: ev}
	if err := w.h.egState.markPoisoned(key, etag, rec); err != nil {
		log.Error("record poison event", slog.Any("error", err))
	}
	log.Error("event delivery failed permanently; recorded as poison", slog.Int("attempts", maxAttempts), slog.String("poisonFile", w.h.egState.poisonPath), slog.Any("error", lastErr))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// errorKey identifies an error for log deduplication: storage errors by
// status and code (their text carries per-request ids), others by text.
func errorKey(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode)
	}
	return err.Error()
}
