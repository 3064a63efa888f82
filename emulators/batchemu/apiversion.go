package batchemu

import (
	"net/http"
	"strings"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/wireerr"
)

// knownAPIVersions are the Batch data-plane api-versions the emulator accepts
// (all published versions from 2017 on; the wire shapes the emulator uses are
// the same in all of them, see docs/fidelity/batchemu.md).
var knownAPIVersions = map[string]bool{
	"2017-01-01.4.0": true, "2017-05-01.5.0": true, "2017-06-01.5.1": true, "2017-09-01.6.0": true,
	"2018-03-01.6.1": true, "2018-08-01.7.0": true, "2018-12-01.8.0": true, "2019-06-01.9.0": true,
	"2019-08-01.10.0": true, "2020-03-01.11.0": true, "2020-09-01.12.0": true, "2021-06-01.14.0": true,
	"2022-01-01.15.0": true, "2022-10-01.16.0": true, "2023-05-01.17.0": true, "2023-11-01.18.0": true,
	"2024-02-01.19.0": true, "2024-07-01.20.0": true, "2025-06-01": true,
}

// checkAPIVersion validates api-version and timeout/timeOut.
func checkAPIVersion(r *http.Request) (string, *wireerr.Error) {
	q := r.URL.Query()
	v := q.Get("api-version")
	if v == "" {
		return "", wireerr.MissingAPIVersion()
	}
	if !knownAPIVersions[v] {
		return "", wireerr.UnsupportedAPIVersion(v)
	}
	for k, vals := range q {
		if !strings.EqualFold(k, "timeout") {
			continue
		}
		for _, t := range vals {
			n, err := parseIntStrict(t)
			if err != nil || n < 1 {
				return "", wireerr.InvalidQuery(k, t, "timeout must be a positive integer number of seconds")
			}
		}
	}
	return v, nil
}
