package blobaccess

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// clockSkew backdates SAS start times so a node whose clock runs behind
// can still use a fresh SAS.
const clockSkew = 5 * time.Minute

// delegationKeyLifetime is how long a user delegation key is requested
// for (the service allows up to 7 days); a key is reused while it covers
// the SAS being signed.
const delegationKeyLifetime = 24 * time.Hour

// BlobURL returns the URL of a blob without any SAS: the account URL, the
// container and the blob name escaped segment by segment.
func BlobURL(accountURL, container, blob string) string {
	segs := strings.Split(blob, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimRight(accountURL, "/") + "/" + url.PathEscape(container) + "/" + strings.Join(segs, "/")
}

// ContainerURL returns the URL of a container without any SAS.
func ContainerURL(accountURL, container string) string {
	return strings.TrimRight(accountURL, "/") + "/" + url.PathEscape(container)
}

// delegationClient is the part of *service.Client a user-delegation signer
// needs.
type delegationClient interface {
	GetUserDelegationCredential(ctx context.Context, info service.KeyInfo, o *service.GetUserDelegationCredentialOptions) (*service.UserDelegationCredential, error)
}

var _ delegationClient = (*service.Client)(nil)

// Signer mints SAS URLs. It is safe for concurrent use.
type Signer struct {
	accountURL string
	protocol   sas.Protocol
	now        func() time.Time
	sharedKey  *azblob.SharedKeyCredential
	delegation delegationClient

	mu       sync.Mutex // guards udc and udcUntil
	udc      *service.UserDelegationCredential
	udcUntil time.Time
}

// Options configure a Signer. nil means defaults.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// AllowHTTP permits SAS over plain HTTP (Azurite on loopback); by
	// default SAS are HTTPS-only.
	AllowHTTP bool
}

func newSigner(accountURL string, o *Options) (*Signer, error) {
	u, err := url.Parse(accountURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("blobaccess: invalid account URL %q", accountURL)
	}
	s := &Signer{accountURL: strings.TrimRight(accountURL, "/"), protocol: sas.ProtocolHTTPS, now: time.Now}
	if o != nil {
		if o.Now != nil {
			s.now = o.Now
		}
		if o.AllowHTTP {
			s.protocol = sas.ProtocolHTTPSandHTTP
		}
	}
	if u.Scheme == "http" && s.protocol == sas.ProtocolHTTPS {
		return nil, fmt.Errorf("blobaccess: account URL %q is plain HTTP; set Options.AllowHTTP for a local emulator", accountURL)
	}
	return s, nil
}

// NewAccountKeySigner signs with an account key (Azurite).
func NewAccountKeySigner(accountURL string, cred *azblob.SharedKeyCredential, o *Options) (*Signer, error) {
	if cred == nil {
		return nil, errors.New("blobaccess: shared key credential is nil")
	}
	s, err := newSigner(accountURL, o)
	if err != nil {
		return nil, err
	}
	s.sharedKey = cred
	return s, nil
}

// NewUserDelegationSigner signs with user delegation keys obtained through
// client, which must authenticate with Entra ID (a managed identity with
// the Storage Blob Delegator role, plus data roles on the containers).
func NewUserDelegationSigner(accountURL string, client *service.Client, o *Options) (*Signer, error) {
	if client == nil {
		return nil, errors.New("blobaccess: service client is nil")
	}
	return newUserDelegationSigner(accountURL, client, o)
}

func newUserDelegationSigner(accountURL string, client delegationClient, o *Options) (*Signer, error) {
	s, err := newSigner(accountURL, o)
	if err != nil {
		return nil, err
	}
	s.delegation = client
	return s, nil
}

// AccountURL returns the blob endpoint the signer builds URLs for.
func (s *Signer) AccountURL() string { return s.accountURL }

// ReadBlobURL returns the blob's URL with a read-only SAS valid for
// lifetime.
func (s *Signer) ReadBlobURL(ctx context.Context, container, blob string, lifetime time.Duration) (string, error) {
	perms := (&sas.BlobPermissions{Read: true}).String()
	q, err := s.sign(ctx, sas.BlobSignatureValues{ContainerName: container, BlobName: blob, Permissions: perms}, lifetime)
	if err != nil {
		return "", fmt.Errorf("sign read SAS for %s: %w", container, err)
	}
	return BlobURL(s.accountURL, container, blob) + "?" + q.Encode(), nil
}

// WriteContainerURL returns the container's URL with a create/write-only
// SAS valid for lifetime: enough for Batch to upload output files, not to
// read, list or delete anything.
func (s *Signer) WriteContainerURL(ctx context.Context, container string, lifetime time.Duration) (string, error) {
	perms := (&sas.ContainerPermissions{Create: true, Write: true}).String()
	q, err := s.sign(ctx, sas.BlobSignatureValues{ContainerName: container, Permissions: perms}, lifetime)
	if err != nil {
		return "", fmt.Errorf("sign write SAS for %s: %w", container, err)
	}
	return ContainerURL(s.accountURL, container) + "?" + q.Encode(), nil
}

func (s *Signer) sign(ctx context.Context, v sas.BlobSignatureValues, lifetime time.Duration) (sas.QueryParameters, error) {
	if lifetime <= 0 {
		return sas.QueryParameters{}, fmt.Errorf("lifetime %v must be positive", lifetime)
	}
	now := s.now().UTC()
	v.Protocol = s.protocol
	v.StartTime = now.Add(-clockSkew)
	v.ExpiryTime = now.Add(lifetime)
	if s.sharedKey != nil {
		return v.SignWithSharedKey(s.sharedKey)
	}
	udc, err := s.delegationCredential(ctx, v.ExpiryTime)
	if err != nil {
		return sas.QueryParameters{}, err
	}
	return v.SignWithUserDelegation(udc)
}

// delegationCredential returns a cached user delegation credential that is
// valid until at least expiry, fetching a new one when needed.
func (s *Signer) delegationCredential(ctx context.Context, expiry time.Time) (*service.UserDelegationCredential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udc != nil && !s.udcUntil.Before(expiry) {
		return s.udc, nil
	}
	now := s.now().UTC()
	until := now.Add(delegationKeyLifetime)
	if until.Before(expiry) {
		until = expiry
	}
	start := now.Add(-clockSkew).Format(sas.TimeFormat)
	end := until.Format(sas.TimeFormat)
	udc, err := s.delegation.GetUserDelegationCredential(ctx, service.KeyInfo{Start: &start, Expiry: &end}, nil)
	if err != nil {
		return nil, fmt.Errorf("get user delegation key: %w", err)
	}
	s.udc, s.udcUntil = udc, until
	return udc, nil
}
