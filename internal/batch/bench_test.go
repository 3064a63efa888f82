package batch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

const benchTasks = 10000

// BenchmarkAddTasks10000 adds 10,000 tasks to the in-process fake with
// AddTasks (default options: chunks of 100, 4 in flight) and, in the same
// iteration, posts the same pre-serialized chunks with plain signed
// net/http requests (also 4 in flight) as a baseline. It reports both
// rates and their ratio; ns/op covers both halves.
func BenchmarkAddTasks10000(b *testing.B) {
	f := newFakeBatch(b)
	c := f.client(b, fakeKey)
	cred, err := NewSharedKeyCredential(fakeAccount, fakeKey)
	if err != nil {
		b.Fatal(err)
	}
	tasks := makeTasks(benchTasks, 40)
	ctx := context.Background()
	var clientTime, rawTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		rawJob, clientJob := fmt.Sprintf("raw%d", i), fmt.Sprintf("client%d", i)
		for _, j := range []string{rawJob, clientJob} {
			if err := c.CreateJob(ctx, JobAddParameter{ID: j, PoolInfo: PoolInfo{PoolID: "p"}}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		bodies := chunkBodies(b, tasks)
		b.StartTimer()

		start := time.Now()
		postRaw(b, cred, f.srv.URL+"/jobs/"+rawJob+"/addtaskcollection?api-version="+DefaultAPIVersion, bodies, 4)
		rawTime += time.Since(start)

		start = time.Now()
		res, err := c.AddTasks(ctx, clientJob, tasks, nil)
		clientTime += time.Since(start)
		if err != nil || len(res.Added) != benchTasks {
			b.Fatalf("AddTasks: %v (%d added)", err, len(res.Added))
		}
		b.StopTimer()
		f.mu.Lock()
		f.requests, f.tasks = nil, map[string][]json.RawMessage{}
		f.mu.Unlock()
		b.StartTimer()
	}
	n := float64(benchTasks * b.N)
	b.ReportMetric(n/clientTime.Seconds(), "tasks/s")
	b.ReportMetric(n/rawTime.Seconds(), "raw-tasks/s")
	b.ReportMetric(rawTime.Seconds()/clientTime.Seconds(), "client/raw")
}

// chunkBodies serializes tasks into add-collection bodies of 100.
func chunkBodies(b *testing.B, tasks []TaskAddParameter) [][]byte {
	b.Helper()
	var out [][]byte
	for i := 0; i < len(tasks); i += MaxTasksPerCollection {
		body, err := marshalJSON(struct {
			Value []TaskAddParameter `json:"value"`
		}{tasks[i:min(i+MaxTasksPerCollection, len(tasks))]})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, body)
	}
	return out
}

// postRaw posts each body with a Shared Key signature and no pipeline,
// workers at a time.
func postRaw(b *testing.B, cred *SharedKeyCredential, url string, bodies [][]byte, workers int) {
	b.Helper()
	work := make(chan []byte)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error // guarded by mu; workers keep draining after an error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				if err := postSigned(cred, url, body); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, body := range bodies {
		work <- body
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

func postSigned(cred *SharedKeyCredential, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentTypeJSON)
	req.Header.Set("ocp-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("Authorization", "SharedKey "+fakeAccount+":"+cred.sign(stringToSign(fakeAccount, req)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("raw post: HTTP %d", resp.StatusCode)
	}
	return nil
}
