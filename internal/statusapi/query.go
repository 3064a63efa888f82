package statusapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ffbatch/ffbatch/internal/lifecycle"
	"github.com/ffbatch/ffbatch/internal/results"
)

// DefaultLimit is the rows of a page when the query does not say.
const DefaultLimit = 100

// Query selects the rows of a page: the HTTP query parameters container,
// prefix, state (comma-separated), limit and marker.
type Query struct {
	Container string          `json:"container"`
	Prefix    string          `json:"prefix,omitempty"`
	States    []results.State `json:"states,omitempty"`
	Limit     int             `json:"limit"`
	Marker    string          `json:"marker,omitempty"`
}

// filterable are the states a query may ask for: the stored ones and
// running (a submitted request whose task has started).
var filterable = []results.State{results.StateQueued, results.StateSubmitted, results.StateRunning,
	results.StateSucceeded, results.StateFailed, results.StateRejected, results.StateIgnored}

// ErrQuery wraps an invalid query parameter.
var ErrQuery = fmt.Errorf("invalid query")

// ParseQuery reads the query parameters of a Status request; containers
// are the allowed containers, the first the default.
func ParseQuery(params map[string]string, containers []string) (Query, error) {
	q := Query{Container: params["container"], Prefix: params["prefix"], Marker: params["marker"], Limit: DefaultLimit}
	if q.Container == "" {
		q.Container = containers[0]
	}
	if !slices.Contains(containers, q.Container) {
		return Query{}, fmt.Errorf("%w: container %q is not one of %s", ErrQuery, q.Container, strings.Join(containers, ", "))
	}
	if v := params["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > lifecycle.MaxRowLimit {
			return Query{}, fmt.Errorf("%w: limit %q: want 1 to %d", ErrQuery, v, lifecycle.MaxRowLimit)
		}
		q.Limit = n
	}
	for _, s := range strings.Split(params["state"], ",") {
		st := results.State(strings.TrimSpace(s))
		switch {
		case st == "":
		case !slices.Contains(filterable, st):
			return Query{}, fmt.Errorf("%w: state %q: want one of %s", ErrQuery, st, joinStates(filterable))
		case !slices.Contains(q.States, st):
			q.States = append(q.States, st)
		}
	}
	return q, nil
}

func joinStates(ss []results.State) string {
	var out []string
	for _, s := range ss {
		out = append(out, string(s))
	}
	return strings.Join(out, ", ")
}

// rowQuery is the store query: running is stored as submitted.
func (q Query) rowQuery() lifecycle.RowQuery {
	rq := lifecycle.RowQuery{Container: q.Container, Prefix: q.Prefix, Marker: q.Marker, Limit: q.Limit}
	for _, s := range q.States {
		if s == results.StateRunning {
			s = results.StateSubmitted
		}
		if !slices.Contains(rq.States, s) {
			rq.States = append(rq.States, s)
		}
	}
	return rq
}

// keeps reports whether a row with its live state belongs on the page:
// a submitted row asked for as running must have started.
func (q Query) keeps(r Row) bool {
	return len(q.States) == 0 || slices.Contains(q.States, r.State)
}
