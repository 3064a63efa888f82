package handlers

import "sync"

// statusWorkers bounds concurrent status record updates (each is a read
// and a conditional write to Blob storage).
const statusWorkers = 16

// forEach calls fn(0..n-1) on at most workers goroutines and returns the
// first error; after an error no new calls start.
func forEach(n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards first and next
		first error
		next  int
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}
