package batchemu

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/store"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wire"
	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// Auto pools: a job whose poolInfo has an autoPoolSpecification gets its own
// pool, created with the job and (poolLifetimeOption "job", keepAlive false)
// deleted when the job completes or is deleted.

type autoPoolSpecification struct {
	AutoPoolIDPrefix   string                 `json:"autoPoolIdPrefix"`
	PoolLifetimeOption string                 `json:"poolLifetimeOption"`
	KeepAlive          bool                   `json:"keepAlive"`
	Pool               *wire.PoolAddParameter `json:"pool"`
}

const maxAutoPoolPrefix = 20

// autoPoolFor validates an auto pool specification and builds its pool;
// spec is nil when the job names an existing pool. mu not held.
func (s *Server) autoPoolFor(pi *wire.PoolInformation) (spec *autoPoolSpecification, pool wire.CloudPool, interval time.Duration, e *wireerr.Error) {
	if pi == nil || len(pi.AutoPoolSpecification) == 0 || string(pi.AutoPoolSpecification) == "null" {
		return nil, pool, 0, nil
	}
	spec = &autoPoolSpecification{}
	if err := json.Unmarshal(pi.AutoPoolSpecification, spec); err != nil {
		return nil, pool, 0, wireerr.InvalidProperty("poolInfo.autoPoolSpecification", "", err.Error())
	}
	switch strings.ToLower(spec.PoolLifetimeOption) {
	case "job":
	case "":
		return nil, pool, 0, wireerr.MissingProperty("poolInfo.autoPoolSpecification.poolLifetimeOption")
	case "jobschedule":
		return nil, pool, 0, wireerr.UnsupportedProperty("poolInfo.autoPoolSpecification.poolLifetimeOption")
	default:
		return nil, pool, 0, wireerr.InvalidProperty("poolInfo.autoPoolSpecification.poolLifetimeOption", spec.PoolLifetimeOption, "allowed values are job, jobschedule")
	}
	if spec.Pool == nil {
		return nil, pool, 0, wireerr.MissingProperty("poolInfo.autoPoolSpecification.pool")
	}
	if len(spec.AutoPoolIDPrefix) > maxAutoPoolPrefix || spec.AutoPoolIDPrefix != "" && !validID(spec.AutoPoolIDPrefix) {
		return nil, pool, 0, wireerr.InvalidProperty("poolInfo.autoPoolSpecification.autoPoolIdPrefix", spec.AutoPoolIDPrefix,
			"at most 20 letters, digits, hyphens and underscores")
	}
	id := newRequestID()
	if spec.AutoPoolIDPrefix != "" {
		id = spec.AutoPoolIDPrefix + "_" + id
	}
	spec.Pool.ID = id
	pool, interval, e = s.poolFromAdd(spec.Pool)
	if e != nil {
		return nil, pool, 0, prefixProperty(e, "poolInfo.autoPoolSpecification.pool.")
	}
	return spec, pool, interval, nil
}

// releaseAutoPool deletes the job's auto pool unless it is kept alive; mu held.
func (s *Server) releaseAutoPool(j *store.Job, now time.Time) {
	raw := j.Job.PoolInfo.AutoPoolSpecification
	if len(raw) == 0 {
		return
	}
	var spec autoPoolSpecification
	if err := json.Unmarshal(raw, &spec); err != nil || spec.KeepAlive {
		return
	}
	if p, ok := s.st.Pools[store.Key(j.Job.ExecutionInfo.PoolID)]; ok && p.Pool.State == wire.PoolActive {
		s.deletePoolLocked(p, now)
	}
}

// jobPoolKey is the key of the pool a job runs on (its own or its auto pool).
func jobPoolKey(j *store.Job) string { return store.Key(j.Job.ExecutionInfo.PoolID) }
