package blobaccess

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/ffbatch/ffbatch/internal/azurite/azuritetest"
)

func TestBlobURL(t *testing.T) {
	tests := []struct{ blob, want string }{
		{"a.mp4", "https://acct.blob.core.windows.net/input/a.mp4"},
		{"shows/ep 1.mp4", "https://acct.blob.core.windows.net/input/shows/ep%201.mp4"},
		{"q?#%;.mp4", "https://acct.blob.core.windows.net/input/q%3F%23%25%3B.mp4"},
		{"été.mp4", "https://acct.blob.core.windows.net/input/%C3%A9t%C3%A9.mp4"},
	}
	for _, tc := range tests {
		if got := BlobURL("https://acct.blob.core.windows.net/", "input", tc.blob); got != tc.want {
			t.Errorf("BlobURL(%q) = %q, want %q", tc.blob, got, tc.want)
		}
	}
}

func TestNewSignerRejectsPlainHTTPByDefault(t *testing.T) {
	cred, err := azblob.NewSharedKeyCredential("devstoreaccount1", "a2V5")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewAccountKeySigner("http://127.0.0.1:10000/devstoreaccount1", cred, nil); err == nil {
		t.Errorf("plain HTTP accepted without AllowHTTP")
	}
	if _, err := NewAccountKeySigner("http://127.0.0.1:10000/devstoreaccount1", cred, &Options{AllowHTTP: true}); err != nil {
		t.Errorf("AllowHTTP: %v", err)
	}
}

func do(t *testing.T, method, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-ms-version", "2021-12-02")
	if method == http.MethodPut {
		req.Header.Set("x-ms-blob-type", "BlockBlob")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAccountKeySASAgainstAzurite(t *testing.T) {
	ctx := context.Background()
	az := azuritetest.Start(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"input", "output"} {
		if _, err := client.CreateContainer(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"a.mp4", "shows/ep 1.mp4", "q'\"; $(x) #?%.mp4", "musique/été – 東京.MP4"}
	for _, n := range names {
		if _, err := client.UploadBuffer(ctx, "input", n, []byte("data:"+n), nil); err != nil {
			t.Fatalf("upload %q: %v", n, err)
		}
	}
	cred, err := azblob.NewSharedKeyCredential(az.AccountName, az.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	s, err := NewAccountKeySigner(az.BlobEndpoint, cred, &Options{AllowHTTP: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			u, err := s.ReadBlobURL(ctx, "input", n, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if got := do(t, http.MethodGet, u, nil); got != http.StatusOK {
				t.Errorf("GET with read SAS = %d, want 200", got)
			}
			if got := do(t, http.MethodPut, u, []byte("x")); got != http.StatusForbidden {
				t.Errorf("PUT with read SAS = %d, want 403", got)
			}
		})
	}
	w, err := s.WriteContainerURL(ctx, "output", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	base, query, _ := strings.Cut(w, "?")
	put := base + "/" + "dir/out%201.mp3?" + query
	if got := do(t, http.MethodPut, put, []byte("mp3")); got != http.StatusCreated {
		t.Errorf("PUT with write SAS = %d, want 201", got)
	}
	if got := do(t, http.MethodGet, put, nil); got != http.StatusForbidden {
		t.Errorf("GET with write SAS = %d, want 403", got)
	}
	if got := do(t, http.MethodGet, base+"?restype=container&comp=list&"+query, nil); got != http.StatusForbidden {
		t.Errorf("LIST with write SAS = %d, want 403", got)
	}
	if got := do(t, http.MethodDelete, put, nil); got != http.StatusForbidden {
		t.Errorf("DELETE with write SAS = %d, want 403", got)
	}

	// An expired SAS is refused.
	now = now.Add(-3 * time.Hour)
	old, err := s.ReadBlobURL(ctx, "input", "a.mp4", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := do(t, http.MethodGet, old, nil); got != http.StatusForbidden {
		t.Errorf("GET with expired SAS = %d, want 403", got)
	}
	if _, err := s.ReadBlobURL(ctx, "input", "a.mp4", 0); err == nil {
		t.Errorf("zero lifetime accepted")
	}
}

type fakeDelegation struct {
	calls int
	err   error
}

func (f *fakeDelegation) GetUserDelegationCredential(context.Context, service.KeyInfo, *service.GetUserDelegationCredentialOptions) (*service.UserDelegationCredential, error) {
	f.calls++
	return nil, f.err
}

func TestUserDelegationErrorsPropagate(t *testing.T) {
	f := &fakeDelegation{err: errors.New("AuthorizationPermissionMismatch")}
	s, err := newUserDelegationSigner("https://acct.blob.core.windows.net", f, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadBlobURL(context.Background(), "input", "a.mp4", time.Hour)
	if err == nil || !strings.Contains(err.Error(), "user delegation key") || !errors.Is(err, f.err) {
		t.Errorf("error = %v", err)
	}
	if f.calls != 1 {
		t.Errorf("calls = %d", f.calls)
	}
}
