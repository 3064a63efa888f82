package batch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ListOptions are the OData query options of the list operations. The zero
// value lists everything with the service's default page size (1000).
type ListOptions struct {
	// Filter is an OData $filter such as "state eq 'completed'".
	Filter string
	// Select is a comma-separated $select property list such as "id,state".
	Select string
	// Expand is an OData $expand; the service supports only "stats".
	// List nodes ignores it.
	Expand string
	// MaxResults is the page size, 1..1000; 0 means the service default.
	MaxResults int32
}

// GetOptions are the OData query options of the get operations.
type GetOptions struct {
	Select string
	Expand string
}

// ListPage is one page of a list operation. NextLink is the absolute URL
// of the next page, or "" on the last page.
type ListPage[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"odata.nextLink,omitempty"`
}

func (o *ListOptions) query(expand bool) (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if o.MaxResults < 0 || o.MaxResults > 1000 {
		return nil, fmt.Errorf("max results %d out of range 1..1000", o.MaxResults)
	}
	if o.Filter != "" {
		q.Set("$filter", o.Filter)
	}
	if o.Select != "" {
		q.Set("$select", o.Select)
	}
	if o.Expand != "" && expand {
		q.Set("$expand", o.Expand)
	}
	if o.MaxResults > 0 {
		q.Set("maxresults", strconv.Itoa(int(o.MaxResults)))
	}
	return q, nil
}

func (o *GetOptions) query() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	if o.Select != "" {
		q.Set("$select", o.Select)
	}
	if o.Expand != "" {
		q.Set("$expand", o.Expand)
	}
	return q
}

// newListPager pages through path. The first request carries the list
// options; later requests follow odata.nextLink verbatim, adding only the
// api-version when the link lacks one.
// A non-nil invalid (such as an empty parent id) is returned by the first
// fetch without sending anything.
func newListPager[T any](c *Client, op, path string, opts *ListOptions, expand bool, invalid error) *runtime.Pager[ListPage[T]] {
	return runtime.NewPager(runtime.PagingHandler[ListPage[T]]{
		More: func(p ListPage[T]) bool { return p.NextLink != "" },
		Fetcher: func(ctx context.Context, cur *ListPage[T]) (ListPage[T], error) {
			var (
				req *policy.Request
				err error
			)
			if invalid != nil {
				return ListPage[T]{}, fmt.Errorf("%s: %w", op, invalid)
			}
			if cur == nil {
				var q url.Values
				if q, err = opts.query(expand); err == nil {
					req, err = c.newRequest(ctx, http.MethodGet, path, q)
				}
			} else {
				req, err = c.nextLinkRequest(ctx, cur.NextLink)
			}
			if err != nil {
				return ListPage[T]{}, fmt.Errorf("%s: %w", op, err)
			}
			resp, err := c.do(req, http.StatusOK)
			if err != nil {
				return ListPage[T]{}, fmt.Errorf("%s: %w", op, err)
			}
			var page ListPage[T]
			if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
				return ListPage[T]{}, fmt.Errorf("%s: decode page: %w", op, err)
			}
			return page, nil
		},
	})
}

// nextLinkRequest builds a GET for a server-provided next link. Links are
// resolved against the endpoint and must stay on the endpoint's host, so a
// credential is never sent elsewhere.
func (c *Client) nextLinkRequest(ctx context.Context, link string) (*policy.Request, error) {
	base, err := url.Parse(c.endpoint + "/")
	if err != nil {
		return nil, fmt.Errorf("parse endpoint: %w", err)
	}
	ref, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("parse next link: %w", err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return nil, fmt.Errorf("next link %s://%s%s is not on the endpoint %s", u.Scheme, u.Host, u.Path, c.endpoint)
	}
	if q, err := url.ParseQuery(u.RawQuery); err != nil || !q.Has("api-version") {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "api-version=" + url.QueryEscape(c.apiVersion)
	}
	req, err := runtime.NewRequest(ctx, http.MethodGet, u.String())
	if err != nil {
		return nil, err
	}
	req.Raw().Header.Set("Accept", "application/json")
	return req, nil
}
