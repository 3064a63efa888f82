package batch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// SharedKeyCredential is a Batch account name and its access key. The key
// is kept only in decoded form and is never logged or returned.
type SharedKeyCredential struct {
	account string
	key     []byte
}

// NewSharedKeyCredential decodes the base64 account key.
func NewSharedKeyCredential(account, base64Key string) (*SharedKeyCredential, error) {
	if account == "" {
		return nil, errors.New("batch: new shared key credential: account name is empty")
	}
	if base64Key == "" {
		return nil, errors.New("batch: new shared key credential: account key is empty")
	}
	key, err := base64.StdEncoding.DecodeString(base64Key)
	if err != nil {
		// The decode error quotes no key material, only an offset.
		return nil, fmt.Errorf("batch: new shared key credential for account %s: key is not valid base64: %w", account, err)
	}
	return &SharedKeyCredential{account: account, key: key}, nil
}

// AccountName returns the Batch account name.
func (c *SharedKeyCredential) AccountName() string { return c.account }

// sign returns base64(HMAC-SHA256(key, stringToSign)).
func (c *SharedKeyCredential) sign(stringToSign string) string {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// sharedKeyPolicy sets ocp-date and the SharedKey Authorization header. It
// runs once per try (a PerRetry policy) so each retry carries a fresh date.
type sharedKeyPolicy struct {
	cred *SharedKeyCredential
	now  func() time.Time
}

func newSharedKeyPolicy(cred *SharedKeyCredential, now func() time.Time) *sharedKeyPolicy {
	if now == nil {
		now = time.Now
	}
	return &sharedKeyPolicy{cred: cred, now: now}
}

// Do implements policy.Policy.
func (p *sharedKeyPolicy) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	raw.Header.Set("ocp-date", p.now().UTC().Format(http.TimeFormat))
	sts := stringToSign(p.cred.account, raw)
	raw.Header.Set("Authorization", "SharedKey "+p.cred.account+":"+p.cred.sign(sts))
	return req.Next()
}

// signedHeaders are the standard headers in the order the string-to-sign
// lists them, after the verb.
var signedHeaders = []string{
	"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
	"Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
	"If-Unmodified-Since", "Range",
}

// stringToSign builds the Batch Shared Key string-to-sign for r as it will
// go on the wire.
func stringToSign(account string, r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		var v string
		switch name {
		case "Content-Length":
			v = signedContentLength(r)
		case "Date":
			if r.Header.Get("ocp-date") == "" {
				v = r.Header.Get("Date")
			}
		default:
			v = r.Header.Get(name)
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	writeCanonicalHeaders(&b, r.Header)
	writeCanonicalResource(&b, account, r.URL)
	return b.String()
}

// signedContentLength is the Content-Length exactly as net/http will send
// it: the body length when there is a body, "0" for a body-less POST, PUT
// or PATCH, and nothing for GET, HEAD and DELETE without a body.
func signedContentLength(r *http.Request) string {
	if v := r.Header.Get("Content-Length"); v != "" {
		return v
	}
	if r.ContentLength > 0 {
		return strconv.FormatInt(r.ContentLength, 10)
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return "0"
	}
	return ""
}

// writeCanonicalHeaders writes every ocp-* header as "name:value\n", names
// lowercased and sorted.
func writeCanonicalHeaders(b *strings.Builder, h http.Header) {
	var names []string
	values := map[string]string{}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "ocp-") {
			continue
		}
		if _, seen := values[lk]; !seen {
			names = append(names, lk)
		} else {
			vs = append([]string{values[lk]}, vs...)
		}
		values[lk] = strings.Join(vs, ",")
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(values[n])
		b.WriteByte('\n')
	}
}

// writeCanonicalResource writes "/account/path" and then "\nname:value" for
// each query parameter, names lowercased and sorted, values URL-decoded and
// repeated values joined with ",".
func writeCanonicalResource(b *strings.Builder, account string, u *url.URL) {
	b.WriteByte('/')
	b.WriteString(account)
	b.WriteString(u.EscapedPath())
	// ParseQuery keeps every parameter that parses. The client builds its
	// own query strings; a malformed one (only possible from a server next
	// link) is signed with what parsed and the service decides.
	q, _ := url.ParseQuery(u.RawQuery)
	lower := map[string][]string{}
	for k, vs := range q {
		lk := strings.ToLower(k)
		lower[lk] = append(lower[lk], vs...)
	}
	names := make([]string, 0, len(lower))
	for k := range lower {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteByte('\n')
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.Join(lower[n], ","))
	}
}
