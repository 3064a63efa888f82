package arrival

import (
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ffbatch/ffbatch/internal/plan"
	"github.com/ffbatch/ffbatch/internal/request"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Arrival
	}{
		{"minimal", `{"container":"input","blob":"a.mp4","etag":"0x8D4BCC2E4835CD0","size":1}`,
			Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x8D4BCC2E4835CD0", Size: 1}}},
		{"quoted etag normalised", `{"container":"input","blob":"a.mp4","etag":"\"0x1\"","size":10}`,
			Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 10}}},
		{"all fields", `{"container":"in-1","blob":"shows/ep 1.MP4","etag":"0x1","size":524288,"preset":"mp3-v2-vbr","output":"podcasts/ep1.mp3","correlation":"order-42","resubmit":2}`,
			Arrival{Version: request.Version{Container: "in-1", Blob: "shows/ep 1.MP4", ETag: "0x1", Size: 524288}, Preset: "mp3-v2-vbr", Output: "podcasts/ep1.mp3", Correlation: "order-42", Resubmit: 2}},
		{"shell metacharacters are just characters", `{"container":"input","blob":"a'b\"c;d$(rm -rf).mp4","etag":"0x1","size":5}`,
			Arrival{Version: request.Version{Container: "input", Blob: `a'b"c;d$(rm -rf).mp4`, ETag: "0x1", Size: 5}}},
		{"unicode", `{"container":"input","blob":"musique/été – 東京.mp4","etag":"0x1","size":5}`,
			Arrival{Version: request.Version{Container: "input", Blob: "musique/été – 東京.mp4", ETag: "0x1", Size: 5}}},
		{"content md5", `{"container":"input","blob":"a.mp4","etag":"0x1","size":5,"contentMD5":"1B2M2Y8AsgTpgAmY7PhCfg=="}`,
			Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 5, ContentMD5: "1B2M2Y8AsgTpgAmY7PhCfg=="}}},
		{"null content md5", `{"container":"input","blob":"a.mp4","etag":"0x1","size":5,"contentMD5":null}`,
			Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 5}}},
		{"null optional fields", `{"container":"input","blob":"a.mp4","etag":"0x1","size":5,"preset":null}`,
			Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 5}}},
		{"1024 characters", fmt.Sprintf(`{"container":"input","blob":"%s.mp4","etag":"0x1","size":5}`, strings.Repeat("é", 1020)),
			Arrival{Version: request.Version{Container: "input", Blob: strings.Repeat("é", 1020) + ".mp4", ETag: "0x1", Size: 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tc.want {
				t.Errorf("Parse = %+v, want %+v", got, tc.want)
			}
			// Round trip through Marshal.
			b, err := got.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(b)
			if err != nil || again != got {
				t.Errorf("round trip = %+v, %v", again, err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	valid := `"container":"input","blob":"a.mp4","etag":"0x1","size":5`
	tests := []struct {
		name   string
		body   string
		field  string
		reason Reason
	}{
		{"not json", `container=input`, "", ReasonNotJSON},
		{"array", `[1,2]`, "", ReasonNotJSON},
		{"string", `"hello"`, "", ReasonNotJSON},
		{"truncated", `{"container":"input"`, "", ReasonNotJSON},
		{"trailing data", `{` + valid + `} {}`, "", ReasonNotJSON},
		{"too large", `{"blob":"` + strings.Repeat("a", MaxMessageBytes) + `"}`, "", ReasonTooLarge},
		{"unknown field", `{` + valid + `,"presett":"mp3-128k-cbr"}`, "presett", ReasonUnknownField},
		{"duplicate field", `{` + valid + `,"blob":"b.mp4"}`, "blob", ReasonDuplicateField},
		{"missing container", `{"blob":"a.mp4","etag":"0x1","size":5}`, "container", ReasonMissing},
		{"missing blob", `{"container":"input","etag":"0x1","size":5}`, "blob", ReasonMissing},
		{"missing etag", `{"container":"input","blob":"a.mp4","size":5}`, "etag", ReasonMissing},
		{"missing size", `{"container":"input","blob":"a.mp4","etag":"0x1"}`, "size", ReasonMissing},
		{"size as string", `{"container":"input","blob":"a.mp4","etag":"0x1","size":"5"}`, "size", ReasonWrongType},
		{"size fraction", `{"container":"input","blob":"a.mp4","etag":"0x1","size":5.5}`, "size", ReasonWrongType},
		{"blob as number", `{"container":"input","blob":7,"etag":"0x1","size":5}`, "blob", ReasonWrongType},
		{"preset as object", `{` + valid + `,"preset":{}}`, "preset", ReasonWrongType},
		{"empty blob (size 0)", `{"container":"input","blob":"a.mp4","etag":"0x1","size":0}`, "size", ReasonEmptyBlob},
		{"negative size", `{"container":"input","blob":"a.mp4","etag":"0x1","size":-1}`, "size", ReasonOutOfRange},
		{"empty blob name", `{"container":"input","blob":"","etag":"0x1","size":5}`, "blob", ReasonMissing},
		{"dot dot segment", `{"container":"input","blob":"../secret/a.mp4","etag":"0x1","size":5}`, "blob", ReasonDotSegment},
		{"inner dot dot", `{"container":"input","blob":"a/../../b.mp4","etag":"0x1","size":5}`, "blob", ReasonDotSegment},
		{"dot segment", `{"container":"input","blob":"./a.mp4","etag":"0x1","size":5}`, "blob", ReasonDotSegment},
		{"absolute", `{"container":"input","blob":"/a.mp4","etag":"0x1","size":5}`, "blob", ReasonInvalidName},
		{"empty segment", `{"container":"input","blob":"a//b.mp4","etag":"0x1","size":5}`, "blob", ReasonInvalidName},
		{"backslash", `{"container":"input","blob":"a\\..\\b.mp4","etag":"0x1","size":5}`, "blob", ReasonInvalidName},
		{"control character", `{"container":"input","blob":"a\nb.mp4","etag":"0x1","size":5}`, "blob", ReasonInvalidName},
		{"1025 characters", fmt.Sprintf(`{"container":"input","blob":"%s.mp4","etag":"0x1","size":5}`, strings.Repeat("a", 1021)), "blob", ReasonTooLong},
		{"not mp4", `{"container":"input","blob":"a.mov","etag":"0x1","size":5}`, "blob", ReasonBadExtension},
		{"mp4 only in the middle", `{"container":"input","blob":"a.mp4.txt","etag":"0x1","size":5}`, "blob", ReasonBadExtension},
		{"bad container", `{"container":"Input","blob":"a.mp4","etag":"0x1","size":5}`, "container", ReasonInvalidContainer},
		{"container path", `{"container":"input/x","blob":"a.mp4","etag":"0x1","size":5}`, "container", ReasonInvalidContainer},
		{"unknown preset", `{` + valid + `,"preset":"flac-lossless"}`, "preset", ReasonUnknownPreset},
		{"output not mp3", `{` + valid + `,"output":"a.wav"}`, "output", ReasonBadOutputName},
		{"output escapes", `{` + valid + `,"output":"../other/a.mp3"}`, "output", ReasonBadOutputName},
		{"output absolute", `{` + valid + `,"output":"/a.mp3"}`, "output", ReasonBadOutputName},
		{"etag with space", `{"container":"input","blob":"a.mp4","etag":"0x 1","size":5}`, "etag", ReasonInvalidETag},
		{"etag only quotes", `{"container":"input","blob":"a.mp4","etag":"\"\"","size":5}`, "etag", ReasonMissing},
		{"etag too long", `{"container":"input","blob":"a.mp4","etag":"` + strings.Repeat("a", 129) + `","size":5}`, "etag", ReasonTooLong},
		{"correlation too long", `{` + valid + `,"correlation":"` + strings.Repeat("c", 129) + `"}`, "correlation", ReasonTooLong},
		{"correlation control char", `{` + valid + `,"correlation":"a\u0007"}`, "correlation", ReasonInvalidText},
		{"resubmit negative", `{` + valid + `,"resubmit":-1}`, "resubmit", ReasonOutOfRange},
		{"content md5 as hex", `{` + valid + `,"contentMD5":"d41d8cd98f00b204e9800998ecf8427e"}`, "contentMD5", ReasonInvalidMD5},
		{"content md5 of 15 bytes", `{` + valid + `,"contentMD5":"1B2M2Y8AsgTpgAmY7PhC"}`, "contentMD5", ReasonInvalidMD5},
		{"content md5 of 20 bytes", `{` + valid + `,"contentMD5":"2jmj7l5rSw0yVb/vlWAYkK/YBwk="}`, "contentMD5", ReasonInvalidMD5},
		{"content md5 unpadded", `{` + valid + `,"contentMD5":"1B2M2Y8AsgTpgAmY7PhCfg"}`, "contentMD5", ReasonInvalidMD5},
		{"content md5 url alphabet", `{` + valid + `,"contentMD5":"1B2M2Y8AsgTpgAmY7PhC_g=="}`, "contentMD5", ReasonInvalidMD5},
		{"content md5 non-canonical padding bits", `{` + valid + `,"contentMD5":"1B2M2Y8AsgTpgAmY7PhCfh=="}`, "contentMD5", ReasonInvalidMD5},
		{"content md5 as number", `{` + valid + `,"contentMD5":16}`, "contentMD5", ReasonWrongType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body))
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("Parse error = %v, want *Error", err)
			}
			if ae.Problems[0].Field != tc.field || ae.Problems[0].Reason != tc.reason {
				t.Errorf("first problem = %+v, want field %q reason %q (all: %v)", ae.Problems[0], tc.field, tc.reason, ae)
			}
			if ae.Problems[0].Message == "" {
				t.Errorf("problem has no message")
			}
		})
	}
}

