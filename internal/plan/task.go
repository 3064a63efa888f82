package plan

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/batch"
)

// Fixed names on the node. The blob's own name never reaches the node's
// file system or a command line: Batch downloads the input to InputFile
// and uploads OutputFile, both in the task's working directory, to the
// task's staging name (StagingName); settling promotes it to the output.
const (
	InputFile  = "input.mp4"
	OutputFile = "output.mp3"
	// LogsPattern uploads the task's stdout.txt and stderr.txt, which live
	// one level above the working directory.
	LogsPattern = "../std*.txt"
	// EnvFile is the task environment setting that carries the task's
	// request and when it was submitted (TaskFile, as JSON), so SweepPools
	// can settle a completed task from the task alone. Environment values
	// are data, never parsed by a shell.
	EnvFile = "FFBATCH_FILE"
)

// largeFileBytes is the size above which a failing task is retried at most
// once: a second full attempt on a huge file costs more than a
// resubmission decided by SweepPools.
const largeFileBytes = 2 << 30

// OutputName returns the MP3 name for an input blob transcoded with
// preset when defaultPreset is the configured default: the same path with
// the last extension replaced by .mp3 (inner dots are kept: "a.b.MP4" →
// "a.b.mp3"; a name without an extension gets ".mp3" appended), and for
// any other preset the preset name before it ("a.mp3-v2-vbr.mp3"), so
// outputs of different presets never share a name by default.
func OutputName(blob, preset, defaultPreset string) string {
	base := blob
	slash := strings.LastIndexByte(blob, '/')
	if dot := strings.LastIndexByte(blob, '.'); dot > slash+1 { // a dot inside the last segment, not leading it
		base = blob[:dot]
	}
	if preset != "" && preset != defaultPreset {
		base += "." + preset
	}
	return base + ".mp3"
}

// Args returns ffmpeg's argument vector for preset: no stdin, overwrite,
// no banner, the fixed input, audio only via the preset, the input's tags
// without the MP4 container's own, fixed output.
//
// -loglevel info -nostats leaves a useful stderr.txt on success: the
// input's duration and streams, the stream mapping and ffmpeg's final
// summary (size, time= the output's duration, bitrate), without the
// progress lines; failures still end with the error, which is the part
// results.StderrExcerpt keeps.
//
// -f mov -protocol_whitelist file pin how the input is read: as an
// MP4/MOV file (the mov demuxer, which does not follow external data
// references by default) through the file protocol only. Without them
// ffmpeg probes the content rather than the name, so an HLS playlist or a
// concat script saved as .mp4 would make the task read other files on the
// node (other tasks' inputs on a shared node) and publish their audio.
//
// -progress pipe:1 writes ffmpeg's progress as key=value lines to stdout,
// ending with the bytes written (total_size) and progress=end: the MP3's
// length, which settling compares with the uploaded blob (Report).
// -stats_period 86400 keeps that to a block at the start and one at the
// end however long the transcode runs (the default is a block every half
// second), so stdout.txt stays a few hundred bytes.
//
// -xerror makes a decoding error fatal. Without it ffmpeg exits 0 on an MP4
// whose index is complete but whose media data is cut short ("partial
// file"), and the pipeline would publish a short MP3 as a success; with it
// the task fails (exit 1) and stderr.txt names the corrupt packet.
func Args(p Preset) []string {
	args := []string{"ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "info", "-nostats", "-progress", "pipe:1", "-stats_period", "86400", "-xerror",
		"-f", "mov", "-protocol_whitelist", "file", "-i", InputFile}
	args = append(args, p.Args...)
	args = append(args, dropContainerTags...)
	return append(args, OutputFile)
}

// dropContainerTags removes the MP4 container's brand tags, which ffmpeg
// would otherwise copy with the other global tags into the MP3 (as ID3
// TXXX frames): an empty -metadata value deletes a key, while title,
// artist, album and the like are still copied.
var dropContainerTags = []string{
	"-metadata", "major_brand=",
	"-metadata", "minor_version=",
	"-metadata", "compatible_brands=",
}

// CommandLine is the task's Batch command line: a fixed script run by
// /bin/sh that writes the MD5 of the input to stdout and then becomes
// ffmpeg (Args), which adds its progress report (-progress pipe:1) ending
// with the MP3's length:
//
//	/bin/sh -c 'md5sum input.mp4 && exec ffmpeg … output.mp3'
//
// stdout.txt is the task's Report, which settling checks before it reports
// success: which bytes the task read (proof of the input version it
// transcoded when the blob changed meanwhile) and how long the MP3 is
// (compared with the uploaded blob). The shell only chains the two
// programs and is given one single-quoted word; every token in it is a
// fixed word from this package (no blob name, no message field), so
// nothing a producer sends reaches it. exec leaves ffmpeg as the task's
// process, with its exit code.
func CommandLine(p Preset) string {
	return "/bin/sh -c 'md5sum " + InputFile + " && exec " + strings.Join(Args(p), " ") + "'"
}

// TaskOptions are the parts of a task that depend on configuration and on
// freshly signed URLs.
type TaskOptions struct {
	// InputURL is the input blob URL with a read-only SAS.
	InputURL string
	// OutputContainerURL is the output container URL with a
	// create/write-only SAS.
	OutputContainerURL string
	// LogsPrefix is the blob prefix for logs ("logs/"); the task's logs go
	// to LogsPrefix + task id + "/".
	LogsPrefix string
	// MaxTaskRetries is Batch's retry count for small files.
	MaxTaskRetries int
	// MinWallClock and WallClockPerGiB size maxWallClockTime.
	MinWallClock    time.Duration
	WallClockPerGiB time.Duration
	// ContainerImage, when set, runs the task inside that image (which must
	// contain ffmpeg) in the task's working directory; the pool prefetches
	// it (PoolOptions.ContainerImage).
	ContainerImage string
}

