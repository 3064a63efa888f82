package arrivalmsg

import (
	"testing"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/request"
)

func TestNew(t *testing.T) {
	base := arrival.Arrival{Version: request.Version{Container: "input", Blob: "talks/a.mp4", ETag: "0x8DC0FFEE", Size: 1234}}
	withCorrelation := base
	withCorrelation.Correlation = "req-42"
	resubmitted := base
	resubmitted.Resubmit = 2

	tests := []struct {
		name            string
		in              arrival.Arrival
		wantCorrelation string // "" means no CorrelationID set
	}{
		{name: "no correlation", in: base},
		{name: "correlation becomes CorrelationID", in: withCorrelation, wantCorrelation: "req-42"},
		{name: "resubmission keeps its own message id", in: resubmitted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.in)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if m.MessageID == nil || *m.MessageID != tc.in.MessageID() {
				t.Errorf("MessageID = %v, want %q", m.MessageID, tc.in.MessageID())
			}
			if m.ContentType == nil || *m.ContentType != "application/json" {
				t.Errorf("ContentType = %v, want application/json", m.ContentType)
			}
			if m.Subject == nil || *m.Subject != "arrival" {
				t.Errorf("Subject = %v, want arrival", m.Subject)
			}
			switch {
			case tc.wantCorrelation == "" && m.CorrelationID != nil:
				t.Errorf("CorrelationID = %q, want unset", *m.CorrelationID)
			case tc.wantCorrelation != "" && (m.CorrelationID == nil || *m.CorrelationID != tc.wantCorrelation):
				t.Errorf("CorrelationID = %v, want %q", m.CorrelationID, tc.wantCorrelation)
			}
			got, err := arrival.Parse(m.Body)
			if err != nil {
				t.Fatalf("body does not parse as an arrival: %v (%s)", err, m.Body)
			}
			if got != tc.in {
				t.Errorf("body decodes to %+v, want %+v", got, tc.in)
			}
		})
	}
}

func TestNewDistinctMessageIDs(t *testing.T) {
	a := arrival.Arrival{Version: request.Version{Container: "input", Blob: "a.mp4", ETag: "0x1", Size: 1}}
	b := a
	b.Resubmit = 1
	ma, err := New(a)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mb, err := New(b)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if *ma.MessageID == *mb.MessageID {
		t.Errorf("first send and resubmission share MessageID %q; duplicate detection would drop the resubmission", *ma.MessageID)
	}
}
