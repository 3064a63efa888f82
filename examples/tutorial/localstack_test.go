package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/ffbatch/ffbatch/emulators/batchemu"
	"github.com/ffbatch/ffbatch/internal/azurite"
	"github.com/ffbatch/ffbatch/internal/batch"
)

// TestLocalStackKeysArePrivate: the local stack the tutorial starts is
// closed like `ffbatch up`'s (issue 13): its Batch emulator and Azurite
// refuse their public development keys, which any local user knows (a
// task added with them runs a command as the tutorial's user), and accept
// the run's own keys.
func TestLocalStackKeysArePrivate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg := startLocal(ctx, t)

	poolExists := func(key string) error {
		_, err := sharedKeyClient(t, tg, key).PoolExists(ctx, "any")
		return err
	}
	var re *azcore.ResponseError
	if err := poolExists(batchemu.DefaultAccountKey); !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Errorf("Batch emulator with its public key: %v, want 403", err)
	}
	if err := poolExists(tg.batchKey); err != nil {
		t.Errorf("Batch emulator with the run's key: %v", err)
	}

	listWith := func(conn string) error {
		c, err := azblob.NewClientFromConnectionString(conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.NewListContainersPager(nil).NextPage(ctx)
		return err
	}
	public := strings.Replace(tg.storageConnectionString, "AccountKey="+connKey(tg.storageConnectionString), "AccountKey="+azurite.AccountKey, 1)
	if public == tg.storageConnectionString {
		t.Fatal("the tutorial's Azurite uses the public devstoreaccount1 key")
	}
	if err := listWith(public); err == nil {
		t.Error("Azurite accepted its public development key")
	}
	if err := listWith(tg.storageConnectionString); err != nil {
		t.Errorf("Azurite with the run's key: %v", err)
	}
}

// connKey is the AccountKey of a storage connection string.
func connKey(conn string) string {
	for _, kv := range strings.Split(conn, ";") {
		if v, ok := strings.CutPrefix(kv, "AccountKey="); ok {
			return v
		}
	}
	return ""
}

// startLocal starts the tutorial's local stack in a temporary directory
// and stops it when the test ends.
func startLocal(ctx context.Context, t *testing.T) *targets {
	t.Helper()
	cfg := defaultConfig()
	cfg.StateDir = t.TempDir()
	tg, err := resolveTargets(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.close)
	return tg
}

// sharedKeyClient is a Batch client of tg's endpoint signing with key.
func sharedKeyClient(t *testing.T, tg *targets, key string) *batch.Client {
	t.Helper()
	cred, err := batch.NewSharedKeyCredential(tg.batchAccount, key)
	if err != nil {
		t.Fatal(err)
	}
	o := &batch.ClientOptions{}
	o.InsecureAllowCredentialWithHTTP = true
	c, err := batch.NewSharedKeyClient(tg.batchURL, cred, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
