package batchemu

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
)

// TestJournalRecordsOmitAutoscaleSamples: journal records carry pools
// without their sample histories (only snapshots keep them), the live state
// keeps its samples, and replaying a record keeps the snapshot's samples.
func TestJournalRecordsOmitAutoscaleSamples(t *testing.T) {
	samples := map[string][]store.Sample{"$PendingTasks": {{Time: time.Unix(1, 0).UTC(), Value: 3}}}
	s := &Server{st: &store.State{
		Pools: map[string]*store.Pool{"p": {Samples: samples}},
		Jobs:  map[string]*store.Job{},
	}}
	rec := s.journalRecord(1)
	if rec.Pools["p"] == nil || rec.Pools["p"].Samples != nil {
		t.Fatalf("journal record pool = %+v, want the pool without samples", rec.Pools["p"])
	}
	if s.st.Pools["p"].Samples == nil {
		t.Fatalf("journalRecord cleared the live pool's samples")
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "PendingTasks") {
		t.Fatalf("journal record JSON carries samples: %s", b)
	}
	var back store.JournalRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	replayed := store.State{Pools: map[string]*store.Pool{"p": {Samples: samples}}, Jobs: map[string]*store.Job{}}
	replayed.Apply(&back)
	if got := replayed.Pools["p"].Samples["$PendingTasks"]; len(got) != 1 || got[0].Value != 3 {
		t.Fatalf("after replay samples = %v, want the snapshot's", replayed.Pools["p"].Samples)
	}
}
