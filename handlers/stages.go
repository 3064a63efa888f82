package handlers

import (
	"fmt"
	"strings"
	"time"
)

// stages times the consecutive stages of one invocation for its log
// (where the time of an invocation goes). Not safe for concurrent use.
type stages struct {
	last  time.Time
	names []string
	took  []time.Duration
}

func newStages() *stages { return &stages{last: time.Now()} }

// done ends stage name, which began when the previous one ended.
func (s *stages) done(name string) {
	now := time.Now()
	s.names, s.took = append(s.names, name), append(s.took, now.Sub(s.last))
	s.last = now
}

// String lists the stages as "name 12ms, ...".
func (s *stages) String() string {
	parts := make([]string, len(s.names))
	for i, n := range s.names {
		parts[i] = fmt.Sprintf("%s %s", n, s.took[i].Round(time.Millisecond))
	}
	return strings.Join(parts, ", ")
}
