package plan

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
)

// StagingPrefix is where tasks upload their MP3 in the output container,
// one blob per task (StagingName). Settling checks the staged MP3 and
// copies it to the request's output, so an output only ever holds an MP3
// that was confirmed for the version it reports.
const StagingPrefix = ".staging/"

// stagingSuffix makes a staged name one that no request's output can be:
// every output name ends in ".mp3".
const stagingSuffix = ".mp3.part"

// StagingName is the blob in the output container that task taskID
// uploads its MP3 to. It ends in ".mp3.part", so no output (explicit or by
// OutputName) can name it, and it is outside the logs prefix, so its
// upload does not announce a finished task.
func StagingName(taskID string) string { return StagingPrefix + taskID + stagingSuffix }

// Report is what a task wrote to its stdout.txt (CommandLine): the MD5 of
// the input it read (md5sum) and the length of the MP3 it made (ffmpeg's
// final progress report).
type Report struct {
	// InputMD5 is the MD5 of input.mp4 as the task read it (16 bytes); nil
	// when not reported.
	InputMD5 []byte
	// OutputSize is output.mp3's length in bytes; -1 when not reported
	// (ffmpeg did not finish its report, or stdout.txt was cut).
	OutputSize int64
}

// ParseReport reads a task's stdout.txt: the first line
// "<32 hex digits>  input.mp4" (md5sum), then ffmpeg's progress blocks,
// of which the last "total_size=<bytes>" before "progress=end" is the
// MP3's length. Anything else is ignored.
func ParseReport(stdout []byte) Report {
	rep := Report{OutputSize: -1}
	last := int64(-1)
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if f := strings.Fields(line); first && len(f) == 2 && f[1] == InputFile {
			if sum, err := hex.DecodeString(f[0]); err == nil && len(sum) == md5.Size {
				rep.InputMD5 = sum
			}
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "total_size":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				last = n
			}
		case "progress":
			if v == "end" {
				rep.OutputSize = last
			}
		}
	}
	return rep
}
