package arrival

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
)

// Limits of the schema.
const (
	MaxBlobNameChars  = 1024 // Azure's blob name limit
	MaxPathSegments   = 254  // Azure's limit on virtual directory depth
	MaxETagChars      = 128
	MaxCorrelationLen = 128
	MaxResubmit       = 100
	MaxSizeBytes      = 5 << 40 // 5 TiB: far beyond any realistic MP4, keeps arithmetic safe
	MaxMessageBytes   = 64 << 10
)

// Arrival is the arrivals-queue message: a request to transcode one
// committed MP4 blob, as a producer sends it (preset and output may be
// left to the defaults). Request resolves it.
type Arrival struct {
	// Version locates the input: container, blob, ETag (the version to
	// transcode, without quotes), size (at least 1) and, when known, the
	// content MD5 (base64, as Azure reports Content-MD5).
	request.Version
	// Preset names the ffmpeg preset; empty means the configured default.
	Preset string `json:"preset,omitempty"`
	// Output is the MP3 blob name in the output container; empty means the
	// naming rule (plan.OutputName).
	Output string `json:"output,omitempty"`
	// Correlation is an opaque id from the producer, echoed in result
	// events. (Not "correlationId": the host merges top-level body
	// properties into trigger metadata, where CorrelationId already exists.)
	Correlation string `json:"correlation,omitempty"`
	// Request is the producer's id of this request; empty means the
	// message's MessageId, else request.DefaultID.
	Request string `json:"request,omitempty"`
	// Force transcodes even when the same work already succeeded.
	Force bool `json:"force,omitempty"`
	// Overwrite lets the request write an output another input or preset
	// owns.
	Overwrite bool `json:"overwrite,omitempty"`
	// Resubmit counts SweepPools' resubmissions after transient failures;
	// producers omit it.
	Resubmit int `json:"resubmit,omitempty"`
}

// Reason is a stable, machine-readable cause of rejection.
type Reason string

const (
	ReasonNotJSON          Reason = "not_json"
	ReasonTooLarge         Reason = "message_too_large"
	ReasonUnknownField     Reason = "unknown_field"
	ReasonDuplicateField   Reason = "duplicate_field"
	ReasonMissing          Reason = "missing"
	ReasonWrongType        Reason = "wrong_type"
	ReasonEmptyBlob        Reason = "empty_blob"
	ReasonOutOfRange       Reason = "out_of_range"
	ReasonTooLong          Reason = "too_long"
	ReasonInvalidName      Reason = "invalid_name"
	ReasonDotSegment       Reason = "dot_segment"
	ReasonBadExtension     Reason = "unsupported_extension"
	ReasonUnknownPreset    Reason = "unknown_preset"
	ReasonBadOutputName    Reason = "bad_output_name"
	ReasonInvalidETag      Reason = "invalid_etag"
	ReasonInvalidText      Reason = "invalid_text"
	ReasonInvalidContainer Reason = "invalid_container"
	ReasonInvalidMD5       Reason = "invalid_content_md5"
	ReasonInvalidRequestID Reason = "invalid_request_id"
)

// Problem is one reason a message is invalid.
type Problem struct {
	Field   string `json:"field,omitempty"`
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
}

// Error lists every problem of an invalid message.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Field != "" {
			parts[i] = p.Field + ": " + p.Message
		} else {
			parts[i] = p.Message
		}
	}
	return "invalid arrival: " + strings.Join(parts, "; ")
}

// Reason returns the first problem's reason.
func (e *Error) Reason() Reason {
	if len(e.Problems) == 0 {
		return ""
	}
	return e.Problems[0].Reason
}

var knownFields = map[string]bool{
	"container": true, "blob": true, "etag": true, "size": true,
	"preset": true, "output": true, "correlation": true, "resubmit": true,
	"contentMD5": true, "request": true, "force": true, "overwrite": true,
}

