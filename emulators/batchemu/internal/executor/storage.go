package executor

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// redactURL returns raw without its query string and user info, so that SAS
// tokens never reach logs, failure details or upload logs. Unparseable input is
// replaced by a placeholder rather than echoed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	return u.String()
}

// containerClientOptions returns azblob client options that send every request through the
// Runner's HTTP client, with a short bounded retry policy.
func (r *Runner) containerClientOptions() *container.ClientOptions {
	return &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: r.hc,
		Retry: policy.RetryOptions{
			MaxRetries:    3,
			RetryDelay:    200 * time.Millisecond,
			MaxRetryDelay: 2 * time.Second,
		},
	}}
}

// newSASContainerClient opens a container by a URL that carries its own SAS.
func (r *Runner) newSASContainerClient(containerURL string) (*container.Client, error) {
	u, err := url.Parse(containerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("container URL %q is not an absolute http(s) URL", redactURL(containerURL))
	}
	c, err := container.NewClientWithNoCredential(containerURL, r.containerClientOptions())
	if err != nil {
		// Not wrapped: the SDK's text could quote the URL with its SAS.
		return nil, fmt.Errorf("open container %s: %s", redactURL(containerURL), describeStorageError(err))
	}
	return c, nil
}

// newAutoStorageContainerClient opens a container of the auto-storage account with
// its shared key.
func (r *Runner) newAutoStorageContainerClient(name string) (*container.Client, string, error) {
	if r.storage == nil || r.storage.BlobEndpoint == "" {
		return nil, "", errors.New("no auto-storage account is configured for this pool")
	}
	cred, err := azblob.NewSharedKeyCredential(r.storage.AccountName, r.storage.AccountKey)
	if err != nil {
		// The error text of the SDK may echo the key; do not wrap it.
		return nil, "", errors.New("the auto-storage account key is not valid base64")
	}
	containerURL := strings.TrimSuffix(r.storage.BlobEndpoint, "/") + "/" + url.PathEscape(name)
	c, err := container.NewClientWithSharedKeyCredential(containerURL, cred, r.containerClientOptions())
	if err != nil {
		return nil, "", fmt.Errorf("open container %s: %s", redactURL(containerURL), describeStorageError(err))
	}
	return c, containerURL, nil
}

// storageStatus classifies a storage error: the HTTP status (0 if none) and the
// storage error code.
func storageStatus(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// isNotFound reports a missing blob or container.
func isNotFound(err error) bool {
	st, _ := storageStatus(err)
	return st == http.StatusNotFound || bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound)
}

// isContainerNotFound reports a missing container.
func isContainerNotFound(err error) bool {
	return bloberror.HasCode(err, bloberror.ContainerNotFound)
}

// isAccessDenied reports an authentication or authorization failure.
func isAccessDenied(err error) bool {
	st, _ := storageStatus(err)
	return st == http.StatusForbidden || st == http.StatusUnauthorized
}

// describeStorageError summarises err without URLs (azcore's ResponseError text
// contains the request URL, including the SAS query).
func describeStorageError(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return fmt.Sprintf("HTTP %d %s", re.StatusCode, re.ErrorCode)
		}
		return fmt.Sprintf("HTTP %d", re.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return scrubURLs(fmt.Sprintf("%s %s: %v", ue.Op, redactURL(ue.URL), ue.Err))
	}
	return scrubURLs(err.Error())
}

var urlQuery = regexp.MustCompile(`(?i)(https?://[^\s"'?#]*)[?#][^\s"']*`)

// scrubURLs removes query strings and fragments from every http(s) URL in s, as a
// last line of defence for error texts produced by libraries.
func scrubURLs(s string) string { return urlQuery.ReplaceAllString(s, "$1") }
