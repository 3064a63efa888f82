package handlers

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	t.Run("all items once, bounded", func(t *testing.T) {
		var mu sync.Mutex
		seen := map[int]int{}
		var running, peak atomic.Int32
		err := forEach(100, 4, func(i int) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			mu.Lock()
			seen[i]++
			mu.Unlock()
			running.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 100 {
			t.Errorf("saw %d items, want 100", len(seen))
		}
		for i, c := range seen {
			if c != 1 {
				t.Errorf("item %d ran %d times", i, c)
			}
		}
		if peak.Load() > 4 {
			t.Errorf("peak concurrency %d > 4", peak.Load())
		}
	})
	t.Run("first error returned, no new work after it", func(t *testing.T) {
		boom := errors.New("boom")
		var calls atomic.Int32
		err := forEach(1000, 1, func(i int) error {
			calls.Add(1)
			if i == 3 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) || calls.Load() != 4 {
			t.Errorf("err %v after %d calls, want boom after 4", err, calls.Load())
		}
	})
	t.Run("zero items", func(t *testing.T) {
		if err := forEach(0, 4, func(int) error { return errors.New("called") }); err != nil {
			t.Errorf("err = %v", err)
		}
	})
}