// Parse decodes and validates an arrival message. Unknown fields are
// rejected (a misspelt "preset" must not silently fall back to the
// default). Every problem is reported; the error is an *Error.
func Parse(data []byte) (Arrival, error) {
	var a Arrival
	if len(data) > MaxMessageBytes {
		return a, &Error{[]Problem{{Reason: ReasonTooLarge, Message: fmt.Sprintf("message is %d bytes, limit %d", len(data), MaxMessageBytes)}}}
	}
	fields, err := objectFields(data)
	if err != nil {
		return a, &Error{[]Problem{*err}}
	}
	var ps problems
	for _, k := range sortedKeys(fields) {
		if !knownFields[k] {
			ps.add(k, ReasonUnknownField, "unknown field (known: blob, container, contentMD5, correlation, etag, force, output, overwrite, preset, request, resubmit, size)")
		}
	}
	a.Container = ps.str(fields, "container", true)
	a.Blob = ps.str(fields, "blob", true)
	a.ETag = ps.str(fields, "etag", true)
	a.Size = ps.integer(fields, "size", true)
	a.Preset = ps.str(fields, "preset", false)
	a.Output = ps.str(fields, "output", false)
	a.Correlation = ps.str(fields, "correlation", false)
	a.Resubmit = int(ps.integer(fields, "resubmit", false))
	a.ContentMD5 = ps.str(fields, "contentMD5", false)
	a.Request = ps.str(fields, "request", false)
	a.Force = ps.boolean(fields, "force")
	a.Overwrite = ps.boolean(fields, "overwrite")
	if len(ps) == 0 {
		a.ETag = NormalizeETag(a.ETag)
		ps = append(ps, a.validate()...)
	}
	if len(ps) > 0 {
		return Arrival{}, &Error{Problems: ps}
	}
	return a, nil
}

// Validate checks an Arrival built in code (BlobCreated, resubmissions)
// with the same rules as Parse.
func (a Arrival) Validate() error {
	if ps := a.validate(); len(ps) > 0 {
		return &Error{Problems: ps}
	}
	return nil
}

func (a Arrival) validate() problems {
	var ps problems
	if !containerName.MatchString(a.Container) {
		ps.add("container", ReasonInvalidContainer, "must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit")
	}
	if p := nameProblem(a.Blob); p != nil {
		p.Field = "blob"
		ps = append(ps, *p)
	} else if !HasMP4Extension(a.Blob) {
		ps.add("blob", ReasonBadExtension, "must end in .mp4 (any case)")
	}
	switch {
	case a.ETag == "":
		ps.add("etag", ReasonMissing, "must not be empty")
	case len(a.ETag) > MaxETagChars:
		ps.add("etag", ReasonTooLong, fmt.Sprintf("longer than %d characters", MaxETagChars))
	case !etag.MatchString(a.ETag):
		ps.add("etag", ReasonInvalidETag, "must be printable ASCII without spaces or quotes")
	}
	switch {
	case a.Size == 0:
		ps.add("size", ReasonEmptyBlob, "the blob is empty (size 0); there is nothing to transcode")
	case a.Size < 0 || a.Size > MaxSizeBytes:
		ps.add("size", ReasonOutOfRange, fmt.Sprintf("must be between 1 and %d", int64(MaxSizeBytes)))
	}
	if a.Preset != "" {
		if _, ok := plan.LookupPreset(a.Preset); !ok {
			ps.add("preset", ReasonUnknownPreset, fmt.Sprintf("unknown preset %q (known: %s)", truncate(a.Preset, 40), strings.Join(plan.PresetNames(), ", ")))
		}
	}
	if a.Output != "" {
		if p := nameProblem(a.Output); p != nil {
			ps.add("output", ReasonBadOutputName, p.Message)
		} else if !HasMP3Extension(a.Output) {
			ps.add("output", ReasonBadOutputName, "must end in .mp3")
		}
	}
	if len(a.Correlation) > MaxCorrelationLen {
		ps.add("correlation", ReasonTooLong, fmt.Sprintf("longer than %d bytes", MaxCorrelationLen))
	} else if !printable(a.Correlation) {
		ps.add("correlation", ReasonInvalidText, "must be valid UTF-8 without control characters")
	}
	if p := requestIDProblem(a.Request); p != "" {
		ps.add("request", ReasonInvalidRequestID, p)
	}
	if a.Resubmit < 0 || a.Resubmit > MaxResubmit {
		ps.add("resubmit", ReasonOutOfRange, fmt.Sprintf("must be between 0 and %d", MaxResubmit))
	}
	if a.ContentMD5 != "" && !ValidContentMD5(a.ContentMD5) {
		ps.add("contentMD5", ReasonInvalidMD5, fmt.Sprintf("must be the standard base64 encoding (with padding) of a %d-byte MD5, e.g. 1B2M2Y8AsgTpgAmY7PhCfg==", md5.Size))
	}
	return ps
}

