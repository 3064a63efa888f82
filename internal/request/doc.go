// Package request defines what ffbatch is asked to do: Version, the
// identity of one version of one input blob, and Request, one request to
// transcode it (from a drop into a watched container or a message on the
// arrivals queue), with the ids derived from them.
//
// It holds no I/O and no policy: internal/arrival decodes requests from
// messages, and internal/lifecycle decides what a request leads to.
package request
