package sbemu

import (
	"testing"
	"time"
)

// TestAuthStateAllowed: a token covers its entity and the entity's
// children (sub-queues, subscriptions, $management), case-insensitively,
// until it expires; never an entity whose name merely starts with the
// token's ("q1" is not a parent of "q10").
func TestAuthStateAllowed(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := &authState{tokens: map[string]time.Time{"q1": now.Add(time.Hour), "t1": now.Add(time.Hour), "old": now}}
	tests := []struct {
		addr string
		want bool
	}{
		{"q1", true},
		{"/Q1/", true},
		{"q1/$DeadLetterQueue", true},
		{"q1/$management", true},
		{"t1/subscriptions/all", true},
		{"q10", false},
		{"q1-archive", false},
		{"q", false},
		{"old", false},
		{"$management", false},
	}
	for _, tt := range tests {
		if got := a.allowed(tt.addr, now); got != tt.want {
			t.Errorf("allowed(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if ns := (&authState{tokens: map[string]time.Time{"": now.Add(time.Hour)}}); !ns.allowed("anything/at/all", now) {
		t.Error("a namespace token does not cover an entity")
	}
}
