package statusapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ffbatch/ffbatch/internal/results"
)

func TestParseQuery(t *testing.T) {
	containers := []string{"input", "upstream"}
	tests := []struct {
		name    string
		params  map[string]string
		want    string // fmt of the query
		wantErr bool
	}{
		{"defaults", nil, "{input  [] 100 }", false},
		{"everything", map[string]string{"container": "upstream", "prefix": "a/", "state": "failed, running,failed", "limit": "5", "marker": "m"}, "{upstream a/ [failed running] 5 m}", false},
		{"unknown container", map[string]string{"container": "other"}, "", true},
		{"unknown state", map[string]string{"state": "done"}, "", true},
		{"limit too big", map[string]string{"limit": "1001"}, "", true},
		{"limit not a number", map[string]string{"limit": "ten"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseQuery(tc.params, containers)
			if tc.wantErr {
				if !errors.Is(err, ErrQuery) {
					t.Errorf("err = %v, want ErrQuery", err)
				}
				return
			}
			if err != nil || fmt.Sprint(q) != tc.want {
				t.Errorf("ParseQuery = %v, %v; want %s", q, err, tc.want)
			}
		})
	}
}

func TestRowQueryStoresRunningAsSubmitted(t *testing.T) {
	q := Query{Container: "input", States: []results.State{results.StateRunning, results.StateSubmitted, results.StateFailed}, Limit: 3}
	rq := q.rowQuery()
	if fmt.Sprint(rq.States) != "[submitted failed]" {
		t.Errorf("store states = %v, want [submitted failed]", rq.States)
	}
	only := Query{States: []results.State{results.StateRunning}}
	if only.keeps(Row{}) || !only.keeps(Row{Row: rowIn(results.StateRunning)}) {
		t.Error("a running query keeps a row that is not running, or drops one that is")
	}
}
