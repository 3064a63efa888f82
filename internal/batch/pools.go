package batch

import (
	"context"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// CreatePool adds a pool to the account (POST /pools). An existing id
// fails with CodePoolExists.
func (c *Client) CreatePool(ctx context.Context, pool PoolAddParameter) error {
	if err := checkID("pool", pool.ID); err != nil {
		return fmt.Errorf("create pool: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, "/pools", nil, pool, nil, http.StatusCreated); err != nil {
		return fmt.Errorf("create pool %s: %w", pool.ID, err)
	}
	return nil
}

// GetPool returns one pool.
func (c *Client) GetPool(ctx context.Context, poolID string, opts *GetOptions) (*Pool, error) {
	if err := checkID("pool", poolID); err != nil {
		return nil, fmt.Errorf("get pool: %w", err)
	}
	var p Pool
	if _, err := c.send(ctx, http.MethodGet, "/pools/"+escape(poolID), opts.query(), nil, &p, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get pool %s: %w", poolID, err)
	}
	return &p, nil
}

// PoolExists reports whether a pool exists (HEAD /pools/{id}).
func (c *Client) PoolExists(ctx context.Context, poolID string) (bool, error) {
	if err := checkID("pool", poolID); err != nil {
		return false, fmt.Errorf("pool exists: %w", err)
	}
	req, err := c.newRequest(ctx, http.MethodHead, "/pools/"+escape(poolID), nil)
	if err != nil {
		return false, fmt.Errorf("pool exists %s: %w", poolID, err)
	}
	resp, err := c.pl.Do(req)
	if err != nil {
		return false, fmt.Errorf("pool exists %s: %w", poolID, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("pool exists %s: %w", poolID, runtime.NewResponseError(resp))
}

// NewListPoolsPager lists the account's pools.
func (c *Client) NewListPoolsPager(opts *ListOptions) *runtime.Pager[ListPage[Pool]] {
	return newListPager[Pool](c, "list pools", "/pools", opts, true, nil)
}

// DeletePool starts deleting a pool; it moves to PoolStateDeleting first.
func (c *Client) DeletePool(ctx context.Context, poolID string) error {
	if err := checkID("pool", poolID); err != nil {
		return fmt.Errorf("delete pool: %w", err)
	}
	if _, err := c.send(ctx, http.MethodDelete, "/pools/"+escape(poolID), nil, nil, nil, http.StatusAccepted); err != nil {
		return fmt.Errorf("delete pool %s: %w", poolID, err)
	}
	return nil
}

// ResizePool changes a pool's target node counts. The pool must be steady
// and must not have autoscale enabled.
func (c *Client) ResizePool(ctx context.Context, poolID string, params PoolResizeParameter) error {
	if err := checkID("pool", poolID); err != nil {
		return fmt.Errorf("resize pool: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, "/pools/"+escape(poolID)+"/resize", nil, params, nil, http.StatusAccepted); err != nil {
		return fmt.Errorf("resize pool %s: %w", poolID, err)
	}
	return nil
}

// EnableAutoScale enables (or updates) autoscale on a pool. The service
// accepts this at most once every 30 seconds per pool.
func (c *Client) EnableAutoScale(ctx context.Context, poolID string, params PoolEnableAutoScaleParameter) error {
	if err := checkID("pool", poolID); err != nil {
		return fmt.Errorf("enable autoscale: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, "/pools/"+escape(poolID)+"/enableautoscale", nil, params, nil, http.StatusOK); err != nil {
		return fmt.Errorf("enable autoscale on pool %s: %w", poolID, err)
	}
	return nil
}

// DisableAutoScale turns autoscale off; the pool keeps its current size.
func (c *Client) DisableAutoScale(ctx context.Context, poolID string) error {
	if err := checkID("pool", poolID); err != nil {
		return fmt.Errorf("disable autoscale: %w", err)
	}
	if _, err := c.send(ctx, http.MethodPost, "/pools/"+escape(poolID)+"/disableautoscale", nil, nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("disable autoscale on pool %s: %w", poolID, err)
	}
	return nil
}

// EvaluateAutoScale evaluates formula against a pool that has autoscale
// enabled, without applying it. The result's Results string lists the
// variables as "$TargetDedicatedNodes=…;$NodeDeallocationOption=…;…".
func (c *Client) EvaluateAutoScale(ctx context.Context, poolID, formula string) (*AutoScaleRun, error) {
	if err := checkID("pool", poolID); err != nil {
		return nil, fmt.Errorf("evaluate autoscale: %w", err)
	}
	if formula == "" {
		return nil, fmt.Errorf("evaluate autoscale on pool %s: formula is empty", poolID)
	}
	body := struct {
		AutoScaleFormula string `json:"autoScaleFormula"`
	}{formula}
	var run AutoScaleRun
	if _, err := c.send(ctx, http.MethodPost, "/pools/"+escape(poolID)+"/evaluateautoscale", nil, body, &run, http.StatusOK); err != nil {
		return nil, fmt.Errorf("evaluate autoscale on pool %s: %w", poolID, err)
	}
	return &run, nil
}

// NewListNodesPager lists the compute nodes of a pool.
func (c *Client) NewListNodesPager(poolID string, opts *ListOptions) *runtime.Pager[ListPage[Node]] {
	return newListPager[Node](c, "list nodes of pool "+poolID, "/pools/"+escape(poolID)+"/nodes", opts, false, checkID("pool", poolID))
}
