package localtoken

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	iss, err := New(NewKey(), clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(NewKey(), clock)
	valid, _ := iss.Issue(AudienceBatch, time.Hour)
	expired, _ := iss.Issue(AudienceBatch, -time.Hour)
	forSB, _ := iss.Issue(AudienceServiceBus, time.Hour)
	foreign, _ := other.Issue(AudienceBatch, time.Hour)
	parts := strings.Split(valid, ".")
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+IssuerName+`","aud":"`+AudienceBatch+`","exp":9999999999}`)) + "." + parts[2]
	tests := []struct {
		name, token, audience string
		want                  error
	}{
		{"valid", valid, AudienceBatch, nil},
		{"audience without the trailing slash", valid, "https://batch.core.windows.net", nil},
		{"expired", expired, AudienceBatch, ErrExpired},
		{"another service's audience", forSB, AudienceBatch, ErrAudience},
		{"signed with another key", foreign, AudienceBatch, ErrSignature},
		{"alg none", unsigned, AudienceBatch, ErrSignature},
		{"claims changed after signing", tampered, AudienceBatch, ErrSignature},
		{"not a JWT", "eyJhbGciOi.x.y", AudienceBatch, ErrMalformed},
		{"any string", "emulator", AudienceBatch, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := iss.Verify(tc.token, tc.audience, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if tc.want == nil && !exp.Equal(now.Add(time.Hour)) {
				t.Errorf("expiry %s, want %s", exp, now.Add(time.Hour))
			}
		})
	}
}

func TestGetTokenAndKeyFile(t *testing.T) {
	key := NewKey()
	path := filepath.Join(t.TempDir(), "token.key")
	if err := os.WriteFile(path, []byte(EncodeKey(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	read, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := New(read, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://batch.core.windows.net//.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(tok.Token, AudienceBatch, time.Now()); err != nil {
		t.Errorf("GetToken's token does not verify for Batch: %v", err)
	}
	if _, err := New([]byte("short"), nil); err == nil {
		t.Error("New accepted a 5-byte key")
	}
	if err := os.WriteFile(path, []byte("c2hvcnQ=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); err == nil {
		t.Error("ReadKeyFile accepted a short key")
	}
}
