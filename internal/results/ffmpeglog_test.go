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
