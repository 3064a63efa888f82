package wireerr

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/batchemu/internal/autoscale"
)

// engineErr returns the formula engine's error for formula: from Parse, or
// from Evaluate at now when it parses.
func engineErr(t *testing.T, formula string, now time.Time) *autoscale.Error {
	t.Helper()
	f, err := autoscale.Parse(formula)
	if err == nil {
		_, err = f.Evaluate(autoscale.Inputs{Now: now})
	}
	var ae *autoscale.Error
	if !errors.As(err, &ae) {
		t.Fatalf("formula %q: error %v, want an *autoscale.Error", formula, err)
	}
	return ae
}

// TestFormulaErrors checks that the formula errors carry the engine's code,
// message and "Message" detail, as a 400 response and as an autoScaleRun
// error.
func TestFormulaErrors(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, formula, code, message, detail string
		now                                  time.Time
	}{
		{"syntax", "$TargetDedicatedNodes=;", CodeAutoScalingFormulaSyntaxError,
			"The specified auto-scaling formula has a syntax error.", "Line 1, Col ", now},
		{"too long", "$TargetDedicatedNodes=1;" + strings.Repeat(" ", autoscale.MaxFormulaLength), CodeAutoScalingFormulaTooLong,
			"The specified auto-scaling formula exceeds lengths limit.", "the limit is 8192", now},
		{"evaluation", "$TargetDedicatedNodes=1;", CodeAutoScalingFormulaEvaluationError,
			"Autoscale evaluation failed", "no evaluation time was given", time.Time{}},
		{"too few samples", "$TargetDedicatedNodes=$PendingTasks.GetSample(TimeInterval_Minute, 50);", CodeInsufficientSampleData,
			"Autoscale evaluation failed due to insufficient sample data", "Line 1, Col ", now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae := engineErr(t, tt.formula, tt.now)
			resp := Formula(ae)
			if resp.Status != http.StatusBadRequest || resp.Code != tt.code || resp.Message != tt.message ||
				len(resp.Values) != 1 || resp.Values[0].Key != "Message" || !strings.Contains(resp.Values[0].Value, tt.detail) {
				t.Errorf("Formula = %+v, want 400 %s %q with a Message value containing %q", resp, tt.code, tt.message, tt.detail)
			}
			run := AutoScaleRunError(ae)
			if run.Code != tt.code || run.Message != tt.message ||
				len(run.Values) != 1 || run.Values[0].Name != "Message" || run.Values[0].Value != resp.Values[0].Value {
				t.Errorf("AutoScaleRunError = %+v, want %s %q with the same Message value", run, tt.code, tt.message)
			}
		})
	}
}
