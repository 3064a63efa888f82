package ncrontab

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	from := time.Date(2026, 11, 27, 12, 3, 10, 0, time.UTC) // a Friday
	tests := []struct {
		name    string
		expr    string
		want    time.Time
		wantErr string
	}{
		{name: "every minute", expr: "0 */1 * * * *", want: time.Date(2026, 11, 27, 12, 4, 0, 0, time.UTC)},
		{name: "surrounding space", expr: " 0 */5 * * * * ", want: time.Date(2026, 11, 27, 12, 5, 0, 0, time.UTC)},
		{name: "weekdays at 9:30", expr: "0 30 9 * * 1-5", want: time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)},
		{name: "named day", expr: "0 0 0 * * SUN", want: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)},
		{name: "leap day", expr: "0 0 0 29 2 *", want: time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{name: "empty", expr: "  ", wantErr: "empty"},
		{name: "five fields", expr: "*/5 * * * *", wantErr: "six fields"},
		{name: "seven fields", expr: "0 0 0 * * * 2026", wantErr: "got 7"},
		{name: "descriptor", expr: "@hourly", wantErr: "descriptors"},
		{name: "timespan", expr: "00:05:00", wantErr: "six fields"},
		{name: "bad minute", expr: "0 61 * * * *", wantErr: "above maximum"},
		{name: "bad name", expr: "0 0 0 * * FUNDAY", wantErr: "FUNDAY"},
		{name: "never fires", expr: "0 0 0 30 2 *", wantErr: "never fires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want it to contain %q", tt.expr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			if got := s.Next(from); !got.Equal(tt.want) {
				t.Errorf("Next(%s) = %s, want %s", from, got, tt.want)
			}
		})
	}
}