// ValidContentMD5 reports whether s is the canonical standard base64
// encoding of 16 bytes, as Azure reports Content-MD5.
func ValidContentMD5(s string) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == md5.Size && base64.StdEncoding.EncodeToString(b) == s
}

// EncodeContentMD5 returns the arrival form of a raw Content-MD5, or ""
// when md5sum is not 16 bytes (Azure returns none for most block-list
// uploads).
func EncodeContentMD5(md5sum []byte) string {
	if len(md5sum) != md5.Size {
		return ""
	}
	return base64.StdEncoding.EncodeToString(md5sum)
}

// nameProblem checks a blob name: 1-1024 characters of valid UTF-8 without
// control characters or backslashes, relative, no empty, "." or ".."
// segments, not ending in "." or "/", at most 254 segments.
func nameProblem(name string) *Problem {
	switch {
	case name == "":
		return &Problem{Reason: ReasonMissing, Message: "must not be empty"}
	case !utf8.ValidString(name):
		return &Problem{Reason: ReasonInvalidName, Message: "must be valid UTF-8"}
	case utf8.RuneCountInString(name) > MaxBlobNameChars:
		return &Problem{Reason: ReasonTooLong, Message: fmt.Sprintf("is %d characters, limit %d", utf8.RuneCountInString(name), MaxBlobNameChars)}
	case !printable(name):
		return &Problem{Reason: ReasonInvalidName, Message: "must not contain control characters"}
	case strings.Contains(name, `\`):
		return &Problem{Reason: ReasonInvalidName, Message: `must not contain backslashes (some stores treat \ as /)`}
	case strings.HasPrefix(name, "/"):
		return &Problem{Reason: ReasonInvalidName, Message: "must be relative (no leading /)"}
	case strings.HasSuffix(name, "/") || strings.HasSuffix(name, "."):
		return &Problem{Reason: ReasonInvalidName, Message: "must not end in / or ."}
	}
	segs := strings.Split(name, "/")
	if len(segs) > MaxPathSegments {
		return &Problem{Reason: ReasonInvalidName, Message: fmt.Sprintf("has %d path segments, limit %d", len(segs), MaxPathSegments)}
	}
	for _, s := range segs {
		switch s {
		case "":
			return &Problem{Reason: ReasonInvalidName, Message: "must not contain empty path segments (//)"}
		case ".", "..":
			return &Problem{Reason: ReasonDotSegment, Message: `must not contain "." or ".." path segments`}
		}
	}
	return nil
}

// HasMP4Extension reports whether name ends in .mp4 in any case.
func HasMP4Extension(name string) bool { return strings.EqualFold(pathExt(name), ".mp4") }

// HasMP3Extension reports whether name ends in .mp3 in any case: the
// names of outputs.
func HasMP3Extension(name string) bool { return strings.EqualFold(pathExt(name), ".mp3") }

// NotMP4Message is the rejection message of a dropped blob that is not an
// .mp4, which BlobCreated answers "ignored" with ReasonBadExtension.
const NotMP4Message = "not an .mp4 blob: ffbatch transcodes only .mp4 files dropped into the input container"

func pathExt(name string) string {
	i := strings.LastIndexAny(name, "./")
	if i < 0 || name[i] != '.' {
		return ""
	}
	return name[i:]
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// NormalizeETag strips the quotes HTTP puts around an ETag, so "0x8D..."
// and 0x8D... name the same version.
func NormalizeETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return s
}

var (
	containerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
	etag          = regexp.MustCompile(`^[\x21\x23-\x7e]+$`)
)

// ID is the request id the arrival names: its Request field, else
// request.DefaultID. SubmitTasks prefers the message's MessageId over the
// default (see RequestID).
func (a Arrival) ID() string {
	if a.Request != "" {
		return a.Request
	}
	v := a.Version
	v.ETag = NormalizeETag(v.ETag)
	return request.DefaultID(v, a.Preset, a.Output, a.Correlation, a.Force, a.Overwrite)
}

// RequestID is the id of the request carried by a message with messageID:
// the body's request field, else the MessageId (so duplicate detection and
// the answer key on the same id), else request.DefaultID.
func (a Arrival) RequestID(messageID string) string {
	if a.Request == "" && messageID != "" {
		return messageID
	}
	return a.ID()
}

// MessageID is the Service Bus MessageId for this arrival: the request id,
// or for resubmission n the id of that attempt, so duplicate detection
// drops resends of one request but never another request or attempt.
func (a Arrival) MessageID() string {
	if a.Resubmit > 0 {
		return request.AttemptMessageID(a.ID(), a.Resubmit)
	}
	return a.ID()
}

// Resolve returns the request this arrival carries in a message with
// messageID, with preset and output filled in (from defaults when empty).
func (a Arrival) Resolve(messageID string, source request.Source, preset, output string) request.Request {
	return request.Request{
		ID: a.RequestID(messageID), Version: a.Version, Preset: preset, Output: output,
		Correlation: a.Correlation, Source: source, Force: a.Force, Overwrite: a.Overwrite, Attempt: a.Resubmit,
	}
}

// FromRequest is the arrival that resubmits r (attempt r.Attempt): it
// names the request id, preset and output explicitly, so the attempt is
// the same request whatever the defaults are by then.
func FromRequest(r request.Request) Arrival {
	return Arrival{Version: r.Version, Preset: r.Preset, Output: r.Output, Correlation: r.Correlation,
		Request: r.ID, Force: r.Force, Overwrite: r.Overwrite, Resubmit: r.Attempt}
}

// Marshal returns the message body.
func (a Arrival) Marshal() ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("marshal arrival: %w", err)
	}
	return b, nil
}

// requestIDProblem checks a producer's request id: at most
// request.MaxIDLen printable ASCII characters without spaces ("" when
// fine or absent).
func requestIDProblem(id string) string {
	switch {
	case id == "":
		return ""
	case len(id) > request.MaxIDLen:
		return fmt.Sprintf("longer than %d characters", request.MaxIDLen)
	case !etag.MatchString(id):
		return "must be printable ASCII without spaces or quotes"
	}
	return ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

type problems []Problem

func (ps *problems) add(field string, r Reason, msg string) {
	*ps = append(*ps, Problem{Field: field, Reason: r, Message: msg})
}

func (ps *problems) str(fields map[string]json.RawMessage, name string, required bool) string {
	raw, ok := fields[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if required {
			ps.add(name, ReasonMissing, "is required")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		ps.add(name, ReasonWrongType, "must be a string, got "+kind(raw))
		return ""
	}
	return s
}

func (ps *problems) boolean(fields map[string]json.RawMessage, name string) bool {
	raw, ok := fields[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		ps.add(name, ReasonWrongType, "must be true or false, got "+kind(raw))
		return false
	}
	return b
}

func (ps *problems) integer(fields map[string]json.RawMessage, name string, required bool) int64 {
	raw, ok := fields[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if required {
			ps.add(name, ReasonMissing, "is required")
		}
		return 0
	}
	if kind(raw) != "a number" {
		ps.add(name, ReasonWrongType, "must be an integer, got "+kind(raw))
		return 0
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		ps.add(name, ReasonWrongType, "must be an integer without fraction or exponent, got "+truncate(string(raw), 30))
		return 0
	}
	return n
}

func kind(raw []byte) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// objectFields decodes a JSON object into its fields, rejecting anything
// else and duplicate keys (which encoding/json would silently merge).
func objectFields(data []byte) (map[string]json.RawMessage, *Problem) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, &Problem{Reason: ReasonNotJSON, Message: "not JSON: " + err.Error()}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &Problem{Reason: ReasonNotJSON, Message: "must be a JSON object, got " + kind(data)}
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, &Problem{Reason: ReasonNotJSON, Message: "not JSON: " + err.Error()}
		}
		k := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &Problem{Reason: ReasonNotJSON, Message: "not JSON: " + err.Error()}
		}
		if _, dup := fields[k]; dup {
			return nil, &Problem{Field: k, Reason: ReasonDuplicateField, Message: "appears more than once"}
		}
		fields[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, &Problem{Reason: ReasonNotJSON, Message: "not JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &Problem{Reason: ReasonNotJSON, Message: "trailing data after the JSON object"}
	}
	if _, err := dec.Token(); err == nil {
		return nil, &Problem{Reason: ReasonNotJSON, Message: "trailing data after the JSON object"}
	}
	return fields, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
