package bench

import (
	"os/exec"
	"slices"
	"testing"
	"time"
)

// forkExecLatency is the median time to start and reap /bin/true directly.
func forkExecLatency(b *testing.B, n int) time.Duration {
	b.Helper()
	var d []time.Duration
	for range n {
		start := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	return d[len(d)/2]
}
