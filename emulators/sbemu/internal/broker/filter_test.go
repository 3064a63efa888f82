package broker

import (
	"testing"
	"time"
)

func TestSQLFilter(t *testing.T) {
	m := &Message{
		MessageID: "id-1", CorrelationID: "corr", Subject: "label", To: "to", ReplyTo: "rt",
		ContentType: "application/json", SessionID: "sess",
		ApplicationProperties: map[string]any{
			"color": "red", "size": int32(12), "price": 9.5, "big": uint64(1 << 40), "ok": true,
			"quote": "it's", "when": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "my prop": "spaced", "name": "Zoé Boë",
		},
	}
	tests := []struct {
		expr string
		want bool
	}{
		{"1=1", true},
		{"1=0", false},
		{"TRUE", true},
		{"false", false},
		{"color = 'red'", true},
		{"color = 'Red'", false},
		{"user.color = 'red'", true},
		{"color <> 'blue'", true},
		{"color != 'red'", false},
		{"size = 12", true},
		{"size > 10 AND size <= 12", true},
		{"size >= 12.5", false},
		{"price < 10", true},
		{"price = 9.5", true},
		{"big > 1000", true},
		{"size = -12", false},
		{"size > -1", true},
		{"ok = TRUE", true},
		{"ok", true},
		{"NOT ok", false},
		{"quote = 'it''s'", true},
		{"[my prop] = 'spaced'", true},
		{"sys.MessageId = 'id-1'", true},
		{"sys.messageid = 'id-1'", true},
		{"sys.CorrelationId = 'corr' AND sys.Label = 'label' AND sys.To = 'to' AND sys.ReplyTo = 'rt'", true},
		{"sys.ContentType = 'application/json' AND sys.SessionId = 'sess'", true},
		{"sys.ReplyToSessionId IS NULL", true},
		{"missing = 'x'", false},
		{"NOT missing = 'x'", false}, // unknown stays unknown
		{"missing IS NULL", true},
		{"color IS NOT NULL", true},
		{"EXISTS(color)", true},
		{"EXISTS(missing)", false},
		{"NOT EXISTS(missing)", true},
		{"missing = 'x' OR color = 'red'", true},
		{"missing = 'x' AND color = 'red'", false},
		{"(color = 'blue' OR size = 12) AND NOT (price > 100)", true},
		{"color IN ('blue', 'red')", true},
		{"color NOT IN ('blue', 'green')", true},
		{"size IN (1, 2)", false},
		{"color LIKE 'r%'", true},
		{"color LIKE 'r_d'", true},
		{"color LIKE 'R%'", false},
		{"color NOT LIKE '%e%'", false},
		{"quote LIKE 'it_s'", true},
		{"name LIKE 'Zo_ %'", true},
		{"name LIKE '%ë'", true},
		{"name LIKE 'Zoé _oë'", true},
		{"name LIKE 'Zo%' ESCAPE 'é'", true},
		{"color LIKE 'r!%' ESCAPE '!'", false},
		{"sys.MessageId LIKE 'id!-%' ESCAPE '!'", true},
		{"color = 12", false}, // incomparable types: unknown
		{"when > when", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			r, err := compileRule(RuleConfig{Name: "r", FilterType: FilterSQL, SQL: tt.expr})
			if err != nil {
				t.Fatalf("compile %q: %v", tt.expr, err)
			}
			if got := r.matches(m); got != tt.want {
				t.Errorf("%q = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestSQLFilterRejected(t *testing.T) {
	for _, expr := range []string{
		"", "color =", "color = 'unterminated", "(color = 'red'", "color = 'red')", "a * 2 = 4", "-a = 1",
		"UPPER(color) = 'RED'", "sys.DeliveryCount > 1", "color BETWEEN 1 AND 2", "color = #", "color IN ()",
		"color LIKE 5", "x LIKE 'a' ESCAPE 'ab'", "'a'", "[unterminated = 1",
	} {
		t.Run(expr, func(t *testing.T) {
			if _, err := compileRule(RuleConfig{Name: "r", FilterType: FilterSQL, SQL: expr}); err == nil {
				t.Errorf("compile %q succeeded, want an error", expr)
			}
		})
	}
}

func TestSQLAction(t *testing.T) {
	r, err := compileRule(RuleConfig{Name: "r", FilterType: FilterSQL, SQL: "1=1",
		Action: "SET a = 'x'; SET n = 5; SET copy = color; SET sys.Label = 'new'; SET sys.CorrelationId = 7"})
	if err != nil {
		t.Fatal(err)
	}
	props, sys := r.apply(&Message{ApplicationProperties: map[string]any{"color": "red"}})
	if props["a"] != "x" || props["n"] != int64(5) || props["copy"] != "red" || len(props) != 3 {
		t.Errorf("props = %v", props)
	}
	if sys["subject"] != "new" || len(sys) != 1 { // a number is not a valid correlation id: skipped
		t.Errorf("sys = %v", sys)
	}
	for _, bad := range []string{"SET", "SET a", "SET a = ", "a = 1", "SET a = 1 SET b = 2", "REMOVE a"} {
		if _, err := parseSQLAction(bad); err == nil {
			t.Errorf("action %q accepted", bad)
		}
	}
}

func TestCorrelationFilter(t *testing.T) {
	m := &Message{MessageID: "m", CorrelationID: "c", Subject: "s", To: "t", ReplyTo: "r", ReplyToSessionID: "rs",
		SessionID: "sid", ContentType: "ct", ApplicationProperties: map[string]any{"k": "v", "n": int16(3), "f": float32(1.5), "b": false}}
	tests := []struct {
		name string
		f    CorrelationFilter
		want bool
	}{
		{"all system fields", CorrelationFilter{MessageID: "m", CorrelationID: "c", Label: "s", To: "t", ReplyTo: "r", ReplyToSessionID: "rs", SessionID: "sid", ContentType: "ct"}, true},
		{"one field differs", CorrelationFilter{CorrelationID: "c", Label: "other"}, false},
		{"case-sensitive", CorrelationFilter{ContentType: "CT"}, false},
		{"string property", CorrelationFilter{Properties: map[string]any{"k": "v"}}, true},
		{"numeric property across types", CorrelationFilter{Properties: map[string]any{"n": int64(3), "f": 1.5}}, true},
		{"bool property", CorrelationFilter{Properties: map[string]any{"b": false}}, true},
		{"missing property", CorrelationFilter{Properties: map[string]any{"x": "v"}}, false},
		{"type mismatch", CorrelationFilter{Properties: map[string]any{"k": int64(1)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := compileRule(RuleConfig{Name: "r", FilterType: FilterCorrelation, Correlation: &tt.f})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.matches(m); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}
