package executor

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplitCommandLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"single word", "ffmpeg", []string{"ffmpeg"}},
		{"spaces and tabs collapse", "  a \t b\n c  ", []string{"a", "b", "c"}},
		{"double quotes keep spaces", `/bin/bash -c "ffmpeg -i in.mp4 out.mp3"`, []string{"/bin/bash", "-c", "ffmpeg -i in.mp4 out.mp3"}},
		{"single quotes keep everything", `echo 'a "b" \n $X'`, []string{"echo", `a "b" \n $X`}},
		{"escaped quote in double quotes", `echo "say \"hi\""`, []string{"echo", `say "hi"`}},
		{"backslash before ordinary char in double quotes stays", `echo "a\nb"`, []string{"echo", `a\nb`}},
		{"escaped dollar in double quotes", `echo "\$HOME"`, []string{"echo", "$HOME"}},
		{"backslash escapes space outside quotes", `cat my\ file.txt`, []string{"cat", "my file.txt"}},
		{"backslash escapes quote outside quotes", `echo \"x\'`, []string{"echo", `"x'`}},
		{"adjacent quoted parts join", `a"b c"'d e'f`, []string{"ab cd ef"}},
		{"empty double quoted argument", `prog "" x`, []string{"prog", "", "x"}},
		{"empty single quoted argument", `prog ''`, []string{"prog", ""}},
		{"semicolon is literal", `echo a; rm -rf /`, []string{"echo", "a;", "rm", "-rf", "/"}},
		{"command substitution is literal", `echo $(whoami) ` + "`id`", []string{"echo", "$(whoami)", "`id`"}},
		{"variables are not expanded", `echo $AZ_BATCH_TASK_DIR ${HOME}`, []string{"echo", "$AZ_BATCH_TASK_DIR", "${HOME}"}},
		{"globs are not expanded", `ls *.mp4 ?`, []string{"ls", "*.mp4", "?"}},
		{"redirection is literal", `echo a > out.txt`, []string{"echo", "a", ">", "out.txt"}},
		{"unicode kept", `echo "héllo wörld"`, []string{"echo", "héllo wörld"}},
		{"empty line", "   ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCommandLine(tc.in)
			if err != nil {
				t.Fatalf("SplitCommandLine(%q) error: %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitCommandLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"unterminated double quote", `bash -c "echo hi`, ErrUnterminatedQuote},
		{"unterminated single quote", `echo 'x`, ErrUnterminatedQuote},
		{"quote closed by the other kind", `echo "x'`, ErrUnterminatedQuote},
		{"trailing backslash", `echo x\`, ErrTrailingBackslash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCommandLine(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SplitCommandLine(%q) = %q, %v; want error %v", tc.in, got, err, tc.want)
			}
		})
	}
}
