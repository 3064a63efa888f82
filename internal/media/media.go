// Package media generates sample MP4 files and inspects media files with the
// ffmpeg tools. It is used by the local stack, the examples, tests and
// benchmarks; it does not transcode for the pipeline (Batch tasks do that).
//
// File names are always passed to ffmpeg/ffprobe as separate arguments, never
// through a shell.
package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

// SampleOptions describe a generated test clip.
type SampleOptions struct {
	// Duration of the clip. Default 3s.
	Duration time.Duration
	// Width and Height of the test pattern. Default 320x240.
	Width, Height int
	// NoAudio omits the audio stream (a bad input for the pipeline).
	NoAudio bool
	// FrequencyHz of the sine tone. Default 440.
	FrequencyHz int
	// Tags are global metadata written into the MP4 (title, artist, ...).
	Tags map[string]string
}

// GenerateMP4 writes an H.264/AAC MP4 with a test pattern and a sine tone to path.
// Nothing is downloaded: ffmpeg's lavfi sources synthesise the content.
func GenerateMP4(ctx context.Context, path string, opts *SampleOptions) error {
	o := SampleOptions{Duration: 3 * time.Second, Width: 320, Height: 240, FrequencyHz: 440}
	if opts != nil {
		if opts.Duration > 0 {
			o.Duration = opts.Duration
		}
		if opts.Width > 0 && opts.Height > 0 {
			o.Width, o.Height = opts.Width, opts.Height
		}
		if opts.FrequencyHz > 0 {
			o.FrequencyHz = opts.FrequencyHz
		}
		o.NoAudio, o.Tags = opts.NoAudio, opts.Tags
	}
	secs := strconv.FormatFloat(o.Duration.Seconds(), 'f', 3, 64)
	args := []string{"-nostdin", "-y", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=10:duration=%s", o.Width, o.Height, secs)}
	if !o.NoAudio {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=44100:duration=%s", o.FrequencyHz, secs))
	}
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	if !o.NoAudio {
		args = append(args, "-c:a", "aac", "-b:a", "96k")
	}
	for _, k := range slices.Sorted(maps.Keys(o.Tags)) {
		args = append(args, "-metadata", k+"="+o.Tags[k])
	}
	// ffmpeg has no option terminator: refuse output paths that look like options.
	if len(path) > 0 && path[0] == '-' {
		return fmt.Errorf("generate mp4: output path %q must not start with '-'", path)
	}
	args = append(args, "-movflags", "+faststart", "-t", secs, path)
	if err := run(ctx, "ffmpeg", args...); err != nil {
		return fmt.Errorf("generate mp4 %s: %w", path, err)
	}
	return nil
}

// Stream is one stream reported by ffprobe.
type Stream struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
}

// Info is what the pipeline checks about a media file.
type Info struct {
	FormatName string
	Duration   time.Duration
	Streams    []Stream
	// Tags are the container's global tags (ID3 frames of an MP3 under
	// ffprobe's names: title, artist, album, major_brand, ...).
	Tags map[string]string
}

// AudioCodec returns the codec of the first audio stream, or "".
func (i Info) AudioCodec() string {
	for _, s := range i.Streams {
		if s.CodecType == "audio" {
			return s.CodecName
		}
	}
	return ""
}

// Probe runs ffprobe on path.
func Probe(ctx context.Context, path string) (Info, error) {
	if len(path) > 0 && path[0] == '-' {
		return Info{}, fmt.Errorf("probe: path %q must not start with '-'", path)
	}
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Info{}, fmt.Errorf("probe %s: %w: %s", path, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var raw struct {
		Format struct {
			FormatName string            `json:"format_name"`
			Duration   string            `json:"duration"`
			Tags       map[string]string `json:"tags"`
		} `json:"format"`
		Streams []Stream `json:"streams"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return Info{}, fmt.Errorf("probe %s: decode ffprobe output: %w", path, err)
	}
	info := Info{FormatName: raw.Format.FormatName, Streams: raw.Streams, Tags: raw.Format.Tags}
	if raw.Format.Duration != "" {
		secs, err := strconv.ParseFloat(raw.Format.Duration, 64)
		if err != nil {
			return Info{}, fmt.Errorf("probe %s: duration %q: %w", path, raw.Format.Duration, err)
		}
		info.Duration = time.Duration(secs * float64(time.Second))
	}
	return info, nil
}

// ErrToolMissing means ffmpeg or ffprobe is not on PATH.
var ErrToolMissing = errors.New("ffmpeg/ffprobe not found on PATH: run `make bootstrap` (Debian: apt-get install ffmpeg)")

func run(ctx context.Context, name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return ErrToolMissing
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
