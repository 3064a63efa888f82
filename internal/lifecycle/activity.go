package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ffbatch/ffbatch/internal/results"
)

// Bounds of the activity summary.
const (
	// ActivityWindow is how far back the per-minute counts go.
	ActivityWindow = time.Hour
	// RecentAnswers is how many recent answers it keeps.
	RecentAnswers = 20
)

// Activity is the rolling summary of recent answers that the dashboard
// reads in one request: per-minute counts over the last ActivityWindow and
// the last RecentAnswers answered requests. The functions add the answers
// they decide (Change.Answered) once per invocation (Store.RecordActivity),
// so it costs one small conditional write per invocation that answered
// something, and nothing per page view beyond one read.
//
// It is an observation, not a record: an invocation that dies between
// writing a record and adding its answers leaves them out (its retry
// repeats the answers, which are not fresh, so nothing is counted twice).
type Activity struct {
	// Minutes are the minutes with answers, oldest first.
	Minutes []MinuteCount `json:"minutes"`
	// Recent are the last answers, newest first.
	Recent    []Answer  `json:"recent"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// MinuteCount counts the answers of one minute by outcome.
type MinuteCount struct {
	// Minute is the start of the minute, UTC.
	Minute time.Time `json:"minute"`
	// Succeeded counts transcodes (not reused answers), Reused answers with
	// the MP3 of identical work, Refused rejected and ignored requests.
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Reused    int `json:"reused"`
	Refused   int `json:"refused"`
	// AudioMillis is the audio the transcodes made, where known.
	AudioMillis int64 `json:"audioMillis"`
}

// Answer is one recently answered request.
type Answer struct {
	Time        time.Time     `json:"time"`
	State       results.State `json:"state"`
	Container   string        `json:"container"`
	Blob        string        `json:"blob"`
	Request     string        `json:"request"`
	Preset      string        `json:"preset,omitempty"`
	Output      string        `json:"output,omitempty"`
	Reused      bool          `json:"reused,omitempty"`
	AudioMillis int64         `json:"audioMillis,omitempty"`
	Reason      string        `json:"reason,omitempty"`
}

// answerOf is the Answer of an answered entry.
func answerOf(e Entry) Answer {
	a := Answer{Time: e.AnsweredAt.UTC(), State: e.State, Container: e.Container, Blob: e.Blob, Request: e.ID,
		Preset: e.Preset, Reused: e.Reused != nil, AudioMillis: e.AudioMillis, Reason: results.Excerpt(ShortReason(&e), maxReasonBytes)}
	if e.MP3 != nil {
		a.Output = e.MP3.Blob
	}
	return a
}

// Add counts answered entries and keeps the newest as recent answers,
// then drops what is older than ActivityWindow before now.
func (a *Activity) Add(answered []Entry, now time.Time) {
	for _, e := range answered {
		if !e.State.Terminal() {
			continue
		}
		a.count(e)
		a.Recent = append(a.Recent, answerOf(e))
	}
	slices.SortStableFunc(a.Recent, func(x, y Answer) int { return y.Time.Compare(x.Time) })
	seen := map[Answer]bool{}
	a.Recent = slices.DeleteFunc(a.Recent, func(r Answer) bool {
		k := Answer{Container: r.Container, Blob: r.Blob, Request: r.Request, State: r.State}
		dup := seen[k]
		seen[k] = true
		return dup
	})
	if len(a.Recent) > RecentAnswers {
		a.Recent = a.Recent[:RecentAnswers]
	}
	a.Trim(now)
}

func (a *Activity) count(e Entry) {
	minute := e.AnsweredAt.UTC().Truncate(time.Minute)
	i, found := slices.BinarySearchFunc(a.Minutes, minute, func(m MinuteCount, t time.Time) int { return m.Minute.Compare(t) })
	if !found {
		a.Minutes = slices.Insert(a.Minutes, i, MinuteCount{Minute: minute})
	}
	m := &a.Minutes[i]
	switch {
	case e.State == results.StateSucceeded && e.Reused != nil:
		m.Reused++
	case e.State == results.StateSucceeded:
		m.Succeeded++
		m.AudioMillis += e.AudioMillis
	case e.State == results.StateFailed:
		m.Failed++
	default:
		m.Refused++
	}
}

// Trim drops the minutes and answers older than ActivityWindow before now.
func (a *Activity) Trim(now time.Time) {
	from := now.UTC().Add(-ActivityWindow).Truncate(time.Minute)
	a.Minutes = slices.DeleteFunc(a.Minutes, func(m MinuteCount) bool { return m.Minute.Before(from) })
	a.Recent = slices.DeleteFunc(a.Recent, func(r Answer) bool { return r.Time.Before(from) })
}

// Activity reads the activity summary, trimmed to the window before the
// store's clock; an empty one when there is none.
func (s *Store) Activity(ctx context.Context) (Activity, error) {
	var a Activity
	if _, err := s.read(ctx, ActivityName, &a); err != nil && !errors.Is(err, ErrNotFound) {
		return Activity{}, fmt.Errorf("read activity: %w", err)
	}
	a.Trim(s.now())
	return a, nil
}

// RecordActivity adds answered entries to the activity summary under an
// ETag condition, reading again on a conflict.
func (s *Store) RecordActivity(ctx context.Context, answered []Entry) error {
	if len(answered) == 0 {
		return nil
	}
	for range maxUpdateAttempts {
		var a Activity
		etag, err := s.read(ctx, ActivityName, &a)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("record activity: %w", err)
		}
		now := s.now().UTC()
		a.Add(answered, now)
		a.UpdatedAt = now
		done, err := s.write(ctx, ActivityName, a, nil, etag)
		if err != nil {
			return fmt.Errorf("record activity: %w", err)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("record activity: gave up after %d conflicting writes", maxUpdateAttempts)
}
