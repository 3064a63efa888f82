package sbemu_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/emulators/sbemu"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
)

// testConfig has short locks and TTLs so timing tests stay fast.
const testConfig = `{
  "UserConfig": {
    "Namespaces": [{
      "Name": "sbemulatorns",
      "Queues": [
        {"Name": "q1", "Properties": {"LockDuration": "PT5S", "MaxDeliveryCount": 3, "DefaultMessageTimeToLive": "PT1H"}},
        {"Name": "q2", "Properties": {"LockDuration": "PT5S", "MaxDeliveryCount": 2}},
        {"Name": "ttl", "Properties": {"DefaultMessageTimeToLive": "PT5M", "DeadLetteringOnMessageExpiration": true}},
        {"Name": "dedup", "Properties": {"RequiresDuplicateDetection": true, "DuplicateDetectionHistoryTimeWindow": "PT1M"}},
        {"Name": "load"}
      ],
      "Topics": [{
        "Name": "t1",
        "Subscriptions": [{"Name": "all"}, {"Name": "red", "Rules": [{"Name": "red", "Properties": {"FilterType": "Correlation", "CorrelationFilter": {"Properties": {"color": "red"}}}}]}]
      }]
    }],
    "Logging": {"Type": "Console"}
  }
}`

// env is one test's Service Bus: an in-process emulator (newEnv) or a
// real namespace (newAzureEnv in azure_test.go).
type env struct {
	srv    *sbemu.Server // nil for a real namespace
	addr   string
	client *azservicebus.Client
	// conn returns the connection string with the given key.
	conn func(key string) string
	// entity maps a testConfig entity path ("q1", "t1/Subscriptions/all")
	// to the path under test, creating the entity on first use where
	// needed; names not in testConfig map to paths that do not exist.
	entity func(t testing.TB, path string) string
}

func connString(addr, key string) string {
	return fmt.Sprintf("Endpoint=sb://%s;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=%s;UseDevelopmentEmulator=true;", addr, key)
}

// newEnv starts an in-process emulator on 127.0.0.1:0 and a client for it.
func newEnv(t testing.TB, opts *sbemu.Options) *env {
	t.Helper()
	if opts == nil {
		opts = &sbemu.Options{}
	}
	if opts.Config == nil {
		cfg, err := broker.LoadConfig([]byte(testConfig))
		if err != nil {
			t.Fatalf("load test config: %v", err)
		}
		opts.Config = cfg
	}
	if opts.Logger == nil && os.Getenv("SBEMU_TEST_LOG") != "" {
		level := slog.LevelDebug
		if os.Getenv("SBEMU_TEST_LOG") == "trace" {
			level = sbemu.LevelTrace
		}
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	srv, err := sbemu.NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeAMQP(ln)
	e := &env{srv: srv, addr: ln.Addr().String(), entity: func(_ testing.TB, path string) string { return path }}
	e.conn = func(key string) string { return connString(e.addr, key) }
	e.client = e.newClient(t, "SAS_KEY_VALUE")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func (e *env) newClient(t testing.TB, key string) *azservicebus.Client {
	t.Helper()
	c, err := azservicebus.NewClientFromConnectionString(e.conn(key), &azservicebus.ClientOptions{
		RetryOptions: azservicebus.RetryOptions{MaxRetries: 1, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) sender(t testing.TB, entity string) *azservicebus.Sender {
	t.Helper()
	s, err := e.client.NewSender(e.entity(t, entity), nil)
	if err != nil {
		t.Fatalf("NewSender(%s): %v", entity, err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func (e *env) receiver(t testing.TB, entity string, opts *azservicebus.ReceiverOptions) *azservicebus.Receiver {
	t.Helper()
	r, err := e.client.NewReceiverForQueue(e.entity(t, entity), opts)
	if err != nil {
		t.Fatalf("NewReceiverForQueue(%s): %v", entity, err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func (e *env) subReceiver(t *testing.T, topic, sub string, opts *azservicebus.ReceiverOptions) *azservicebus.Receiver {
	t.Helper()
	r, err := e.client.NewReceiverForSubscription(e.entity(t, topic), sub, opts)
	if err != nil {
		t.Fatalf("NewReceiverForSubscription(%s/%s): %v", topic, sub, err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func send(t *testing.T, s *azservicebus.Sender, msgs ...*azservicebus.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := s.SendMessage(ctxT(t, 10*time.Second), m, nil); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}
}

// receiveN receives exactly n messages or fails.
func receiveN(t *testing.T, r *azservicebus.Receiver, n int) []*azservicebus.ReceivedMessage {
	t.Helper()
	ctx := ctxT(t, 15*time.Second)
	var got []*azservicebus.ReceivedMessage
	for i := 0; len(got) < n && i < 100; i++ {
		ms, err := r.ReceiveMessages(ctx, n-len(got), nil)
		if err != nil {
			t.Fatalf("ReceiveMessages after %d of %d: %v", len(got), n, err)
		}
		got = append(got, ms...)
	}
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// expectNone asserts nothing arrives within d.
func expectNone(t *testing.T, r *azservicebus.Receiver, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ms, err := r.ReceiveMessages(ctx, 1, nil)
	if len(ms) > 0 {
		t.Fatalf("received unexpected message %q (err %v)", ms[0].Body, err)
	}
}

// fakeClock is an injected clock that starts at the real time and only
// moves when advanced.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// advance moves the clock and lets the server apply expiries.
func (e *env) advance(t *testing.T, c *fakeClock, d time.Duration) {
	t.Helper()
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	if err := e.srv.Tick(); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

func newClockEnv(t *testing.T) (*env, *fakeClock) {
	t.Helper()
	c := newFakeClock()
	return newEnv(t, &sbemu.Options{Now: c.Now}), c
}
