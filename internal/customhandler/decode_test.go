package customhandler

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr bool
	}{
		{"single encoded", `"abc"`, "abc", false},
		{"double encoded", `"\"abc\""`, "abc", false},
		{"number bare", `4`, "4", false},
		{"number as string", `"4"`, "4", false},
		{"number double encoded", `"\"4\""`, "4", false},
		{"boolean bare", `true`, "true", false},
		{"empty string", `""`, "", false},
		{"quote inside text kept", `"say \"hi\" now"`, `say "hi" now`, false},
		{"unicode escaped", `"\"caf\u00e9\""`, "café", false},
		{"null is missing", `null`, "", true},
		{"object refused", `{"a":1}`, "", true},
		{"array refused", `[1]`, "", true},
		{"broken JSON", `"abc`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := String(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("String(%s) error = %v, wantErr %v", tc.raw, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("String(%s) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestDecodeObjectOrString(t *testing.T) {
	type obj struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	want := obj{A: 1, B: "x"}
	tests := []struct {
		name    string
		raw     string
		wantErr bool
	}{
		{"object", `{"a":1,"b":"x"}`, false},
		{"object with spaces", "  {\"a\":1,\"b\":\"x\"}\n", false},
		{"json string of object", `"{\"a\":1,\"b\":\"x\"}"`, false},
		{"double encoded object", `"\"{\\\"a\\\":1,\\\"b\\\":\\\"x\\\"}\""`, false},
		{"plain text is an error", `"hello"`, true},
		{"null is missing", `null`, true},
		{"wrong field type", `{"a":"one"}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got obj
			err := Decode(json.RawMessage(tc.raw), &got)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Decode(%s) error = %v, wantErr %v", tc.raw, err, tc.wantErr)
			}
			if !tc.wantErr && got != want {
				t.Errorf("Decode(%s) = %+v, want %+v", tc.raw, got, want)
			}
		})
	}
	if err := Decode(nil, new(obj)); !errors.Is(err, ErrMissing) {
		t.Errorf("Decode(nil) error = %v, want ErrMissing", err)
	}
}

func TestInt64(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    int64
		wantErr bool
	}{
		{"number", `7`, 7, false},
		{"string", `"7"`, 7, false},
		{"double encoded", `"\"7\""`, 7, false},
		{"negative", `-3`, -3, false},
		{"large sequence number", `"9223372036854775807"`, 9223372036854775807, false},
		{"float refused", `1.5`, 0, true},
		{"text refused", `"seven"`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Int64(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Int64(%s) error = %v, wantErr %v", tc.raw, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Int64(%s) = %d, want %d", tc.raw, got, tc.want)
			}
		})
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    time.Time
		wantErr bool
	}{
		{"zone-less seconds (DateTime after Parse(ToString()))", `"2023-10-12T20:13:49"`, time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC), false},
		{"offset (DateTimeOffset)", `"2023-10-12T20:13:49+00:00"`, time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC), false},
		{"fraction and Z", `"2026-01-01T00:00:02.5Z"`, time.Date(2026, 1, 1, 0, 0, 2, 5e8, time.UTC), false},
		{"zone-less fraction", `"2026-01-01T00:00:00.123"`, time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC), false},
		{"seven digit fraction with offset", `"2026-09-24T13:08:00.0096035+02:00"`, time.Date(2026, 9, 24, 11, 8, 0, 9603500, time.UTC), false},
		{"double encoded", `"\"2023-10-12T20:13:49\""`, time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC), false},
		{"garbage", `"yesterday"`, time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Time(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Time(%s) error = %v, wantErr %v", tc.raw, err, tc.wantErr)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Time(%s) = %v, want %v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestArray(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    []string // each element through String
		wantErr bool
	}{
		{"json string holding array (host *Array metadata)", `"[\"id1\",\"id2\"]"`, []string{"id1", "id2"}, false},
		{"real array", `["id1","id2"]`, []string{"id1", "id2"}, false},
		{"numbers in string", `"[1,3]"`, []string{"1", "3"}, false},
		{"empty", `"[]"`, []string{}, false},
		{"object refused", `{"a":1}`, nil, true},
		{"scalar refused", `"id1"`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Array(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Array(%s) error = %v, wantErr %v", tc.raw, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Array(%s) has %d elements, want %d", tc.raw, len(got), len(tc.want))
			}
			for i := range got {
				s, err := String(got[i])
				if err != nil || s != tc.want[i] {
					t.Errorf("element %d = %q (%v), want %q", i, s, err, tc.want[i])
				}
			}
		})
	}
}

func TestBodyAndBytes(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		binary  bool
		want    string
		wantErr bool
	}{
		{"double encoded string body", `"\"{\\\"a\\\":1}\""`, false, `{"a":1}`, false},
		{"single encoded string body", `"{\"a\":1}"`, false, `{"a":1}`, false},
		{"object body sent raw", `{"a":1}`, false, `{"a":1}`, false},
		{"plain text body", `"hello"`, false, `hello`, false},
		{"base64 body (dataType binary)", `"eyJhIjoxfQ=="`, true, `{"a":1}`, false},
		{"double encoded base64", `"\"eyJhIjoxfQ==\""`, true, `{"a":1}`, false},
		{"invalid base64", `"not base64!"`, true, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := BodyString
			if tc.binary {
				enc = BodyBinary
			}
			got, err := decodeBody(json.RawMessage(tc.raw), enc)
			if (err != nil) != tc.wantErr {
				t.Fatalf("decodeBody(%s) error = %v, wantErr %v", tc.raw, err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("decodeBody(%s) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestLooksLikeBase64(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"abcd1234", true}, // the reference's example: sent as 6 raw bytes
		{"aGVsbG8=", true},
		{"ok", false},
		{"hello world", false},
		{`{"status":"ok"}`, false},
		{"abc", false},
		{"ab cd", true}, // white space is ignored by Convert.FromBase64String
	}
	for _, tc := range tests {
		if got := LooksLikeBase64(tc.in); got != tc.want {
			t.Errorf("LooksLikeBase64(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSetOutputRefusesBase64LookingStrings(t *testing.T) {
	var r InvokeResponse
	if err := r.SetOutput("out", "abcd1234"); !errors.Is(err, ErrBase64Output) {
		t.Errorf("SetOutput(base64-looking) error = %v, want ErrBase64Output", err)
	}
	if err := r.SetOutput("out", map[string]string{"k": "abcd1234"}); err != nil {
		t.Errorf("SetOutput(object) error = %v", err)
	}
	if err := r.SetOutput("raw", []byte{1, 2}); err != nil {
		t.Errorf("SetOutput([]byte) error = %v", err)
	}
	if len(r.Outputs) != 2 {
		t.Errorf("Outputs has %d entries, want 2", len(r.Outputs))
	}
}
