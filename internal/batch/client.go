package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

const (
	moduleName    = "github.com/ffbatch/ffbatch/internal/batch"
	moduleVersion = "v0.1.0"

	// DefaultAPIVersion is the Batch REST api-version sent when
	// ClientOptions.APIVersion is empty. It is the version the official Go
	// azbatch module is generated from.
	DefaultAPIVersion = "2024-07-01.20.0"

	// entraScope is the token scope for the Batch data plane. The double
	// slash is intentional and matches the service's security definition.
	entraScope = "https://batch.core.windows.net//.default"

	// contentTypeJSON is sent on every request that carries a body.
	contentTypeJSON = "application/json; odata=minimalmetadata"
)

// ClientOptions configures a Client. A nil *ClientOptions means defaults.
//
// The embedded azcore.ClientOptions carries the pipeline settings (retry,
// logging, telemetry, transport). Its APIVersion overrides
// DefaultAPIVersion. Its InsecureAllowCredentialWithHTTP must be true to
// use a plain http:// endpoint (for local emulators only); otherwise the
// constructors refuse such endpoints so credentials never travel in clear.
type ClientOptions struct {
	azcore.ClientOptions
}

// Client calls one Batch account's data-plane endpoint. It is safe for
// concurrent use.
type Client struct {
	endpoint   string // scheme://host[:port][/path] without a trailing slash
	apiVersion string
	pl         runtime.Pipeline
}

// NewClient returns a Client that authenticates with Microsoft Entra ID
// tokens from cred, requested for the Batch data-plane scope.
func NewClient(endpoint string, cred azcore.TokenCredential, options *ClientOptions) (*Client, error) {
	if cred == nil {
		return nil, errors.New("batch: new client: token credential is nil")
	}
	opts := optionsOrDefault(options)
	auth := runtime.NewBearerTokenPolicy(cred, []string{entraScope}, &policy.BearerTokenOptions{
		InsecureAllowCredentialWithHTTP: opts.InsecureAllowCredentialWithHTTP,
	})
	return newClient(endpoint, auth, opts)
}

// NewSharedKeyClient returns a Client that signs every request with the
// Batch account's Shared Key.
func NewSharedKeyClient(endpoint string, cred *SharedKeyCredential, options *ClientOptions) (*Client, error) {
	if cred == nil {
		return nil, errors.New("batch: new shared key client: credential is nil")
	}
	return newClient(endpoint, newSharedKeyPolicy(cred, nil), optionsOrDefault(options))
}

func optionsOrDefault(o *ClientOptions) ClientOptions {
	if o == nil {
		return ClientOptions{}
	}
	return *o
}

func newClient(endpoint string, auth policy.Policy, opts ClientOptions) (*Client, error) {
	ep, err := parseEndpoint(endpoint, opts.InsecureAllowCredentialWithHTTP)
	if err != nil {
		return nil, err
	}
	apiVersion := opts.APIVersion
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	// The client sets api-version itself; azcore's api-version policy would
	// re-encode every query string, including server-provided next links.
	azOpts := opts.ClientOptions
	azOpts.APIVersion = ""
	pl := runtime.NewPipeline(moduleName, moduleVersion, runtime.PipelineOptions{
		PerRetry:               []policy.Policy{auth},
		AllowedQueryParameters: []string{"api-version", "$filter", "$select", "$expand", "maxresults"},
		AllowedHeaders:         []string{"request-id", "client-request-id", "ocp-date"},
	}, &azOpts)
	return &Client{endpoint: ep, apiVersion: apiVersion, pl: pl}, nil
}

// parseEndpoint validates a Batch account URL and returns it without a
// trailing slash.
func parseEndpoint(endpoint string, allowHTTP bool) (string, error) {
	if endpoint == "" {
		return "", errors.New("batch: endpoint is empty")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("batch: parse endpoint %q: %w", endpoint, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("batch: endpoint %q: scheme must be https (or http for local endpoints)", endpoint)
	case u.Host == "":
		return "", fmt.Errorf("batch: endpoint %q has no host", endpoint)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("batch: endpoint %q must not have a query or fragment", endpoint)
	case u.User != nil:
		return "", fmt.Errorf("batch: endpoint %q must not contain user information", u.Redacted())
	case u.Scheme == "http" && !allowHTTP:
		return "", fmt.Errorf("batch: endpoint %q uses plain HTTP; set ClientOptions.InsecureAllowCredentialWithHTTP to allow it for local endpoints", endpoint)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Endpoint returns the account URL the client sends requests to.
func (c *Client) Endpoint() string { return c.endpoint }

// APIVersion returns the api-version the client sends.
func (c *Client) APIVersion() string { return c.apiVersion }

// newRequest builds a request for path (already escaped segments joined by
// "/") with the api-version and the extra query parameters.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values) (*policy.Request, error) {
	req, err := runtime.NewRequest(ctx, method, c.endpoint+path)
	if err != nil {
		return nil, err
	}
	q := req.Raw().URL.Query()
	for k, vs := range query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	q.Set("api-version", c.apiVersion)
	req.Raw().URL.RawQuery = encodeQuery(q)
	req.Raw().Header.Set("Accept", "application/json")
	return req, nil
}

// encodeQuery encodes like url.Values.Encode but with %20 for spaces, which
// is what the Batch SDKs send for OData expressions.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// setJSONBody marshals v as the request body with the Batch content type.
func setJSONBody(req *policy.Request, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("marshal request body: %w", err)
	}
	return req.SetBody(streaming.NopCloser(bytes.NewReader(b)), contentTypeJSON)
}

// marshalJSON is json.Marshal without HTML escaping, so SAS URLs keep
// their "&" instead of growing to "\u0026".
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// do sends req and returns the response when its status is one of want;
// any other status becomes an *azcore.ResponseError.
func (c *Client) do(req *policy.Request, want ...int) (*http.Response, error) {
	resp, err := c.pl.Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, want...) {
		return nil, runtime.NewResponseError(resp)
	}
	return resp, nil
}

// send is the common path for operations: build, optionally attach a JSON
// body, send, and decode the JSON response into out (when out is non-nil).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body, out any, want ...int) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, query)
	if err != nil {
		return nil, err
	}
	if body != nil {
		if err := setJSONBody(req, body); err != nil {
			return nil, err
		}
	}
	resp, err := c.do(req, want...)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return resp, nil
	}
	if err := runtime.UnmarshalAsJSON(resp, out); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return resp, nil
}

// escape escapes one path segment (a pool, job or task id).
func escape(id string) string { return url.PathEscape(id) }

// checkID rejects empty ids before they produce a confusing URL.
func checkID(kind, id string) error {
	if id == "" {
		return fmt.Errorf("%s id is empty", kind)
	}
	return nil
}
