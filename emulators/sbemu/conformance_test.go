package sbemu_test

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestSendReceiveComplete(t *testing.T) {
	e := newEnv(t, nil)
	s := e.sender(t, "q1")
	send(t, s, &azservicebus.Message{Body: []byte("hello"), MessageID: ptr("m1"),
		ApplicationProperties: map[string]any{"k": "v", "n": int64(3)}, Subject: ptr("subj")})
	r := e.receiver(t, "q1", nil)
	got := receiveN(t, r, 1)[0]
	if string(got.Body) != "hello" || got.MessageID != "m1" || got.ApplicationProperties["k"] != "v" ||
		*got.Subject != "subj" || got.DeliveryCount != 1 || got.SequenceNumber == nil {
		t.Fatalf("got %+v", got)
	}
	if err := r.CompleteMessage(ctxT(t, 5e9), got, nil); err != nil {
		t.Fatalf("CompleteMessage: %v", err)
	}
	expectNone(t, r, 300e6)
}

func ptr[T any](v T) *T { return &v }
