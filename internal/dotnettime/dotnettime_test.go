package dotnettime

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// TestDuration is the one table for ISO 8601 durations. The first group
// are strings the services and this repository's captures actually carry
// (src names where each was seen); the rest pin XmlConvert's rules.
// wire is what FormatDuration writes for the parsed value ("" means the
// input itself).
func TestDuration(t *testing.T) {
	tests := []struct {
		in, src string
		want    time.Duration
		wire    string
		wantErr string
	}{
		// Captured.
		{in: "P10675199DT2H48M5.4775807S", src: "Batch Tasks_GetTask example; batchemu golden task.json, job.json", want: Unlimited},
		{in: "PT15M", src: "Batch pool autoScaleEvaluationInterval, js_sdk_capture_log2.json", want: 15 * time.Minute},
		{in: "PT5M", src: "Batch resizeTimeout, js_sdk_capture_log2.json; servicebus.bicep lockDuration", want: 5 * time.Minute},
		{in: "PT1H", src: "Batch js_sdk_capture_log1.json; Service Bus emulator TTL", want: time.Hour},
		{in: "P7D", src: "Batch task retentionTime, golden task.json; servicebus.bicep", want: 7 * day},
		{in: "P14D", src: "servicebus.bicep defaultMessageTimeToLive", want: 14 * day},
		{in: "PT1M", src: "Service Bus lock duration default", want: time.Minute},
		{in: "PT20S", src: "Service Bus emulator Config.json duplicate detection", want: 20 * time.Second},
		{in: "PT45S", src: "Service Bus emulator-format.json", want: 45 * time.Second},
		{in: "PT1S", src: "Batch Python client script", want: time.Second},
		{in: "PT0S", src: "XmlConvert.ToString(TimeSpan.Zero)", want: 0},

		// XmlConvert's rules.
		{in: "P1DT2H3M4.5S", want: 26*time.Hour + 3*time.Minute + 4500*time.Millisecond},
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "PT0.0000001S", want: Tick},
		{in: "PT0.12345678S", want: 123456700 * time.Nanosecond, wire: "PT0.1234567S"},
		{in: "PT0.999999999999S", want: 999999900 * time.Nanosecond, wire: "PT0.9999999S"},
		{in: "PT90M", want: 90 * time.Minute, wire: "PT1H30M"},
		{in: "P0D", want: 0, wire: "PT0S"},
		{in: "-PT1M30S", want: -90 * time.Second},
		{in: " PT5M ", want: 5 * time.Minute, wire: "PT5M"},
		{in: "P1Y", want: 365 * day, wire: "P365D"},
		{in: "P1M", want: 30 * day, wire: "P30D"},
		{in: "P14M", want: 425 * day, wire: "P425D"},
		{in: "P1Y2M3DT4H", want: (365+60+3)*day + 4*time.Hour, wire: "P428DT4H"},
		{in: "P10675199DT2H48M5.4775806S", want: Unlimited, wire: UnlimitedISO},
		{in: "P106751D", want: 106751 * day},
		{in: "P106752D", want: Unlimited, wire: UnlimitedISO},
		{in: "P10675199DT2H48M5.4775808S", wantErr: "TimeSpan.MaxValue"},
		{in: "P99999999D", wantErr: "TimeSpan.MaxValue"},
		{in: "-P106752D", wantErr: "negative duration out of range"},
		{in: "PT2147483648S", wantErr: "out of range"},
		{in: "P1W", wantErr: "unexpected designator 'W'"},
		{in: "PT1,5S", wantErr: "unexpected designator ','"},
		{in: "PT1.5M", wantErr: "only seconds may have a fraction"},
		{in: "P1.5D", wantErr: "unexpected designator '.'"},
		// XsdDuration.TryParse reads the seconds before '.' without
		// requiring a digit: no number is zero seconds.
		{in: "PT.5S", want: 500 * time.Millisecond, wire: "PT0.5S"},
		{in: "PT1H.25S", want: time.Hour + 250*time.Millisecond, wire: "PT1H0.25S"},
		{in: "PT1M.S", want: time.Minute, wire: "PT1M"},
		{in: "PT.S", want: 0, wire: "PT0S"},
		{in: "PT1.S", want: time.Second, wire: "PT1S"},
		{in: "PTM.5S", wantErr: "without a number"},
		{in: "P.5S", wantErr: "unexpected designator '.'"},
		{in: "PT1M1H", wantErr: "in that order"},
		{in: "PT1S1S", wantErr: "in that order"},
		{in: "P1H", wantErr: "unexpected designator 'H'"},
		{in: "PT1D", wantErr: "unexpected designator 'D'"},
		{in: "PTT1S", wantErr: "unexpected designator 'T'"},
		{in: "PTM", wantErr: "without a number"},
		{in: "PT1", wantErr: "no unit designator"},
		{in: "P1DT", wantErr: "no components"},
		{in: "PT", wantErr: "no components"},
		{in: "P", wantErr: "no components"},
		{in: "", wantErr: "want an ISO 8601 duration"},
		{in: "15m", wantErr: "want an ISO 8601 duration"},
		{in: "pt1m", wantErr: "want an ISO 8601 duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v (%s)", tt.in, got, err, tt.want, tt.src)
			}
			wire := tt.wire
			if wire == "" {
				wire = tt.in
			}
			if f := FormatDuration(got); f != wire {
				t.Errorf("FormatDuration(%v) = %q, want %q", got, f, wire)
			}
		})
	}
}

