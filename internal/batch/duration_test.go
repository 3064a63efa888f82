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
	if err := json.Unmarshal([]byte(`{"d":"P1W"}`), &v); err == nil || !strings.Contains(err.Error(), "P1W") {
		t.Errorf("P1W: err = %v, want an error naming the value", err)
	}
}
