package funchost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// blobLister lists a container's committed blobs for the blob watcher and
// keeps going past blobs the server cannot list. Azurite answers List
// Blobs with 500 when a name in the page (or the prefix or marker it
// echoes) holds a character XML cannot carry: a control character such as
// \x01 or ESC. One such blob would otherwise hide every other blob from
// the watcher.
//
// When a listing under a prefix fails with a server error, the lister
// lists the prefix's continuations instead: the prefix followed by each
// character XML can carry (\t, \n, \r, ASCII from space to DEL), the
// blob named exactly the prefix (a HEAD request), and the names whose next
// character is beyond ASCII (one listing after prefix+DEL+U+10FFFF). What
// none of them covers is a name that continues the prefix with a control
// character: that blob is skipped and reported once. A failure among the
// non-ASCII continuations is not narrowed further: the scan fails as
// before.
//
// Listing requests are sent without retries: a server error is handled
// here (or by the next poll), not by waiting out the retry policy.
type blobLister struct {
	client *container.Client
	log    *slog.Logger // with the container

	// took is the time the last list call spent in requests (one
	// goroutine calls list).
	took time.Duration

	mu sync.Mutex // guards reported
	// reported holds the prefixes whose unlistable continuations were
	// logged.
	reported map[string]bool
}

func newBlobLister(client *container.Client, log *slog.Logger) *blobLister {
	return &blobLister{client: client, log: log, reported: map[string]bool{}}
}

// maxPrefixDepth bounds the narrowing (Azure names have at most 1,024
// characters).
const maxPrefixDepth = 1024

// continuations are the characters the narrowing appends to a prefix: the
// ones XML 1.0 can carry below U+0080, in order.
var continuations = func() []rune {
	rs := []rune{'\t', '\n', '\r'}
	for r := rune(' '); r <= 0x7f; r++ {
		rs = append(rs, r)
	}
	return rs
}()

// beyondASCII follows a prefix in the marker that lists the names whose
// next character is beyond ASCII.
const beyondASCII = "\x7f\U0010FFFF"

// list calls visit for every committed blob under prefix the listing can
// return, at least once each.
func (l *blobLister) list(ctx context.Context, prefix string, visit func(*container.BlobItem) error) error {
	ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	l.took = 0
	_, err := l.walk(ctx, prefix, "", visit)
	return err
}

// walk lists the blobs with prefix after marker, narrowing the prefix
// where the listing fails. It reports whether it had to narrow.
func (l *blobLister) walk(ctx context.Context, prefix, marker string, visit func(*container.BlobItem) error) (bool, error) {
	err := l.listAll(ctx, prefix, &marker, visit)
	if err == nil || !serverError(err) {
		return false, err
	}
	if len([]rune(prefix)) >= maxPrefixDepth {
		return true, fmt.Errorf("list blobs: names starting %q cannot be listed: %w", prefix, err)
	}
	if prefix != "" && prefix > marker {
		if item, err := l.item(ctx, prefix); err == nil {
			if err := visit(item); err != nil {
				return true, err
			}
		}
	}
	deeper := false
	for _, r := range continuations {
		narrowed, err := l.walk(ctx, prefix+string(r), marker, visit)
		if err != nil {
			return true, err
		}
		deeper = deeper || narrowed
	}
	tail := max(marker, prefix+beyondASCII)
	if err := l.listAll(ctx, prefix, &tail, visit); err != nil {
		return true, fmt.Errorf("list blobs: names starting %q followed by a non-ASCII character: %w", prefix, err)
	}
	if !deeper {
		l.report(prefix)
	}
	return true, nil
}

// listAll lists every page of the blobs with prefix after *marker,
// advancing *marker past each page it visited.
func (l *blobLister) listAll(ctx context.Context, prefix string, marker *string, visit func(*container.BlobItem) error) error {
	for {
		opts := &container.ListBlobsFlatOptions{}
		if prefix != "" {
			opts.Prefix = &prefix
		}
		if *marker != "" {
			opts.Marker = to.Ptr(*marker)
		}
		began := time.Now()
		page, err := l.client.NewListBlobsFlatPager(opts).NextPage(ctx)
		l.took += time.Since(began)
		if err != nil {
			return err
		}
		for _, item := range page.Segment.BlobItems {
			if err := visit(item); err != nil {
				return err
			}
		}
		if page.NextMarker == nil || *page.NextMarker == "" {
			return nil
		}
		*marker = *page.NextMarker
	}
}

// report logs, once per prefix, that a blob whose name continues prefix
// with a control character cannot be listed.
func (l *blobLister) report(prefix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reported[prefix] {
		return
	}
	l.reported[prefix] = true
	l.log.Warn("a blob cannot be listed: its name has a control character, which Azurite's List Blobs cannot return; skipped, no BlobCreated event for it",
		slog.String("blob_prefix", fmt.Sprintf("%q", prefix)))
}

// serverError reports whether err is a 5xx answer from the service.
func serverError(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode >= http.StatusInternalServerError
}

// item builds the listing item of blob name from its properties.
func (l *blobLister) item(ctx context.Context, name string) (*container.BlobItem, error) {
	props, err := l.client.NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &container.BlobItem{Name: &name, Properties: &container.BlobProperties{
		ETag: props.ETag, ContentLength: props.ContentLength, ContentType: props.ContentType,
		BlobType: props.BlobType, LastModified: props.LastModified,
	}}, nil
}