// TestCapturedDurationsRoundTrip reads every ISO 8601 duration in the
// repository's captured and configured wire documents and checks that it
// parses and that FormatDuration writes it back unchanged, so a new capture
// with a form the codec does not handle fails here.
func TestCapturedDurationsRoundTrip(t *testing.T) {
	files := []string{
		"emulators/batchemu/testdata/golden/*.json",
		"emulators/sbemu/internal/broker/testdata/*.json",
		"emulators/sbemu/internal/broker/default_config.json",
		"internal/batch/testdata/*.json",
		"infra/modules/*.bicep",
		"infra/*.bicep",
	}
	re := regexp.MustCompile(`["']-?P(?:\d+[YMD])*(?:T(?:\d+[HM])*(?:\d+(?:\.\d+)?S)?)?\\?["']`)
	seen := 0
	for _, pattern := range files {
		paths, err := filepath.Glob(filepath.Join("..", "..", pattern))
		if err != nil || len(paths) == 0 {
			t.Fatalf("no files match %s (%v)", pattern, err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllString(string(b), -1) {
				s := strings.Trim(m, `"'\`)
				seen++
				d, err := ParseDuration(s)
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				if f := FormatDuration(d); f != s {
					t.Errorf("%s: %q parses to %v, which formats as %q", p, s, d, f)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d captured durations; did the files move?", seen)
	}
}

// TestTimeSpan covers the constant format; the first group are host.json's
// values.
func TestTimeSpan(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "00:10:00", want: 10 * time.Minute},
		{in: "00:00:05", want: 5 * time.Second},
		{in: "00:05:00", want: 5 * time.Minute},
		{in: "00:01:00", want: time.Minute},
		{in: "00:00:00.80", want: 800 * time.Millisecond},
		{in: "00:00:30", want: 30 * time.Second},

		{in: "1.02:03:04", want: 26*time.Hour + 3*time.Minute + 4*time.Second},
		{in: "00:00:00.0010000", want: time.Millisecond},
		{in: "00:00:00.0000001", want: Tick},
		{in: "-00:00:00.0010000", want: -time.Millisecond},
		{in: "-1.00:00:00", want: -day},
		{in: "1:02:03", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "2", want: 2 * day},
		{in: " 00:00:05 ", want: 5 * time.Second},
		{in: "106751.00:00:00", want: 106751 * day},
		{in: "106752.00:00:00", wantErr: "out of range"},
		{in: "", wantErr: "bad days"},
		// TimeSpan.Parse's seconds are optional: [d.]hh:mm is hours and
		// minutes, as the Functions host binds host.json's TimeSpans.
		{in: "05:00", want: 5 * time.Hour},
		{in: "1.02:03", want: 26*time.Hour + 3*time.Minute},
		{in: "-00:30", want: -30 * time.Minute},
		{in: "05:00.5", wantErr: "bad minutes"},
		{in: "05", want: 5 * day},
		{in: "05:", wantErr: "bad minutes"},
		{in: ":05", wantErr: "bad hours"},
		{in: "1:2:3:4", wantErr: "want [d.]hh:mm[:ss[.fffffff]]"}, // the culture's d:hh:mm:ss form is not read

		// The examples of .NET's TimeSpan.Parse documentation (remarks on
		// System.TimeSpan.Parse, "String to Parse" table).
		{in: "0", want: 0},
		{in: "14", want: 14 * day},
		{in: "0:0:0.250", want: 250 * time.Millisecond},
		{in: "10.20:30:40.50", want: 10*day + 20*time.Hour + 30*time.Minute + 40500*time.Millisecond},
		{in: "99.23:59:59.9999999", want: 100*day - Tick},
		{in: "0023:0059:0059.0099", want: 23*time.Hour + 59*time.Minute + 59*time.Second + 9900*time.Microsecond},
		{in: "23:0:0", want: 23 * time.Hour},
		{in: "24:0:0", wantErr: "bad hours"},
		{in: "0:59:0", want: 59 * time.Minute},
		{in: "0:60:0", wantErr: "bad minutes"},
		{in: "0:0:59", want: 59 * time.Second},
		{in: "0:0:60", wantErr: "bad seconds"},
		{in: "10:", wantErr: "bad minutes"},
		{in: "10:0", want: 10 * time.Hour},
		{in: ":10", wantErr: "bad hours"},
		{in: "0:10", want: 10 * time.Minute},
		{in: "10:20:", wantErr: "bad seconds"},
		{in: "10:20:0", want: 10*time.Hour + 20*time.Minute},
		{in: ".123", wantErr: "want [d.]hh:mm"},
		{in: "0.12:00", want: 12 * time.Hour},
		{in: "10.", wantErr: "want [d.]hh:mm"},
		{in: "10.12", wantErr: "want [d.]hh:mm"},
		{in: "10.12:00", want: 10*day + 12*time.Hour},
		{in: "24:00:00", wantErr: "bad hours"},
		{in: "00:60:00", wantErr: "bad minutes"},
		{in: "00:00:60", wantErr: "bad seconds"},
		{in: "+1:00:00", wantErr: "bad hours"},
		{in: "1.:00:00", wantErr: "bad hours"},
		{in: "00:00:00.", wantErr: "bad fraction"},
		{in: "00:00:00.12345678", wantErr: "bad fraction"},
		{in: "five minutes", wantErr: "bad days"},
		{in: "5s", wantErr: "bad days"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTimeSpan(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTimeSpan(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTimeSpan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestFormatTimeSpanTicks covers the TimeSpan writer: the first group are
// values the Batch autoscale evaluation results carry (autoscale eval tests),
// the rest TimeSpan.ToString()'s rules; every value no longer than a
// time.Duration also reads back with ParseTimeSpan.
func TestFormatTimeSpanTicks(t *testing.T) {
	const perSecond = int64(time.Second / Tick)
	tests := []struct {
		ticks int64
		want  string
	}{
		{30 * perSecond, "00:00:30"},
		{26 * 3600 * perSecond, "1.02:00:00"},
		{(86400*perSecond + perSecond/2), "1.00:00:00.5000000"},
		{(2*3600+18*60+47)*perSecond + perSecond*805/1000, "02:18:47.8050000"},
		{5, "00:00:00.0000005"},
		{365 * 86400 * perSecond, "365.00:00:00"},
		{-120 * perSecond, "-00:02:00"},
		{0, "00:00:00"},
		{1, "00:00:00.0000001"},
		{-1, "-00:00:00.0000001"},
		{(23*3600 + 59*60 + 59) * perSecond, "23:59:59"},
		{math.MaxInt64, "10675199.02:48:05.4775807"},
		{math.MinInt64, "-10675199.02:48:05.4775808"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := FormatTimeSpanTicks(tt.ticks)
			if got != tt.want {
				t.Fatalf("FormatTimeSpanTicks(%d) = %q, want %q", tt.ticks, got, tt.want)
			}
			if tt.ticks > math.MaxInt64/int64(Tick) || tt.ticks < math.MinInt64/int64(Tick) {
				return
			}
			back, err := ParseTimeSpan(got)
			if err != nil || back != time.Duration(tt.ticks)*Tick {
				t.Errorf("ParseTimeSpan(%q) = %v, %v; want %v", got, back, err, time.Duration(tt.ticks)*Tick)
			}
		})
	}
}

// FuzzParseDuration checks that parsing never panics and that every value
// it accepts survives a Format/Parse round trip.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT15M", "P1DT2H", "PT0.5S", UnlimitedISO, "-PT1S", "P1Y2M", "PT", "P1W"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, round trip via %q = %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}

// FuzzParseTimeSpan checks that parsing never panics and that accepted
// values are whole ticks.
func FuzzParseTimeSpan(f *testing.F) {
	for _, s := range []string{"00:05:00", "1.02:03:04.5", "-00:00:00.0010000", "2", "", "::", "99:99:99", "1.:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimeSpan(s)
		if err == nil && d%Tick != 0 {
			t.Fatalf("ParseTimeSpan(%q) = %v, not a whole number of ticks", s, d)
		}
	})
}
