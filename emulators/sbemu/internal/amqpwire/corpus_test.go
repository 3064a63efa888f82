package amqpwire

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora under testdata/fuzz")

// TestWriteSeedCorpus regenerates testdata/fuzz from the sample frames and
// messages when run with -update-corpus; otherwise it checks the seed
// corpora exist so plain `go test` keeps running them.
func TestWriteSeedCorpus(t *testing.T) {
	frames := map[string][]byte{}
	for i, tt := range samplePerformatives() {
		var payload []byte
		if _, ok := tt.body.(*Transfer); ok {
			payload, _ = AppendMessage(nil, &Message{Properties: &Properties{MessageID: "m"}, Data: [][]byte{[]byte("x")}})
		}
		b, err := AppendFrame(nil, tt.typ, uint16(i), tt.body, payload)
		if err != nil {
			t.Fatal(err)
		}
		frames[fmt.Sprintf("seed-%02d", i)] = b
	}
	frames["seed-empty"] = []byte{0, 0, 0, 8, 2, 0, 0, 0}
	msgs := map[string][]byte{}
	for i, m := range []*Message{
		{Header: &Header{Priority: 4, DeliveryCount: 1}, MessageAnnotations: Map{{Key: Symbol("x-opt-sequence-number"), Value: int64(7)}},
			Properties: &Properties{MessageID: "id", CorrelationID: UUID{1}}, ApplicationProperties: Map{{Key: "a", Value: "b"}},
			Data: [][]byte{[]byte("payload")}},
		{Properties: &Properties{MessageID: "req", ReplyTo: "$cbs-reply"}, ApplicationProperties: Map{{Key: "operation", Value: "put-token"}},
			Value: "SharedAccessSignature sr=x&sig=y&se=1&skn=k", HasValue: true},
		{Value: Map{{Key: "sequence-numbers", Value: Array{Code: TypeLong, Elems: []any{int64(1), int64(2)}}}}, HasValue: true},
	} {
		b, err := AppendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		msgs[fmt.Sprintf("seed-%02d", i)] = b
	}
	for target, seeds := range map[string]map[string][]byte{"FuzzDecodeFrame": frames, "FuzzDecodeMessage": msgs} {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, b := range seeds {
			path := filepath.Join(dir, name)
			if !*updateCorpus {
				if _, err := os.Stat(path); err != nil {
					t.Errorf("seed corpus file missing (run with -update-corpus): %v", err)
				}
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
