package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// waitHealthy polls url until it answers as healthy, the process exits,
// ctx ends or timeout passes. The Functions host is healthy when
// /admin/host/status reports "Running"; the others when they answer 200
// (Service Bus /health) or any HTTP status (the Batch emulator's root).
// key gives the x-functions-key to present ("" for none).
func waitHealthy(ctx context.Context, url string, key func() string, timeout time.Duration, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		ok, err := probe(ctx, client, url, key(), p.name)
		if ok {
			return nil
		}
		last = err
		select {
		case <-p.exited():
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("not healthy after %s (%v): see %s", timeout, last, p.logPath)
		case <-tick.C:
		}
	}
}

func probe(ctx context.Context, client *http.Client, url, key, name string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	if key != "" {
		req.Header.Set("x-functions-key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch name {
	case Batch:
		return true, nil
	case Functions:
		var st struct {
			State string `json:"state"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &st) != nil {
			return false, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		if st.State != "Running" {
			return false, fmt.Errorf("host state %q", st.State)
		}
		return true, nil
	default:
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return true, nil
	}
}
