package config

import (
	"strconv"
	"strings"
	"time"
)

// The env struct's typed fields never fail inside envconfig: they keep the
// raw text and the parse error so that Load can report every bad setting at
// once instead of stopping at the first, as envconfig.Process would.

type intField struct {
	v   int
	raw string
	err error
}

func (f *intField) Decode(s string) error {
	f.raw = s
	f.v, f.err = strconv.Atoi(strings.TrimSpace(s))
	if f.err != nil {
		f.err = errNotInteger
	}
	return nil
}

type durationField struct {
	v   time.Duration
	raw string
	err error
}

func (f *durationField) Decode(s string) error {
	f.raw = s
	f.v, f.err = time.ParseDuration(strings.TrimSpace(s))
	if f.err != nil {
		f.err = errNotDuration
	}
	return nil
}

type problem string

func (p problem) Error() string { return string(p) }

const (
	errNotInteger  = problem("must be an integer")
	errNotDuration = problem(`must be a Go duration such as "90s", "15m" or "2h"`)
)
