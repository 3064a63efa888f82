package batch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDurationRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    Duration
		wire string
	}{
		{"zero", 0, "PT0S"},
		{"minutes", Duration(15 * time.Minute), "PT15M"},
		{"hours and minutes", Duration(time.Hour + 30*time.Minute), "PT1H30M"},
		{"days only", Duration(7 * 24 * time.Hour), "P7D"},
		{"days and hours", Duration(26 * time.Hour), "P1DT2H"},
		{"fractional seconds", Duration(1500 * time.Millisecond), "PT1.5S"},
		{"one tick", Duration(100 * time.Nanosecond), "PT0.0000001S"},
		{"everything", Duration(3*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second + 7*time.Millisecond), "P3DT4H5M6.007S"},
		{"negative", Duration(-90 * time.Second), "-PT1M30S"},
		{"infinite", InfiniteDuration, "P10675199DT2H48M5.4775807S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(b), `"`+tt.wire+`"`; got != want {
				t.Errorf("marshal = %s, want %s", got, want)
			}
			var back Duration
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if back != tt.d {
				t.Errorf("round trip = %v, want %v", time.Duration(back), time.Duration(tt.d))
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    Duration
		wantErr string
	}{
		{in: "PT5M", want: Duration(5 * time.Minute)},
		{in: "P1W", want: Duration(7 * 24 * time.Hour)},
		{in: "PT0.12345678S", want: Duration(123456700 * time.Nanosecond)},
		{in: "P0D", want: 0},
		{in: "P99999999D", want: InfiniteDuration},
		{in: "PT99999999999999999999S", want: InfiniteDuration},
		{in: "", wantErr: "want ISO 8601"},
		{in: "15m", wantErr: "want ISO 8601"},
		{in: "P", wantErr: "want ISO 8601"},
		{in: "PT", wantErr: "want ISO 8601"},
		{in: "P1DT", wantErr: "T without a time component"},
		{in: "P1Y", wantErr: "year and month"},
		{in: "P1M", wantErr: "year and month"},
		{in: "PT1.5M", wantErr: "only seconds may have a fraction"},
		{in: "PT1H2", wantErr: "number followed by a unit"},
		{in: "PT1X", wantErr: "unexpected unit"},
		{in: "P1H", wantErr: "unexpected unit"},
		{in: "PTT1S", wantErr: "repeated T"},
		{in: "PT1..5S", wantErr: "bad number"},
		{in: "-P99999999D", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) err = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestDurationJSONNullAndWrongType(t *testing.T) {
	var v struct {
		D *Duration `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":null}`), &v); err != nil || v.D != nil {
		t.Errorf("null: d = %v, err = %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"d":5}`), &v); err == nil {
		t.Error("number: want an error")
	}
}

// FuzzParseDuration checks that parsing never panics and that every value
// it accepts survives a String/Parse round trip.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT15M", "P1DT2H", "PT0.5S", "P10675199DT2H48M5.4775807S", "-PT1S", "P1W", "PT", "P1Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil {
			t.Fatalf("ParseDuration(%q) = %v, whose String %q does not parse: %v", s, time.Duration(d), d.String(), err)
		}
		if back != d {
			t.Fatalf("ParseDuration(%q) = %d, round trip via %q = %d", s, d, d.String(), back)
		}
	})
}
