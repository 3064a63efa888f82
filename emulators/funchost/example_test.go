package funchost_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/ffbatch/ffbatch/emulators/funchost"
)

// Run a deployable layout with its local settings, deliver BlobCreated
// events for the "input" container to the BlobCreated function, and stop
// on a signal or when the handler keeps failing.
func ExampleNew() {
	h, err := funchost.New(&funchost.Options{
		AppDir:       "dist",
		SettingsFile: "local.settings.json",
		HTTPAddr:     "127.0.0.1:7071",
		StateDir:     ".local/funchost",
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Environ:      os.Environ(),
		EventGridBlobSources: []funchost.EventGridBlobSource{
			{Function: "BlobCreated", Connection: "AzureWebJobsStorage", Container: "input"},
		},
	})
	if err != nil {
		slog.Error("load function app", "error", err)
		return
	}
	ctx := context.Background()
	if err := h.Start(ctx); err != nil {
		slog.Error("start function app", "error", err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = h.Close(ctx)
	}()
	// Run the timer function once now, as POST /admin/functions/SweepPools does.
	if err := h.RunFunction(ctx, "SweepPools"); err != nil {
		slog.Error("sweep", "error", err)
	}
	<-h.Done()
}