// Task builds the Batch task with id for f with preset p.
func Task(id string, f TaskFile, p Preset, o TaskOptions) (batch.TaskAddParameter, error) {
	switch {
	case o.InputURL == "" || o.OutputContainerURL == "":
		return batch.TaskAddParameter{}, errors.New("plan task: input and output URLs are required")
	case f.Output == "":
		return batch.TaskAddParameter{}, errors.New("plan task: output blob name is empty")
	case f.Size < 0:
		return batch.TaskAddParameter{}, fmt.Errorf("plan task: negative size %d", f.Size)
	}
	fileJSON, err := marshalFile(f)
	if err != nil {
		return batch.TaskAddParameter{}, err
	}
	wall := batch.Duration(WallClock(f.Size, o.MinWallClock, o.WallClockPerGiB))
	retries := int32(Retries(f.Size, o.MaxTaskRetries))
	var container *batch.TaskContainerSettings
	if o.ContainerImage != "" {
		// taskWorkingDirectory maps the task's wd into the container, so the
		// fixed input.mp4/output.mp3 names work unchanged.
		container = &batch.TaskContainerSettings{ImageName: o.ContainerImage, WorkingDirectory: "taskWorkingDirectory"}
	}
	return batch.TaskAddParameter{
		ID:          id,
		DisplayName: displayName(f.Blob),
		CommandLine: CommandLine(p),
		ResourceFiles: []batch.ResourceFile{{
			HTTPURL:  o.InputURL,
			FilePath: InputFile,
		}},
		OutputFiles: []batch.OutputFile{
			{
				FilePattern: OutputFile,
				Destination: batch.OutputFileDestination{Container: &batch.OutputFileBlobContainerDestination{
					ContainerURL: o.OutputContainerURL, Path: StagingName(id), UploadHeaders: contentType(MP3ContentType)}},
				UploadOptions: batch.OutputFileUploadOptions{UploadCondition: batch.OutputFileUploadConditionTaskSuccess},
			},
			{
				FilePattern: LogsPattern,
				Destination: batch.OutputFileDestination{Container: &batch.OutputFileBlobContainerDestination{
					ContainerURL: o.OutputContainerURL, Path: LogsPath(o.LogsPrefix, id), UploadHeaders: contentType(LogContentType)}},
				UploadOptions: batch.OutputFileUploadOptions{UploadCondition: batch.OutputFileUploadConditionTaskCompletion},
			},
		},
		EnvironmentSettings: []batch.EnvironmentSetting{{Name: EnvFile, Value: fileJSON}},
		Constraints: &batch.TaskConstraints{
			MaxWallClockTime:  &wall,
			MaxTaskRetryCount: &retries,
		},
		ContainerSettings: container,
	}, nil
}

// Content types of the uploaded files. Batch uploads output files as
// application/octet-stream unless the destination names headers.
const (
	MP3ContentType = "audio/mpeg"
	LogContentType = "text/plain; charset=utf-8"
)

// contentType is the upload headers that set a blob's Content-Type.
func contentType(v string) []batch.HTTPHeader {
	return []batch.HTTPHeader{{Name: "Content-Type", Value: v}}
}

// LogsPath is the blob prefix (virtual directory) of a task's logs.
func LogsPath(prefix, taskID string) string { return prefix + taskID }

// WallClock sizes maxWallClockTime: min plus perGiB for every started GiB.
func WallClock(size int64, min, perGiB time.Duration) time.Duration {
	gib := (size + (1 << 30) - 1) >> 30
	return min + time.Duration(gib)*perGiB
}

// MaxURLLifetime bounds URLLifetime. In Azure the task's URLs are signed
// with a user delegation key, which must expire within 7 days of its
// request; an hour is kept back for clock skew between the function and
// Storage.
const MaxURLLifetime = 7*24*time.Hour - time.Hour

// URLLifetime is how long the SAS URLs of a task for a file of size bytes
// must stay valid. Batch's own retries (maxTaskRetryCount) reuse the URLs
// the task was added with, so they must outlive every attempt at its
// wall-clock limit, plus queueing: the time the task may wait for a free
// slot before its first attempt and between attempts. A resubmission by
// SweepPools is a new task with freshly signed URLs. The result is at most
// MaxURLLifetime; a file that would need longer (hundreds of GiB) may see
// its URLs expire in a late retry and is then resubmitted. Only the retry
// and wall-clock fields of o are used.
func URLLifetime(size int64, queueing time.Duration, o TaskOptions) time.Duration {
	attempts := time.Duration(Retries(size, o.MaxTaskRetries) + 1)
	return min(queueing+attempts*WallClock(size, o.MinWallClock, o.WallClockPerGiB), MaxURLLifetime)
}

// Retries sizes maxTaskRetryCount: the configured count, at most 1 for
// files over 2 GiB.
func Retries(size int64, configured int) int {
	if size > largeFileBytes && configured > 1 {
		return 1
	}
	return configured
}

// displayName is the blob name cut to Batch's 1,024-character display
// name limit; it is for people reading the portal, never for lookups.
func displayName(blob string) string {
	r := []rune(blob)
	if len(r) > 1024 {
		return string(r[:1023]) + "…"
	}
	return blob
}
