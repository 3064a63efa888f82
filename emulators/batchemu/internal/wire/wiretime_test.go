package wire

import (
	"testing"
	"time"
)

func TestDurations(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		format  string
		wantErr bool
	}{
		{"PT15M", 15 * time.Minute, "PT15M", false},
		{"PT1H30M", 90 * time.Minute, "PT1H30M", false},
		{"P7D", 7 * 24 * time.Hour, "P7D", false},
		{"P1W", 7 * 24 * time.Hour, "P7D", false},
		{"P1DT2H3M4.5S", 26*time.Hour + 3*time.Minute + 4500*time.Millisecond, "P1DT2H3M4.5S", false},
		{"PT0S", 0, "PT0S", false},
		{"PT0.05S", 50 * time.Millisecond, "PT0.05S", false},
		{"P10675199DT2H48M5.4775807S", InfiniteDuration, "P10675199DT2H48M5.4775807S", false},
		{"P99999999D", InfiniteDuration, "P10675199DT2H48M5.4775807S", false},
		{"", 0, "", true},
		{"15M", 0, "", true},
		{"P", 0, "", true},
		{"PT", 0, "", true},
		{"P1M", 0, "", true},
		{"PT1D", 0, "", true},
		{"PTxS", 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseDuration(%q) error %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got != tc.want {
				t.Errorf("parseDuration(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if f := FormatDuration(got); f != tc.format {
				t.Errorf("formatDuration(%v) = %q, want %q", got, f, tc.format)
			}
		})
	}
}

func TestTimeFormat(t *testing.T) {
	got := FormatTime(time.Date(2025, 11, 22, 19, 39, 28, 524633100, time.FixedZone("x", 3600)))
	if want := "2025-11-22T18:39:28.5246331Z"; got != want {
		t.Errorf("formatTime = %q, want %q", got, want)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT15M", "P1DT2H3M4.5S", "P10675199DT2H48M5.4775807S", "-PT1S", "P1W", "PT0.0000001S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			return
		}
		// Whatever parses must format to something that parses to nearly the same value.
		back, err := ParseDuration(FormatDuration(d))
		if err != nil {
			t.Fatalf("formatDuration(%v) = %q does not parse: %v", d, FormatDuration(d), err)
		}
		if diff := back - d; diff > 100 || diff < -100 {
			t.Fatalf("round trip %q: %v -> %q -> %v", s, d, FormatDuration(d), back)
		}
	})
}
