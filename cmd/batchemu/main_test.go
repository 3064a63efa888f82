package main

import (
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, c *config)
	}{
		{"defaults", nil, false, func(t *testing.T, c *config) {
			if c.addr != "127.0.0.1:10200" || c.opts.Storage == nil || c.opts.Storage.AccountName != "devstoreaccount1" || c.opts.AutoScaleMinInterval != 5*time.Minute {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{"overrides", []string{"--addr", "127.0.0.1:0", "--data", "/tmp/x", "--node-start-delay", "2s", "--concurrency", "3", "--autoscale-min-interval", "10s"}, false, func(t *testing.T, c *config) {
			if c.addr != "127.0.0.1:0" || c.opts.DataDir != "/tmp/x" || c.opts.NodeStartDelay != 2*time.Second || c.opts.Concurrency != 3 || c.opts.AutoScaleMinInterval != 10*time.Second {
				t.Errorf("overrides: %+v", c)
			}
		}},
		{"no auto-storage", []string{"--storage-endpoint", ""}, false, func(t *testing.T, c *config) {
			if c.opts.Storage != nil {
				t.Errorf("storage %+v, want nil", c.opts.Storage)
			}
		}},
		{"negative concurrency", []string{"--concurrency", "-1"}, true, nil},
		{"zero autoscale interval", []string{"--autoscale-min-interval", "0s"}, true, nil},
		{"stray argument", []string{"extra"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
