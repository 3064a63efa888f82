package lifecycle

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/ffbatch/ffbatch/internal/results"
)

// Blob metadata of a record, so a listing tells what it holds without
// reading it. tasks and waiting are what the recovery scan needs (the
// space-separated ids of the tasks the record's requests own in flight;
// "1" when a request waits in queued); the rest is the
// Row of the current request. Text that may be non-ASCII (names, reasons,
// stderr) is path-escaped, as metadata values must be ASCII; times are
// RFC 3339. Absent keys mean zero values, so records written before a key
// existed still decode.
const (
	mdState      = "state"
	mdTasks      = "tasks"
	mdWaiting    = "waiting"
	mdContainer  = "container"
	mdBlob       = "blob"
	mdRequest    = "request"
	mdRequests   = "requests"
	mdPreset     = "preset"
	mdTask       = "task"
	mdSize       = "size"
	mdOutput     = "output"
	mdOutputSize = "outputsize"
	mdReused     = "reused"
	mdAttempt    = "attempt"
	mdRetries    = "retries"
	mdRequeues   = "requeues"
	mdAudio      = "audioms"
	mdReason     = "reason"
	mdStderr     = "stderr"
	mdQueued     = "queued"
	mdSubmitted  = "submitted"
	mdStarted    = "started"
	mdFinished   = "finished"
	mdAnswered   = "answered"
	// mdCut lists the escaped keys whose values were cut to fit the budget.
	mdCut = "cut"
)

// maxMetadataBytes keeps a record's metadata (names and values) under
// Azure's 8 KiB limit with room to spare.
const maxMetadataBytes = 7 << 10

// cuttable are the keys that give way, in this order, when the metadata
// is over budget: dropped (stderr, reason) or cut (output, blob).
var cuttable = []string{mdStderr, mdReason, mdOutput, mdBlob}

// metadata is the blob metadata of a record.
func metadata(r *Record) map[string]*string {
	md := map[string]*string{mdContainer: to.Ptr(r.Container), mdBlob: to.Ptr(escape(r.Blob))}
	if tasks := r.InFlightTasks(); len(tasks) > 0 {
		md[mdTasks] = to.Ptr(strings.Join(tasks, " "))
	}
	if r.Waiting() {
		md[mdWaiting] = to.Ptr("1")
	}
	row, ok := RowOf(r)
	if !ok {
		return md
	}
	set := func(k, v string) {
		if v != "" && v != "0" {
			md[k] = to.Ptr(v)
		}
	}
	set(mdState, string(row.State))
	set(mdRequest, escape(row.Request))
	set(mdRequests, strconv.Itoa(row.Requests))
	set(mdPreset, row.Preset)
	set(mdTask, row.TaskID)
	set(mdSize, strconv.FormatInt(row.Size, 10))
	set(mdOutput, escape(row.Output))
	set(mdOutputSize, strconv.FormatInt(row.OutputSize, 10))
	if row.Reused {
		set(mdReused, "1")
	}
	set(mdAttempt, strconv.Itoa(row.Attempt))
	set(mdRetries, strconv.Itoa(int(row.Retries)))
	set(mdRequeues, strconv.Itoa(int(row.Requeues)))
	set(mdAudio, strconv.FormatInt(row.AudioMillis, 10))
	set(mdReason, escape(row.Reason))
	set(mdStderr, escape(row.Stderr))
	for k, t := range map[string]time.Time{mdQueued: row.QueuedAt, mdSubmitted: row.SubmittedAt, mdStarted: row.StartedAt, mdFinished: row.FinishedAt, mdAnswered: row.AnsweredAt} {
		if !t.IsZero() {
			set(k, t.UTC().Format(time.RFC3339Nano))
		}
	}
	fit(md)
	return md
}

// fit drops or cuts the cuttable values until md is within budget.
func fit(md map[string]*string) {
	var cut []string
	for _, k := range cuttable {
		over := metadataSize(md) - maxMetadataBytes
		if over <= 0 || md[k] == nil {
			continue
		}
		v := *md[k]
		switch k {
		case mdStderr, mdReason:
			delete(md, k)
		default:
			keep := max(len(v)-over-32, 0) // 32: room for the cut key
			md[k] = to.Ptr(cutEscaped(v, keep))
			cut = append(cut, k)
		}
	}
	if len(cut) > 0 {
		md[mdCut] = to.Ptr(strings.Join(cut, " "))
	}
}

func metadataSize(md map[string]*string) int {
	n := 0
	for k, v := range md {
		n += len(k)
		if v != nil {
			n += len(*v)
		}
	}
	return n
}

// cutEscaped cuts an escaped value to at most n bytes without splitting an
// escape or a UTF-8 sequence.
func cutEscaped(v string, n int) string {
	for n > 0 {
		s := v[:n]
		if u, err := url.PathUnescape(s); err == nil && strings.ToValidUTF8(u, "") == u {
			return s
		}
		n--
	}
	return ""
}

// escape makes text a metadata value: ASCII, no leading or trailing space.
func escape(s string) string { return url.PathEscape(s) }

func unescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// metaValue is the value of key in listed metadata ("" when absent). Some
// servers return metadata keys capitalised.
func metaValue(md map[string]*string, key string) string {
	for k, v := range md {
		if strings.EqualFold(k, key) && v != nil {
			return *v
		}
	}
	return ""
}

// rowFromListing decodes the Row of a listed record. name is the record's
// blob name, which holds the file's name in full for short forms.
func rowFromListing(name string, md map[string]*string, modified time.Time) Row {
	get := func(k string) string { return metaValue(md, k) }
	num := func(k string) int64 { n, _ := strconv.ParseInt(get(k), 10, 64); return n }
	tm := func(k string) time.Time { t, _ := time.Parse(time.RFC3339Nano, get(k)); return t }
	cut := strings.Fields(get(mdCut))
	isCut := func(k string) bool { return strings.Contains(" "+strings.Join(cut, " ")+" ", " "+k+" ") }
	row := Row{
		Container: get(mdContainer), Blob: unescape(get(mdBlob)), State: results.State(get(mdState)),
		Request: unescape(get(mdRequest)), Requests: int(num(mdRequests)), Preset: get(mdPreset), TaskID: get(mdTask),
		Size: num(mdSize), Output: unescape(get(mdOutput)), OutputCut: isCut(mdOutput), OutputSize: num(mdOutputSize),
		Reused: get(mdReused) == "1", Attempt: int(num(mdAttempt)), Retries: int32(num(mdRetries)), Requeues: int32(num(mdRequeues)),
		AudioMillis: num(mdAudio), Reason: unescape(get(mdReason)), Stderr: unescape(get(mdStderr)),
		QueuedAt: tm(mdQueued), SubmittedAt: tm(mdSubmitted), StartedAt: tm(mdStarted), FinishedAt: tm(mdFinished),
		AnsweredAt: tm(mdAnswered), UpdatedAt: modified,
	}
	if isCut(mdBlob) || row.Blob == "" {
		if n, complete := nameInRecordName(name, row.Container); complete {
			row.Blob = n
		} else {
			row.BlobCut = true
			if len(n) > len(row.Blob) {
				row.Blob = n
			}
		}
	}
	return row
}