func TestParseReportsAllProblems(t *testing.T) {
	_, err := Parse([]byte(`{"container":"X","blob":"../a.mov","etag":"","size":0,"preset":"nope","extra":1}`))
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v", err)
	}
	// Type and unknown-field problems come first and stop semantic checks.
	if len(ae.Problems) != 1 || ae.Problems[0].Field != "extra" {
		t.Errorf("problems = %+v, want only the unknown field", ae.Problems)
	}
	_, err = Parse([]byte(`{"container":"X","blob":"../a.mov","etag":"","size":0,"preset":"nope"}`))
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v", err)
	}
	fields := map[string]bool{}
	for _, p := range ae.Problems {
		fields[p.Field] = true
	}
	for _, f := range []string{"container", "blob", "etag", "size", "preset"} {
		if !fields[f] {
			t.Errorf("no problem for %s: %v", f, ae)
		}
	}
}

func TestMessageID(t *testing.T) {
	a := Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1", Size: 1}}
	id := a.MessageID()
	if len(id) > 128 || !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(id) {
		t.Errorf("MessageID = %q: want ≤128 chars of [a-z0-9-]", id)
	}
	tests := []struct {
		name string
		b    Arrival
		same bool
	}{
		{"same version, other size and hash", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1", Size: 99, ContentMD5: "1B2M2Y8AsgTpgAmY7PhCfg=="}}, true},
		{"another preset is another request", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1"}, Preset: "mp3-v2-vbr"}, false},
		{"another output is another request", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1"}, Output: "x.mp3"}, false},
		{"another correlation is another request", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1"}, Correlation: "order-2"}, false},
		{"force is another request", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1"}, Force: true}, false},
		{"explicit request id", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1"}, Request: "order-1"}, false},
		{"quoted etag", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: `"0x1"`}}, true},
		{"new etag", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x2"}}, false},
		{"other blob", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 2.mp4", ETag: "0x1"}}, false},
		{"other container", Arrival{Version: request.Version{Container: "input2", Blob: "shows/ep 1.mp4", ETag: "0x1"}}, false},
		{"concatenation ambiguity", Arrival{Version: request.Version{Container: "inputs", Blob: "hows/ep 1.mp4", ETag: "0x1"}}, false},
		{"case matters in blob names", Arrival{Version: request.Version{Container: "input", Blob: "Shows/ep 1.mp4", ETag: "0x1"}}, false},
		{"resubmission", Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x1"}, Resubmit: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.MessageID() == id; got != tc.same {
				t.Errorf("MessageID equal = %v, want %v (%s vs %s)", got, tc.same, tc.b.MessageID(), id)
			}
		})
	}
	long := Arrival{Version: request.Version{Container: strings.Repeat("c", 63), Blob: strings.Repeat("b", 1024), ETag: strings.Repeat("e", 128)}, Resubmit: 100}
	if n := len(long.MessageID()); n > 128 {
		t.Errorf("MessageID length %d > 128", n)
	}
	named := Arrival{Version: a.Version, Request: strings.Repeat("x", 128), Resubmit: 100}
	if n := len(named.MessageID()); n > 128 {
		t.Errorf("MessageID of a resubmitted 128-character request id has length %d > 128", n)
	}
	if got := (Arrival{Version: a.Version, Request: "order-1"}).MessageID(); got != "order-1" {
		t.Errorf("MessageID with request id = %q, want the request id", got)
	}
}

func TestRequestID(t *testing.T) {
	a := Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 1}}
	tests := []struct {
		name      string
		arr       Arrival
		messageID string
		want      string
	}{
		{"body request id wins", Arrival{Version: a.Version, Request: "req-1"}, "msg-1", "req-1"},
		{"message id without body id", a, "msg-1", "msg-1"},
		{"neither: the default recipe", a, "", a.ID()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.arr.RequestID(tc.messageID); got != tc.want {
				t.Errorf("RequestID(%q) = %q, want %q", tc.messageID, got, tc.want)
			}
		})
	}
}

// TestDefaultIDVector pins the recipe docs/messages.md gives to non-Go
// senders.
func TestDefaultIDVector(t *testing.T) {
	a := Arrival{Version: request.Version{Container: "input", Blob: "shows/ep 1.mp4", ETag: "0x8D4BCC2E4835CD0", Size: 524288},
		Preset: "mp3-v2-vbr", Correlation: "order-42"}
	const want = "arrival-cfc39dc7b4eeacc02fa6638d49a809b915d16b7f45f57bd0398f8459251d3d84"
	if got := a.MessageID(); got != want {
		t.Errorf("MessageID = %q, want %q (update docs/messages.md if the recipe changed on purpose)", got, want)
	}
}

func TestEncodeContentMD5(t *testing.T) {
	sum := md5.Sum(nil)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"md5 of nothing", sum[:], "1B2M2Y8AsgTpgAmY7PhCfg=="},
		{"absent (block-list upload)", nil, ""},
		{"wrong length", []byte{1, 2, 3}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EncodeContentMD5(tc.in)
			if got != tc.want {
				t.Errorf("EncodeContentMD5 = %q, want %q", got, tc.want)
			}
			if got != "" && !ValidContentMD5(got) {
				t.Errorf("ValidContentMD5(%q) = false", got)
			}
		})
	}
}

