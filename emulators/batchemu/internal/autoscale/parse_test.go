package autoscale

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name       string
		formula    string
		wantDetail string // exact "Message" value
	}{
		{"empty formula", "", "Line 1, Col 1: the formula has no statements"},
		{"only a comment", "  // nothing here\n", "Line 1, Col 1: the formula has no statements"},
		{"missing assignment", "x", "Line 1, Col 2: expected '=' after 'x', found end of formula"},
		{"equality instead of assignment", "x == 1", "Line 1, Col 3: expected '=' after 'x', found '=='"},
		{"statement starts with a number", "1 = x", "Line 1, Col 1: expected a variable name at the start of a statement, found number 1"},
		{"missing value", "x = ", "Line 1, Col 5: expected a value, found end of formula"},
		{"dangling operator", "x = 1 +", "Line 1, Col 8: expected a value, found end of formula"},
		{"unclosed parenthesis", "x = (1 + 2", "Line 1, Col 11: expected ')' to close the '(', found end of formula"},
		{"stray closing parenthesis", "x = 1)", "Line 1, Col 6: expected ';' between statements, found ')'"},
		{"missing semicolon", "x = 1 y = 2", "Line 1, Col 7: expected ';' between statements, found 'y'"},
		{"two values", "x = 1 2", "Line 1, Col 7: expected ';' between statements, found number 2"},
		{"ternary without colon", "x = 1 ? 2", "Line 1, Col 10: expected ':' in a conditional expression (cond ? a : b), found end of formula"},
		{"unknown function", "x = foo(1)", "Line 1, Col 5: unknown function 'foo'"},
		{"ceil is not documented", "x = ceil(1.5)", "Line 1, Col 5: unknown function 'ceil'"},
		{"function without call", "x = avg", "Line 1, Col 5: function 'avg' must be called with parentheses"},
		{"unknown variable", "x = y", "Line 1, Col 5: unknown variable 'y': no earlier statement assigns it"},
		{"unknown dollar variable", "x = $Foo", "Line 1, Col 5: unknown variable '$Foo': it is not a service-defined variable and no earlier statement assigns it"},
		{"self reference before assignment", "x = x + 1", "Line 1, Col 5: unknown variable 'x': no earlier statement assigns it"},
		{"user names are case-sensitive", "abc = 1; y = ABC", "Line 1, Col 14: unknown variable 'ABC': no earlier statement assigns it"},
		{"assign sample variable", "$PendingTasks = 1", "Line 1, Col 1: '$PendingTasks' is a read-only service-defined variable and cannot be assigned"},
		{"assign node count", "$CurrentDedicatedNodes = 1", "Line 1, Col 1: '$CurrentDedicatedNodes' is a read-only service-defined variable and cannot be assigned"},
		{"assign constant", "TimeInterval_Second = 1", "Line 1, Col 1: 'TimeInterval_Second' is a constant and cannot be assigned"},
		{"assign deallocation option", "requeue = 1", "Line 1, Col 1: 'requeue' is a node deallocation option and cannot be assigned"},
		{"unknown method", "x = $PendingTasks.Foo()", "Line 1, Col 19: unknown method 'Foo' (sample variables have GetSample, GetSamplePercent, GetSamplePeriod, Count and HistoryBeginTime)"},
		{"method without call", "x = $PendingTasks.GetSample", "Line 1, Col 19: method 'GetSample' must be called with parentheses"},
		{"method without arguments", "x = $PendingTasks.GetSample()", "Line 1, Col 19: 'GetSample' takes at least 1 argument(s), got 0"},
		{"method with too many arguments", "x = $PendingTasks.GetSample(1, 2, 3, 4)", "Line 1, Col 19: 'GetSample' takes at most 3 argument(s), got 4"},
		{"Count with an argument", "x = $PendingTasks.Count(1)", "Line 1, Col 19: 'Count' takes 0 argument(s), got 1"},
		{"val with one argument", "x = val(1)", "Line 1, Col 5: 'val' takes 2 argument(s), got 1"},
		{"time with two arguments", `x = time("a", "b")`, "Line 1, Col 5: 'time' takes at most 1 argument(s), got 2"},
		{"lg without arguments", "x = lg()", "Line 1, Col 5: 'lg' takes at least 1 argument(s), got 0"},
		{"method on a user variable", "x = 1; y = x.GetSample(1)", "Line 1, Col 14: method 'GetSample' can only be called on a service-defined sample variable such as $PendingTasks"},
		{"method on a target variable", "x = $TargetDedicatedNodes.GetSample(1)", "Line 1, Col 27: method 'GetSample' can only be called on a service-defined sample variable such as $PendingTasks"},
		{"unknown member", "x = time().foo", "Line 1, Col 12: unknown member 'foo' (a timestamp has year, month, day, weekday, hour, minute and second)"},
		{"member needs a name", "x = time().(1)", "Line 1, Col 12: expected a method or member name after '.', found '('"},
		{"unterminated string", `x = "abc`, "Line 1, Col 5: unterminated string literal"},
		{"single ampersand", "x = 1 & 2", "Line 1, Col 7: unexpected '&' (did you mean '&&'?)"},
		{"single bar", "x = 1 | 2", "Line 1, Col 7: unexpected '|' (did you mean '||'?)"},
		{"unexpected character", "x = 1 # 2", "Line 1, Col 7: unexpected character '#'"},
		{"non-ASCII character", "x = é", "Line 1, Col 5: unexpected character 'é'"},
		{"single-quoted string", "x = 'a'", "Line 1, Col 5: unexpected character '\\''"},
		{"malformed number", "x = 12abc", "Line 1, Col 5: malformed number '12abc'"},
		{"number out of range", "x = 1e999", "Line 1, Col 5: number 1e999 is out of range"},
		{"bare dollar", "$ = 1", "Line 1, Col 1: '$' must be followed by a variable name"},
		{"dollar digit", "$1 = 1", "Line 1, Col 1: '$' must be followed by a variable name"},
		{"error on a later line", "a = 1;\nb = 2;\n  c = d;", "Line 3, Col 7: unknown variable 'd': no earlier statement assigns it"},
		{"columns count characters", `x = "é" ; y = z`, "Line 1, Col 15: unknown variable 'z': no earlier statement assigns it"},
		{"comment does not end a statement", "x = 1 // note\ny = 2", "Line 2, Col 1: expected ';' between statements, found 'y'"},
		{"too deeply nested", "x = " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), "Line 1, Col 205: the expression is nested more than 200 levels deep"},
		{"too many unary operators", "x = " + strings.Repeat("-", 300) + "1", "Line 1, Col 204: the expression is nested more than 200 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.formula)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want a syntax error", tt.formula, f)
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if ae.Code != CodeSyntaxError || ae.Message != "The specified auto-scaling formula has a syntax error." {
				t.Errorf("code/message = %q / %q", ae.Code, ae.Message)
			}
			if got := ae.Detail(); got != tt.wantDetail {
				t.Errorf("detail:\n got %s\nwant %s", got, tt.wantDetail)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	hundred := strings.Repeat("x=1;", MaxStatements)
	padded := hundred + "//" + strings.Repeat("p", MaxFormulaLength-len(hundred)-2)
	tests := []struct {
		name     string
		formula  string
		wantCode string // "" for success
		wantText string
	}{
		{"100 statements in exactly 8192 characters", padded, "", ""},
		{"8193 characters", padded + "p", CodeTooLong, "The formula has 8193 characters; the limit is 8192."},
		{"101 statements", hundred + "x=1", CodeTooLong, "The formula has more than 100 statements."},
		{"empty statements do not count", strings.Repeat(";", 500) + hundred, "", ""},
		{"multi-byte characters count once", strings.Repeat("é", MaxFormulaLength-4) + "\n", CodeSyntaxError, "unexpected character 'é'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.formula)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != tt.wantCode || !strings.Contains(ae.Detail(), tt.wantText) {
				t.Fatalf("Parse error = %v, want code %s with %q", err, tt.wantCode, tt.wantText)
			}
			if tt.wantCode == CodeTooLong && ae.Message != "The specified auto-scaling formula exceeds lengths limit." {
				t.Errorf("message = %q", ae.Message)
			}
		})
	}
}

func TestErrorFormatting(t *testing.T) {
	_, err := Parse("x = y")
	want := "AutoScalingFormulaSyntaxError: The specified auto-scaling formula has a syntax error.: Line 1, Col 5: unknown variable 'y': no earlier statement assigns it"
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %q", err, want)
	}
	plain := &Error{Code: "X", Message: "m"}
	if plain.Error() != "X: m" || plain.Detail() != "" {
		t.Errorf("Error() without values = %q, Detail() = %q", plain.Error(), plain.Detail())
	}
}
