package wire

import (
	"testing"
	"time"
)

func TestTimeFormat(t *testing.T) {
	got := FormatTime(time.Date(2025, 11, 22, 19, 39, 28, 524633100, time.FixedZone("x", 3600)))
	if want := "2025-11-22T18:39:28.5246331Z"; got != want {
		t.Errorf("formatTime = %q, want %q", got, want)
	}
}
