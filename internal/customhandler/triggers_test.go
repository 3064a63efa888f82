package customhandler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadFixture(t *testing.T, name string) *InvokeRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var req InvokeRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("unmarshal fixture %s: %v", name, err)
	}
	return &req
}

func TestEventGridFixtures(t *testing.T) {
	for _, file := range []string{"eventgrid_blobcreated_object.json", "eventgrid_blobcreated_string.json"} {
		t.Run(file, func(t *testing.T) {
			req := loadFixture(t, file)
			ev, err := req.EventGrid("event")
			if err != nil {
				t.Fatalf("EventGrid: %v", err)
			}
			if ev.EventType != "Microsoft.Storage.BlobCreated" {
				t.Errorf("EventType = %q", ev.EventType)
			}
			if ev.Subject != "/blobServices/default/containers/input/blobs/shows/ep 1.mp4" {
				t.Errorf("Subject = %q", ev.Subject)
			}
			if want := time.Date(2017, 6, 26, 18, 41, 0, 958410300, time.UTC); !ev.EventTime.Equal(want) {
				t.Errorf("EventTime = %v, want %v", ev.EventTime, want)
			}
			var data struct {
				API           string `json:"api"`
				ETag          string `json:"eTag"`
				ContentLength int64  `json:"contentLength"`
			}
			if err := json.Unmarshal(ev.Data, &data); err != nil {
				t.Fatalf("data: %v", err)
			}
			if data.API != "PutBlockList" || data.ETag != "0x8D4BCC2E4835CD0" || data.ContentLength != 524288 {
				t.Errorf("data = %+v", data)
			}
			if s := req.Sys(); s.MethodName != "BlobCreated" || s.UtcNow.IsZero() {
				t.Errorf("Sys = %+v", s)
			}
		})
	}
}

func TestEventGridCloudEventsAndErrors(t *testing.T) {
	tests := []struct {
		name     string
		event    string
		wantType string
		wantErr  string
	}{
		{"cloud events schema", `{"specversion":"1.0","type":"Microsoft.Storage.BlobCreated","source":"/subscriptions/x","subject":"/blobServices/default/containers/input/blobs/a.mp4","id":"1","time":"2026-01-01T00:00:00Z","data":{"api":"PutBlob"}}`, "Microsoft.Storage.BlobCreated", ""},
		{"data as JSON string", `{"eventType":"Microsoft.Storage.BlobCreated","subject":"s","data":"{\"api\":\"PutBlob\"}"}`, "Microsoft.Storage.BlobCreated", ""},
		{"no event type", `{"subject":"s"}`, "", "no eventType"},
		{"not an object", `"hello"`, "", "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &InvokeRequest{Data: map[string]json.RawMessage{"event": json.RawMessage(tc.event)}}
			ev, err := req.EventGrid("event")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("EventGrid: %v", err)
			}
			if ev.EventType != tc.wantType {
				t.Errorf("EventType = %q, want %q", ev.EventType, tc.wantType)
			}
			if !strings.Contains(string(ev.Data), `"api":"PutBlob"`) {
				t.Errorf("Data = %s", ev.Data)
			}
		})
	}
}

func TestServiceBusSingleFixtures(t *testing.T) {
	tests := []struct {
		file          string
		wantDelivery  int64
		wantSequence  int64
		wantMessageID string
	}{
		{"servicebus_single_double_encoded.json", 1, 1, "input-a.mp4-0x8D4BCC2E4835CD0"},
		{"servicebus_single_single_encoded.json", 2, 7, "input-a.mp4-0x8D4BCC2E4835CD0"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m, err := loadFixture(t, tc.file).ServiceBus("msg", BodyString)
			if err != nil {
				t.Fatalf("ServiceBus: %v", err)
			}
			if want := `{"container":"input","blob":"a.mp4","etag":"0x8D4BCC2E4835CD0","size":1234}`; string(m.Body) != want {
				t.Errorf("Body = %s, want %s", m.Body, want)
			}
			if m.MessageID != tc.wantMessageID || m.DeliveryCount != tc.wantDelivery || m.SequenceNumber != tc.wantSequence {
				t.Errorf("got id %q delivery %d seq %d", m.MessageID, m.DeliveryCount, m.SequenceNumber)
			}
			if want := time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC); !m.EnqueuedTime.Equal(want) {
				t.Errorf("EnqueuedTime = %v", m.EnqueuedTime)
			}
		})
	}
}

