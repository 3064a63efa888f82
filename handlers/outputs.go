package handlers

import (
	"context"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ffbatch/ffbatch/internal/blobaccess"
	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/results"
)

// outputRef is where an output blob is, without SAS.
func (a *App) outputRef(blob string) *results.Output {
	return &results.Output{
		URL:       blobaccess.BlobURL(a.d.Signer.AccountURL(), a.cfg.OutputContainer, blob),
		Container: a.cfg.OutputContainer,
		Blob:      blob,
	}
}

// logsURL is the SAS-free URL prefix of a task's logs.
func (a *App) logsURL(taskID string) string {
	return blobaccess.BlobURL(a.d.Signer.AccountURL(), a.cfg.OutputContainer, plan.LogsPath(a.cfg.LogsPrefix, taskID))
}

// containerOnce creates the output container once per process; Batch
// fails uploads (FileUploadContainerNotFound) if it is missing.
type containerOnce struct {
	mu   sync.Mutex // guards done
	done bool
}

func (c *containerOnce) ensure(ctx context.Context, blobs blobAPI, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return nil
	}
	_, err := blobs.CreateContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("create container %s: %w", name, err)
	}
	c.done = true
	return nil
}