// TestSchemaMatchesParser keeps docs/schemas/arrival.schema.json in step
// with the fields Parse accepts and the preset list.
func TestSchemaMatchesParser(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "schemas", "arrival.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Enum []any `json:"enum"`
		} `json:"properties"`
		AdditionalProperties bool `json:"additionalProperties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.AdditionalProperties {
		t.Errorf("schema allows additional properties; Parse rejects them")
	}
	for k := range knownFields {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("schema lacks property %q", k)
		}
	}
	if len(s.Properties) != len(knownFields) {
		t.Errorf("schema has %d properties, Parse knows %d", len(s.Properties), len(knownFields))
	}
	var enum []string
	for _, v := range s.Properties["preset"].Enum {
		if v != nil {
			enum = append(enum, v.(string))
		}
	}
	sort.Strings(enum)
	if got, want := strings.Join(enum, ","), strings.Join(plan.PresetNames(), ","); got != want {
		t.Errorf("schema presets %s, want %s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"container":"input","blob":"a.mp4","etag":"0x1","size":5}`))
	f.Add([]byte(`{"container":"input","blob":"../a.mp4","etag":"\"0x1\"","size":0,"preset":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || len(ae.Problems) == 0 {
				t.Fatalf("error %v is not a non-empty *Error", err)
			}
			return
		}
		if verr := a.Validate(); verr != nil {
			t.Fatalf("Parse accepted %q but Validate says %v", b, verr)
		}
		if len(a.MessageID()) > 128 {
			t.Fatalf("message id too long")
		}
	})
}

func TestExtensions(t *testing.T) {
	tests := []struct {
		name     string
		mp4, mp3 bool
	}{
		{"a.mp4", true, false},
		{"dir/A.MP4", true, false},
		{"a.mp3", false, true},
		{"x.y/Song.Mp3", false, true},
		{"a.mp4.part", false, false},
		{"mp3", false, false},
		{"dir.mp3/file", false, false},
		{".mp4", true, false},
	}
	for _, tt := range tests {
		if got := HasMP4Extension(tt.name); got != tt.mp4 {
			t.Errorf("HasMP4Extension(%q) = %v, want %v", tt.name, got, tt.mp4)
		}
		if got := HasMP3Extension(tt.name); got != tt.mp3 {
			t.Errorf("HasMP3Extension(%q) = %v, want %v", tt.name, got, tt.mp3)
		}
	}
}
