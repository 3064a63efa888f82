package results

import (
	"testing"
	"time"
)

func TestDurationFromLog(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want time.Duration
		ok   bool
	}{
		{"summary line wins over the input duration", "  Duration: 00:00:05.02, start: 0.000000, bitrate: 200 kb/s\n" +
			"size=      40KiB time=00:00:02.50 bitrate= 131.1kbits/s speed= 150x\r" +
			"[out#0/mp3 @ 0x5] video:0KiB audio:79KiB\nsize=      79KiB time=00:00:05.00 bitrate= 129.4kbits/s speed= 180x elapsed=0:00:00.02\n",
			5 * time.Second, true},
		{"input duration only", "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'input.mp4':\n  Duration: 01:02:03.50, start: 0.000000\n", time.Hour + 2*time.Minute + 3500*time.Millisecond, true},
		{"negative or N/A progress is skipped", "size=       0KiB time=N/A bitrate=N/A\nsize=  1KiB time=-577014:32:22.77 bitrate=\n  Duration: 00:00:01.00, start: 0\n", time.Second, true},
		{"quiet log", "", 0, false},
		{"error only", "input.mp4: Invalid data found when processing input\n", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DurationFromLog([]byte(tc.log))
			if got != tc.want || ok != tc.ok {
				t.Errorf("DurationFromLog = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestAudioFromLog(t *testing.T) {
	// Excerpts of ffmpeg 5.1's stderr at -loglevel info for an MP4 with
	// video and two audio tracks, and with one.
	two := `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'input.mp4':
  Duration: 00:00:01.00, start: 0.000000, bitrate: 180 kb/s
  Stream #0:0[0x1](und): Video: h264 (High 4:4:4 Predictive) (avc1 / 0x31637661), yuv444p(progressive), 64x48
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 70 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
  Stream #0:2[0x3](eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 67 kb/s
Stream mapping:
  Stream #0:1 -> #0:0 (aac (native) -> mp3 (libmp3lame))
Output #0, mp3, to 'output.mp3':
  Stream #0:0(und): Audio: mp3, 44100 Hz, mono, fltp, 192 kb/s (default)
`
	one := `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'input.mp4':
  Stream #0:0[0x1](und): Video: h264
  Stream #0:1[0x2](und): Audio: aac (LC), 44100 Hz
Stream mapping:
  Stream #0:1 -> #0:0 (aac (native) -> mp3 (libmp3lame))
Output #0, mp3, to 'output.mp3':
  Stream #0:0(und): Audio: mp3, 44100 Hz
`
	tests := []struct {
		name string
		log  string
		want *Audio
	}{
		{"two audio tracks", two, &Audio{Stream: "0:1", Streams: 2, Dropped: 1}},
		{"one audio track", one, &Audio{Stream: "0:1", Streams: 1, Dropped: 0}},
		{"an error log", "input.mp4: Invalid data found when processing input\n", nil},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := AudioFromLog([]byte(tc.log))
			if ok != (tc.want != nil) || (ok && *got != *tc.want) {
				t.Errorf("AudioFromLog = %+v, %v; want %+v", got, ok, tc.want)
			}
		})
	}
}
