package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

// maxClockSkew is how far ocp-date/Date may be from the emulator's clock.
const maxClockSkew = 15 * time.Minute

// SignedHeaders are the standard headers in string-to-sign order.
var SignedHeaders = []string{
	"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
	"If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
}

// Authenticator checks Batch Shared Key signatures and, when a token key
// is configured, Bearer tokens signed by the local token issuer
// (internal/localtoken) for the Batch audience. Without a token key every
// Bearer token is refused.
type Authenticator struct {
	account string
	key     []byte
	tokens  *localtoken.Issuer // nil: Bearer tokens refused
}

// New returns an Authenticator for the account name and its base64 key;
// tokenKey, when not nil, also accepts the local token issuer's tokens.
func New(account, key string, tokenKey []byte) (*Authenticator, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return nil, fmt.Errorf("decode account key: %w", err)
	}
	if len(k) == 0 {
		return nil, fmt.Errorf("decode account key: key is empty")
	}
	a := &Authenticator{account: account, key: k}
	if tokenKey != nil {
		if a.tokens, err = localtoken.New(tokenKey, nil); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Check verifies the request's credentials at time now.
func (a *Authenticator) Check(r *http.Request, now time.Time) *wireerr.Error {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return wireerr.AuthenticationFailed("The Authorization header is missing.")
	}
	scheme, cred, _ := strings.Cut(authz, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return a.checkBearer(strings.TrimSpace(cred), now)
	case strings.EqualFold(scheme, "SharedKey"):
	default:
		return wireerr.AuthenticationFailed(fmt.Sprintf("The authentication scheme %q is not supported.", scheme))
	}
	account, sig, ok := strings.Cut(strings.TrimSpace(cred), ":")
	if !ok || sig == "" {
		return wireerr.AuthenticationFailed("The SharedKey credential is not of the form account:signature.")
	}
	if !strings.EqualFold(account, a.account) {
		return wireerr.AuthenticationFailed(fmt.Sprintf("The account name %q in the Authorization header does not match the emulator account.", account))
	}
	dateStr := r.Header.Get("ocp-date")
	if dateStr == "" {
		dateStr = r.Header.Get("Date")
	}
	if dateStr == "" {
		return wireerr.AuthenticationFailed("Neither the ocp-date nor the Date header is present.")
	}
	date, err := http.ParseTime(dateStr)
	if err != nil {
		return wireerr.AuthenticationFailed(fmt.Sprintf("The date header value %q is not a valid RFC 1123 date.", dateStr))
	}
	if d := now.Sub(date); d > maxClockSkew || d < -maxClockSkew {
		return wireerr.AuthenticationFailed(fmt.Sprintf("Request date header %q is more than 15 minutes away from the server time.", dateStr))
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return wireerr.AuthenticationFailed("The signature is not valid base64.")
	}
	candidates := stringsToSign(r, a.account)
	for _, s := range candidates {
		if hmac.Equal(got, a.sign(s)) {
			return nil
		}
	}
	return wireerr.AuthenticationFailed(fmt.Sprintf("The MAC signature found in the HTTP request '%s' is not the same as any computed signature. Server used following string to sign: '%s'.", sig, candidates[0]))
}

// checkBearer verifies a Bearer token with the local token issuer.
func (a *Authenticator) checkBearer(token string, now time.Time) *wireerr.Error {
	switch {
	case a.tokens == nil:
		return wireerr.AuthenticationFailed("Bearer tokens are not accepted: the emulator verifies Shared Key only (start it with a token key to accept the local token issuer's tokens).")
	case token == "":
		return wireerr.AuthenticationFailed("The Bearer token is empty.")
	}
	if _, err := a.tokens.Verify(token, localtoken.AudienceBatch, now); err != nil {
		return wireerr.AuthenticationFailed(fmt.Sprintf("The Bearer token is not valid: %v.", err))
	}
	return nil
}

func (a *Authenticator) sign(s string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// stringsToSign rebuilds the string-to-sign from the headers actually
// received. The first element is the canonical form; the others are the
// tolerated client variants: "0" signed for a body-less POST/PUT/PATCH whose
// Content-Length header was not sent, the unescaped path, and query
// parameters with empty values skipped (the Python SDK does that).
func stringsToSign(r *http.Request, account string) []string {
	cl := r.Header.Get("Content-Length")
	cls := []string{cl}
	if cl == "" && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		cls = append(cls, "0")
	}
	paths := []string{r.URL.EscapedPath()}
	if r.URL.Path != paths[0] {
		paths = append(paths, r.URL.Path)
	}
	queries := []string{canonicalQuery(r, false)}
	if q := canonicalQuery(r, true); q != queries[0] {
		queries = append(queries, q)
	}
	headers := canonicalOCPHeaders(r)
	var out []string
	for _, c := range cls {
		for _, p := range paths {
			for _, q := range queries {
				var b strings.Builder
				b.WriteString(r.Method)
				b.WriteByte('\n')
				for _, h := range SignedHeaders {
					v := strings.Join(r.Header.Values(h), ",")
					switch h {
					case "Content-Length":
						v = c
					case "Date":
						if r.Header.Get("ocp-date") != "" {
							v = ""
						}
					}
					b.WriteString(v)
					b.WriteByte('\n')
				}
				b.WriteString(headers)
				b.WriteString("/" + account + p)
				b.WriteString(q)
				out = append(out, b.String())
			}
		}
	}
	return out
}

func canonicalOCPHeaders(r *http.Request) string {
	var names []string
	vals := map[string]string{}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "ocp-") {
			names = append(names, lk)
			vals[lk] = strings.Join(v, ",")
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":" + vals[n] + "\n")
	}
	return b.String()
}

func canonicalQuery(r *http.Request, skipEmpty bool) string {
	q := r.URL.Query()
	merged := map[string][]string{}
	for k, v := range q {
		lk := strings.ToLower(k)
		merged[lk] = append(merged[lk], v...)
	}
	names := make([]string, 0, len(merged))
	for k := range merged {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		v := strings.Join(merged[n], ",")
		if skipEmpty && v == "" {
			continue
		}
		b.WriteString("\n" + n + ":" + v)
	}
	return b.String()
}
