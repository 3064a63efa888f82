package batchemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/odata"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

const maxListResults = 1000

// listItem is one entity of a list, in list order; sortKey orders the list and
// anchors $skiptoken. Either obj is the rendered entity, or render renders
// it when the page needs it (called with the lock given to writeLazyList
// held; ok is false when the entity is gone since the list was taken).
type listItem struct {
	sortKey string
	obj     any
	render  func() (obj any, ok bool)
	// props are some of the entity's wire properties, taken with the list
	// (e.g. a task's state): a $filter on these alone is checked before
	// rendering, so an item it rejects is never rendered.
	props map[string]any
}

// renderChunk is how many lazy items writeLazyList renders per holding of
// the lock, so a long list never holds it for long.
const renderChunk = 64

// queryOptions are the validated OData options of a list or get.
type queryOptions struct {
	filter     *odata.Filter
	selectExpr string
	maxResults int
	after      string // sort key after which the page starts ("" = first page)
}

func parseQueryOptions(r *http.Request, sch *schema, list bool) (*queryOptions, *wireerr.Error) {
	q := r.URL.Query()
	o := &queryOptions{maxResults: maxListResults}
	if v := q.Get("$expand"); v != "" && v != "stats" {
		return nil, wireerr.InvalidQuery("$expand", v, "only 'stats' can be expanded")
	}
	if _, ok := q["$select"]; ok {
		o.selectExpr = q.Get("$select")
		if e := sch.checkSelect(o.selectExpr); e != nil {
			return nil, e
		}
	}
	if !list {
		return o, nil
	}
	if _, ok := q["$filter"]; ok {
		f, err := odata.ParseFilter(q.Get("$filter"))
		if err != nil {
			return nil, wireerr.InvalidQuery("$filter", q.Get("$filter"), err.Error())
		}
		if e := sch.checkFilter(q.Get("$filter"), f); e != nil {
			return nil, e
		}
		o.filter = f
	}
	if v, ok := q["maxresults"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxListResults {
			return nil, wireerr.InvalidQuery("maxresults", v[0], "maxresults must be an integer between 1 and 1000")
		}
		o.maxResults = n
	}
	if v, ok := q["$skiptoken"]; ok {
		after, err := decodeSkipToken(v[0])
		if err != nil {
			return nil, wireerr.InvalidQuery("$skiptoken", v[0], "the skip token is not one this server issued")
		}
		o.after = after
	}
	return o, nil
}

type skipToken struct {
	After string `json:"a"`
}

func encodeSkipToken(after string) string {
	b, _ := json.Marshal(skipToken{After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSkipToken(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", err
	}
	var t skipToken
	if err := json.Unmarshal(b, &t); err != nil {
		return "", err
	}
	return t.After, nil
}

// toMap turns a wire object into its JSON object form for $filter/$select.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// shape applies $select to one object (nil expression: unchanged).
func shape(obj any, selectExpr string, metadata string) (any, *wireerr.Error) {
	m, err := toMap(obj)
	if err != nil {
		return nil, wireerr.InternalOp("encode entity", err)
	}
	if selectExpr != "" {
		if m, err = odata.Select(m, selectExpr); err != nil {
			return nil, wireerr.InvalidQuery("$select", selectExpr, err.Error())
		}
	}
	if metadata != "" {
		m["odata.metadata"] = metadata
	}
	return m, nil
}

// writeList pages, filters and shapes items (already sorted by sortKey) and
// writes {"odata.metadata", "value", "odata.nextLink"}.
func writeList(w http.ResponseWriter, r *http.Request, rc *reqCtx, items []listItem, sch *schema, entitySet string) *wireerr.Error {
	return writeLazyList(w, r, rc, items, nil, sch, entitySet)
}

// writeLazyList is writeList for items that render lazily under mu: the
// caller takes only the sort keys under the lock, and this renders only
// the items the page looks at (those after $skiptoken, up to the page
// filled), renderChunk at a time under mu. So the cost of a page is
// proportional to the page (and, with $filter, to the items scanned to
// fill it), not to the whole list.
func writeLazyList(w http.ResponseWriter, r *http.Request, rc *reqCtx, items []listItem, mu sync.Locker, sch *schema, entitySet string) *wireerr.Error {
	o, e := parseQueryOptions(r, sch, true)
	if e != nil {
		return e
	}
	values := []any{}
	next := ""
	i := sort.Search(len(items), func(i int) bool { return items[i].sortKey > o.after })
	for i < len(items) && next == "" {
		chunk := items[i:min(i+renderChunk, len(items))]
		objs := renderItems(chunk, mu, o.filter)
		for k, obj := range objs {
			if len(values) == o.maxResults {
				next = items[i+k-1].sortKey
				break
			}
			if obj == nil {
				continue
			}
			m, err := toMap(obj)
			if err != nil {
				return wireerr.InternalOp("encode entity", err)
			}
			if o.filter != nil {
				ok, err := o.filter.Match(m)
				if err != nil {
					return wireerr.InvalidQuery("$filter", r.URL.Query().Get("$filter"), err.Error())
				}
				if !ok {
					continue
				}
			}
			if o.selectExpr != "" {
				if m, err = odata.Select(m, o.selectExpr); err != nil {
					return wireerr.InvalidQuery("$select", o.selectExpr, err.Error())
				}
			}
			values = append(values, m)
		}
		i += len(chunk)
	}
	body := map[string]any{
		"odata.metadata": rc.base + "/$metadata#" + entitySet,
		"value":          values,
	}
	if next != "" {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "$skiptoken" {
				q[k] = v
			}
		}
		q.Set("$skiptoken", encodeSkipToken(next))
		body["odata.nextLink"] = rc.base + r.URL.EscapedPath() + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// renderItems returns the entities of items, rendering the lazy ones under
// mu; an entity gone since the list was taken, or one whose props the
// filter rejects, is nil.
func renderItems(items []listItem, mu sync.Locker, filter *odata.Filter) []any {
	objs := make([]any, len(items))
	locked := false
	for k, it := range items {
		if it.render == nil {
			objs[k] = it.obj
			continue
		}
		if rejects(filter, it.props) {
			continue
		}
		if !locked && mu != nil {
			mu.Lock()
			locked = true
		}
		if obj, ok := it.render(); ok {
			objs[k] = obj
		}
	}
	if locked {
		mu.Unlock()
	}
	return objs
}

// rejects reports whether filter, which names only properties in props,
// does not match them (false when it names others: the entity decides).
func rejects(filter *odata.Filter, props map[string]any) bool {
	if filter == nil || props == nil {
		return false
	}
	for _, p := range filter.Properties() {
		if _, ok := props[p]; !ok {
			return false
		}
	}
	ok, err := filter.Match(props)
	return err == nil && !ok
}
