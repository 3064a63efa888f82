// Package ncrontab parses the six-field NCRONTAB expressions of Azure
// Functions timer triggers, {second} {minute} {hour} {day} {month}
// {day-of-week}, with robfig/cron set up the one way both the handler's
// start-up check and the local host stand-in use, so the two cannot
// disagree about a schedule.
//
// It does not parse TimeSpan schedules ("00:05:00") or resolve %Setting%
// indirections; callers that accept those handle them first. Schedules are
// evaluated in the location of the time passed to Next (the host uses UTC).
package ncrontab

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule yields the next occurrence strictly after t, or the zero time
// if there is none within five years.
type Schedule interface {
	Next(t time.Time) time.Time
}

// parser has the seconds field enabled and descriptors (@hourly, @every)
// off: NCRONTAB has none.
var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// probe is the instant from which Parse checks that a schedule fires; any
// five years hold a 29 February, so the check does not depend on it.
var probe = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse parses a six-field NCRONTAB expression. It refuses descriptors,
// any other number of fields and schedules that never fire (30 February).
func Parse(expr string) (Schedule, error) {
	e := strings.TrimSpace(expr)
	switch n := len(strings.Fields(e)); {
	case e == "":
		return nil, errors.New("NCRONTAB expression is empty")
	case strings.HasPrefix(e, "@"):
		return nil, errors.New("descriptors are not NCRONTAB; use six fields {second} {minute} {hour} {day} {month} {day-of-week}")
	case n != 6:
		return nil, fmt.Errorf("NCRONTAB needs six fields {second} {minute} {hour} {day} {month} {day-of-week}, got %d", n)
	}
	s, err := parser.Parse(e)
	if err != nil {
		return nil, err
	}
	if s.Next(probe).IsZero() {
		return nil, errors.New("the schedule never fires")
	}
	return s, nil
}