func TestServiceBusBatchFixtures(t *testing.T) {
	t.Run("string", func(t *testing.T) {
		msgs, err := loadFixture(t, "servicebus_many_string.json").ServiceBusBatch("msgs", BodyString)
		if err != nil {
			t.Fatalf("ServiceBusBatch: %v", err)
		}
		if len(msgs) != 2 {
			t.Fatalf("got %d messages, want 2", len(msgs))
		}
		if !strings.Contains(string(msgs[1].Body), `"blob":"b c.MP4"`) {
			t.Errorf("msgs[1].Body = %s", msgs[1].Body)
		}
		if msgs[0].MessageID != "id1" || msgs[1].MessageID != "id2" {
			t.Errorf("message ids = %q, %q", msgs[0].MessageID, msgs[1].MessageID)
		}
		if msgs[0].DeliveryCount != 1 || msgs[1].DeliveryCount != 3 {
			t.Errorf("delivery counts = %d, %d", msgs[0].DeliveryCount, msgs[1].DeliveryCount)
		}
		if msgs[0].CorrelationID != "" || msgs[1].CorrelationID != "corr-2" {
			t.Errorf("correlation ids = %q, %q", msgs[0].CorrelationID, msgs[1].CorrelationID)
		}
		if msgs[1].ApplicationProperties["source"] != "upstream" {
			t.Errorf("application properties = %v", msgs[1].ApplicationProperties)
		}
		if want := time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC); !msgs[0].EnqueuedTime.Equal(want) {
			t.Errorf("EnqueuedTime = %v", msgs[0].EnqueuedTime)
		}
	})
	t.Run("binary", func(t *testing.T) {
		msgs, err := loadFixture(t, "servicebus_many_binary.json").ServiceBusBatch("msgs", BodyBinary)
		if err != nil {
			t.Fatalf("ServiceBusBatch: %v", err)
		}
		if len(msgs) != 1 || string(msgs[0].Body) != `{"container":"input","blob":"a.mp4","etag":"0x1","size":10}` {
			t.Errorf("msgs = %+v", msgs)
		}
	})
}

func TestServiceBusBatchErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		meta    map[string]string
		wantErr string
	}{
		{"metadata length mismatch", `"[\"a\",\"b\"]"`, map[string]string{"MessageIdArray": `"[\"id1\"]"`}, "1 values for 2 messages"},
		{"data not an array", `"\"a\""`, nil, "want an array"},
		{"bad delivery count", `"[\"a\"]"`, map[string]string{"DeliveryCountArray": `"[\"x\"]"`}, "DeliveryCountArray[0]"},
		{"missing data", ``, nil, "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &InvokeRequest{Data: map[string]json.RawMessage{}, Metadata: map[string]json.RawMessage{}}
			if tc.data != "" {
				req.Data["msgs"] = json.RawMessage(tc.data)
			}
			for k, v := range tc.meta {
				req.Metadata[k] = json.RawMessage(v)
			}
			_, err := req.ServiceBusBatch("msgs", BodyString)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTimerFixtures(t *testing.T) {
	ti, err := loadFixture(t, "timer.json").Timer("timer")
	if err != nil {
		t.Fatalf("Timer: %v", err)
	}
	if ti.IsPastDue || ti.ScheduleStatus == nil {
		t.Fatalf("timer = %+v", ti)
	}
	if want := time.Date(2026, 9, 24, 13, 9, 0, 0, time.UTC); !ti.ScheduleStatus.Next.Equal(want) {
		t.Errorf("Next = %v, want %v", ti.ScheduleStatus.Next, want)
	}
	ti, err = loadFixture(t, "timer_unmonitored.json").Timer("timer")
	if err != nil {
		t.Fatalf("Timer unmonitored: %v", err)
	}
	if !ti.IsPastDue || ti.ScheduleStatus != nil {
		t.Errorf("unmonitored timer = %+v", ti)
	}
}

func TestHTTPFixture(t *testing.T) {
	h, err := loadFixture(t, "http_get_status.json").HTTP("req")
	if err != nil {
		t.Fatalf("HTTP: %v", err)
	}
	if h.Method != "GET" || h.Query["blob"] != "shows/ep 1.mp4" {
		t.Errorf("request = %+v", h)
	}
	if got := h.Headers["Accept"]; len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Accept = %v", got)
	}
	if h.Body != nil {
		t.Errorf("Body = %q, want nil", h.Body)
	}
}
