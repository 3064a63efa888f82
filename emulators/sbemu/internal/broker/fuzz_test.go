package broker

import (
	"os"
	"testing"
)

// FuzzLoadConfig checks that LoadConfig never panics and that every
// configuration it accepts builds a broker.
func FuzzLoadConfig(f *testing.F) {
	f.Add(DefaultConfigJSON)
	if data, err := os.ReadFile("testdata/emulator-format.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(cfgJSON(`{"Name":"a","Properties":{"ForwardTo":"b"}},{"Name":"b"}`, `{"Name":"t","Subscriptions":[{"Name":"s","Rules":[{"Name":"r","Properties":{"FilterType":"Sql","SqlFilter":{"SqlExpression":"a IN (1,'x') OR NOT b LIKE 'c%'"}}}]}]}`)))
	f.Add([]byte(`{"UserConfig":{"Namespaces":[{"Name":"sbemulatorns","Queues":[{"Name":"q","Properties":{"LockDuration":"P1DT1H1M1.5S"}}]}]}} // c`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := LoadConfig(data)
		if err != nil {
			return
		}
		b, err := New(cfg, nil)
		if err != nil {
			t.Fatalf("LoadConfig accepted a configuration New rejects: %v", err)
		}
		b.Close()
	})
}

// FuzzSQLFilter checks that compiling and evaluating SQL filters and
// actions never panics.
func FuzzSQLFilter(f *testing.F) {
	for _, s := range []string{
		"1=1", "color = 'red' AND size > 10", "NOT EXISTS(x) OR [a b] IN ('x', 2, -3.5)",
		"sys.Label LIKE 'a!%%' ESCAPE '!'", "a IS NOT NULL", "(((a)))", "SET a = 1; SET sys.To = 'x'",
	} {
		f.Add(s)
	}
	m := &Message{MessageID: "id", Subject: "lbl", ApplicationProperties: map[string]any{"a": true, "color": "red", "size": int64(12), "a b": "x"}}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := parseSQLFilter(s); err == nil {
			r := &rule{name: "r", filter: e}
			_ = r.matches(m)
		}
		if a, err := parseSQLAction(s); err == nil {
			r := &rule{name: "r", filter: literal{v: true}, action: a}
			r.apply(m)
		}
	})
}
