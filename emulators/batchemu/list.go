package batchemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/odata"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

const maxListResults = 1000

// listItem is one entity of a list, in list order; sortKey orders the list and
// anchors $skiptoken.
type listItem struct {
	sortKey string
	obj     any
}

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
	o, e := parseQueryOptions(r, sch, true)
	if e != nil {
		return e
	}
	values := []any{}
	next := ""
	for i, it := range items {
		if o.after != "" && it.sortKey <= o.after {
			continue
		}
		if len(values) == o.maxResults {
			next = items[i-1].sortKey
			break
		}
		m, err := toMap(it.obj)
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
