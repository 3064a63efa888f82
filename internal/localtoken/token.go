package localtoken

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// IssuerName is the iss claim of every token: not a real authority, so a
// token from here is never mistaken for an Entra token.
const IssuerName = "https://localtoken.ffbatch.invalid/"

// Audiences of the services the emulators stand in for: what an Entra
// token for them carries in aud.
const (
	AudienceBatch      = "https://batch.core.windows.net/"
	AudienceServiceBus = "https://servicebus.azure.net/"
)

// MinKeySize is the shortest signing secret accepted (the HS256 key
// length RFC 7518 §3.2 asks for).
const MinKeySize = 32

// DefaultTTL is how long GetToken's tokens live.
const DefaultTTL = time.Hour

// clockSkew is how far exp and nbf may be off, as Entra's validators allow.
const clockSkew = 5 * time.Minute

// Verification failures; Verify wraps them with the detail.
var (
	ErrMalformed = errors.New("malformed token")
	ErrSignature = errors.New("token signature is invalid")
	ErrIssuer    = errors.New("token issuer is not the local issuer")
	ErrAudience  = errors.New("token audience does not match")
	ErrExpired   = errors.New("token is expired")
	ErrNotYet    = errors.New("token is not valid yet")
)

// Issuer signs and verifies tokens with one secret. Safe for concurrent
// use.
type Issuer struct {
	key []byte
	now func() time.Time
}

var _ azcore.TokenCredential = (*Issuer)(nil)

// New returns an Issuer for key (at least MinKeySize bytes). now is the
// clock of Issue and GetToken; nil means time.Now.
func New(key []byte, now func() time.Time) (*Issuer, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("local token issuer: key is %d bytes, want at least %d", len(key), MinKeySize)
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{key: append([]byte(nil), key...), now: now}, nil
}

// NewKey returns a random secret of MinKeySize bytes.
func NewKey() []byte {
	b := make([]byte, MinKeySize)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("localtoken: random key: %v", err)) // crypto/rand does not fail on supported systems
	}
	return b
}

// EncodeKey is the key file's content: standard base64 and a newline.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) + "\n" }

// ReadSecretFile reads a secret kept in a file, such as the emulators'
// --key-file and --token-key-file: its content without surrounding white
// space, which must not be empty.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("read secret %s: the file is empty", path)
	}
	return s, nil
}

// ReadKeyFile reads a token key written with EncodeKey.
func ReadKeyFile(path string) ([]byte, error) {
	s, err := ReadSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("read token key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("read token key %s: not base64: %w", path, err)
	}
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("read token key %s: %d bytes, want at least %d", path, len(key), MinKeySize)
	}
	return key, nil
}

type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
}

type claims struct {
	Iss string `json:"iss"`
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Nbf int64  `json:"nbf"`
	Iat int64  `json:"iat"`
}

// Issue returns a token for audience valid from now for ttl, and its expiry.
func (i *Issuer) Issue(audience string, ttl time.Duration) (string, time.Time) {
	now := i.now()
	exp := now.Add(ttl)
	h, _ := json.Marshal(header{Alg: "HS256", Typ: "JWT"})
	c, _ := json.Marshal(claims{Iss: IssuerName, Aud: audience, Exp: exp.Unix(), Nbf: now.Unix(), Iat: now.Unix()})
	signed := b64(h) + "." + b64(c)
	return signed + "." + b64(i.sign(signed)), exp.Truncate(time.Second)
}

// Verify checks token for audience (compared without trailing slashes)
// at time now and returns its expiry.
func (i *Issuer) Verify(token, audience string, now time.Time) (time.Time, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	var h header
	if err := decodePart(parts[0], &h); err != nil {
		return time.Time{}, err
	}
	if h.Alg != "HS256" {
		return time.Time{}, fmt.Errorf("%w: alg %q, want HS256", ErrSignature, h.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, i.sign(parts[0]+"."+parts[1])) {
		return time.Time{}, ErrSignature
	}
	var c claims
	if err := decodePart(parts[1], &c); err != nil {
		return time.Time{}, err
	}
	exp := time.Unix(c.Exp, 0)
	switch {
	case c.Iss != IssuerName:
		return time.Time{}, fmt.Errorf("%w: %q", ErrIssuer, c.Iss)
	case strings.TrimRight(c.Aud, "/") != strings.TrimRight(audience, "/"):
		return time.Time{}, fmt.Errorf("%w: %q, want %q", ErrAudience, c.Aud, audience)
	case c.Exp == 0 || !now.Before(exp.Add(clockSkew)):
		return exp, fmt.Errorf("%w: expired at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	case now.Add(clockSkew).Before(time.Unix(c.Nbf, 0)):
		return time.Time{}, fmt.Errorf("%w: not before %s", ErrNotYet, time.Unix(c.Nbf, 0).UTC().Format(time.RFC3339))
	}
	return exp, nil
}

// GetToken issues a token for the first scope's resource (the scope
// without "/.default"), so an Issuer can be the credential of an Azure
// SDK client.
func (i *Issuer) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(opts.Scopes) == 0 {
		return azcore.AccessToken{}, errors.New("local token issuer: no scope requested")
	}
	tok, exp := i.Issue(strings.TrimSuffix(opts.Scopes[0], "/.default"), DefaultTTL)
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, nil
}

func (i *Issuer) sign(s string) []byte {
	m := hmac.New(sha256.New, i.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// KeyFlag is the flag.Value of the emulators' --token-key-file: Set
// reads the key file (ReadKeyFile) into Key.
type KeyFlag struct {
	path string
	Key  []byte // nil until Set
}

func (f *KeyFlag) String() string {
	if f == nil {
		return ""
	}
	return f.path
}

// Set reads the key file at path.
func (f *KeyFlag) Set(path string) error {
	key, err := ReadKeyFile(path)
	if err != nil {
		return err
	}
	f.path, f.Key = path, key
	return nil
}
