package results

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ffmpeg's log lines that tell how much audio there is: the progress and
// summary lines ("size= 79KiB time=00:00:05.00 bitrate=…"), whose last
// time= is the output's duration, and the input's header ("Duration:
// 00:00:05.02, start: …"), used when no progress line was logged.
var (
	progressTime  = regexp.MustCompile(`\btime=\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)`)
	inputDuration = regexp.MustCompile(`\bDuration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)`)
)

// DurationFromLog reads the output's duration from ffmpeg's stderr; ok is
// false when the log does not tell (a quiet log level, a failure).
func DurationFromLog(stderr []byte) (time.Duration, bool) {
	for _, re := range []*regexp.Regexp{progressTime, inputDuration} {
		all := re.FindAllSubmatch(stderr, -1)
		for i := len(all) - 1; i >= 0; i-- {
			if d, ok := clock(all[i]); ok && d > 0 {
				return d, true
			}
		}
	}
	return 0, false
}

// clock turns hours, minutes and seconds captures into a duration.
func clock(m [][]byte) (time.Duration, bool) {
	h, err1 := strconv.Atoi(string(m[1]))
	mi, err2 := strconv.Atoi(string(m[2]))
	s, err3 := strconv.ParseFloat(string(m[3]), 64)
	if err1 != nil || err2 != nil || err3 != nil || mi > 59 || s >= 60 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s*float64(time.Second)), true
}

// Audio says which of the input's audio streams the MP3 was made from:
// ffmpeg takes one (the "best" by its own rules) and drops the others.
type Audio struct {
	// Stream is the input stream the MP3 holds, as ffmpeg names it ("0:1").
	Stream string `json:"stream"`
	// Streams counts the input's audio streams.
	Streams int `json:"streams"`
	// Dropped counts the input's audio streams not in the MP3.
	Dropped int `json:"dropped"`
}

var (
	inputAudioStream = regexp.MustCompile(`(?m)^\s*Stream #0:(\d+)\S*: Audio:`)
	mappedStream     = regexp.MustCompile(`(?m)^\s*Stream #0:(\d+) -> #0:\d+`)
)

// AudioFromLog reads from ffmpeg's stderr (at log level info) how many
// audio streams the input had and which one was transcoded; ok is false
// when the log does not tell.
func AudioFromLog(stderr []byte) (*Audio, bool) {
	s := string(stderr)
	mapping := strings.Index(s, "Stream mapping:")
	if mapping < 0 {
		return nil, false
	}
	streams := len(inputAudioStream.FindAllStringIndex(s[:mapping], -1))
	m := mappedStream.FindStringSubmatch(s[mapping:])
	if streams == 0 || m == nil {
		return nil, false
	}
	return &Audio{Stream: "0:" + m[1], Streams: streams, Dropped: streams - 1}, true
}
