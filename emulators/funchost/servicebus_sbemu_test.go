package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ffbatch/ffbatch/emulators/sbemu"
)

// startSBEmu runs the Service Bus emulator in-process with its default
// entities (queue "arrivals", topic "results" with subscription "all") and
// returns a connection string for it.
func startSBEmu(t *testing.T) string {
	t.Helper()
	srv, err := sbemu.NewServer(&sbemu.Options{})
	if err != nil {
		t.Fatalf("sbemu.NewServer: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeAMQP(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close sbemu: %v", err)
		}
	})
	return fmt.Sprintf("Endpoint=sb://%s;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;", ln.Addr())
}

func TestServiceBusAgainstEmulator(t *testing.T) {
	t.Parallel()
	cs := startSBEmu(t)
	fns := map[string]string{
		"SubmitTasks": `{"bindings": [{"name": "msgs", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection", "cardinality": "many", "dataType": "string"}]}`,
		"OnResult":    `{"bindings": [{"name": "msg", "type": "serviceBusTrigger", "direction": "in", "topicName": "results", "subscriptionName": "all", "connection": "ServiceBusConnection"}]}`,
	}
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}},
	  "extensions": {"serviceBus": {"maxMessageBatchSize": 10, "maxBatchWaitTime": "00:00:01"}}}`
	a := newTestApp(t, hostJSON, fns, map[string]string{"ServiceBusConnection": cs})
	// The first single-message invocation fails: the message is abandoned and redelivered.
	a.setConfig(t, `{"failTimes": {"OnResult": 1}}`)
	startHost(t, testOptions(a, newLogCapture()))

	client, err := azservicebus.NewClientFromConnectionString(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	arrivals, err := client.NewSender("arrivals", nil)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := arrivals.NewMessageBatch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := batch.AddMessage(&azservicebus.Message{MessageID: ptr(fmt.Sprintf("arrival-%d", i)), Body: []byte(fmt.Sprintf(`{"blob":"f%d.mp4"}`, i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := arrivals.SendMessageBatch(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	results, err := client.NewSender("results", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := results.SendMessage(ctx, &azservicebus.Message{MessageID: ptr("result-1"), Subject: ptr("succeeded"), Body: []byte(`{"status":"succeeded"}`), ApplicationProperties: map[string]any{"status": "succeeded"}}, nil); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "all three arrivals in batches", 10*time.Second, func() bool {
		n := 0
		for _, r := range a.requests(t, "/SubmitTasks") {
			var body struct{ Data map[string]string }
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			var msgs []string
			if err := json.Unmarshal([]byte(body.Data["msgs"]), &msgs); err != nil {
				t.Fatalf("Data.msgs %q is not a JSON string holding an array: %v", body.Data["msgs"], err)
			}
			n += len(msgs)
		}
		return n == 3
	})
	waitFor(t, "the result redelivered after the failure", 10*time.Second, func() bool { return len(a.requests(t, "/OnResult")) == 2 })
	var second struct{ Metadata map[string]any }
	if err := json.Unmarshal(a.requests(t, "/OnResult")[1].Body, &second); err != nil {
		t.Fatal(err)
	}
	if got := second.Metadata["DeliveryCount"]; got != "2" {
		t.Errorf("redelivered DeliveryCount = %v, want \"2\"", got)
	}
	if got := second.Metadata["MessageId"]; got != `"result-1"` {
		t.Errorf("MessageId = %v, want the double-encoded id", got)
	}
	if got := second.Metadata["status"]; got != `"succeeded"` {
		t.Errorf("body property status in Metadata = %v, want \"\\\"succeeded\\\"\"", got)
	}

	// Completed on success: nothing is left to receive.
	time.Sleep(300 * time.Millisecond)
	for _, entity := range []struct{ queue, topic, sub string }{{queue: "arrivals"}, {topic: "results", sub: "all"}} {
		var rcv *azservicebus.Receiver
		if entity.queue != "" {
			rcv, err = client.NewReceiverForQueue(entity.queue, nil)
		} else {
			rcv, err = client.NewReceiverForSubscription(entity.topic, entity.sub, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		peeked, err := rcv.PeekMessages(ctx, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(peeked) != 0 {
			t.Errorf("%s%s still holds %d messages after successful invocations", entity.queue, entity.topic, len(peeked))
		}
		rcv.Close(ctx)
	}
}

func TestServiceBusSurvivesEmulatorRestart(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	start := func(addr string) (*sbemu.Server, string) {
		t.Helper()
		srv, err := sbemu.NewServer(&sbemu.Options{DataDir: dataDir})
		if err != nil {
			t.Fatalf("sbemu.NewServer: %v", err)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.ServeAMQP(ln) }()
		return srv, ln.Addr().String()
	}
	srv, addr := start("127.0.0.1:0")
	cs := fmt.Sprintf("Endpoint=sb://%s;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;", addr)
	fn := `{"bindings": [{"name": "msgs", "type": "serviceBusTrigger", "direction": "in", "queueName": "arrivals", "connection": "ServiceBusConnection", "cardinality": "many", "dataType": "string"}]}`
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}},
	  "extensions": {"serviceBus": {"clientRetryOptions": {"delay": "00:00:00.05", "maxDelay": "00:00:00.20"}}}}`
	a := newTestApp(t, hostJSON, map[string]string{"SubmitTasks": fn}, map[string]string{"ServiceBusConnection": cs})
	h := startHost(t, testOptions(a, newLogCapture()))

	send := func(id string) {
		t.Helper()
		client, err := azservicebus.NewClientFromConnectionString(cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close(context.Background())
		sender, err := client.NewSender("arrivals", nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sender.SendMessage(ctx, &azservicebus.Message{MessageID: ptr(id), Body: []byte(`{"id":"` + id + `"}`)}, nil); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
	}
	send("before")
	waitFor(t, "the message sent before the restart", 10*time.Second, func() bool { return len(a.requests(t, "/SubmitTasks")) == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("close sbemu: %v", err)
	}
	srv, _ = start(addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	send("after")
	waitFor(t, "the message sent after the restart", 30*time.Second, func() bool { return len(a.requests(t, "/SubmitTasks")) == 2 })
	// Close the host while the emulator still runs, as a stack shuts down:
	// the cleanups run in reverse order and would stop the emulator first,
	// leaving the host's settlement of "after" to retry against nothing.
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer closeCancel()
	if err := h.Close(closeCtx); err != nil {
		t.Errorf("close host: %v", err)
	}
}
