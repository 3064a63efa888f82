package sbemu

import (
	"io"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
)

// FuzzConnFrames feeds arbitrary bytes to an open, authorized connection
// (after SASL PLAIN, open and begin on channel 0) and checks that the
// connection loop never panics and always ends when the peer closes.
func FuzzConnFrames(f *testing.F) {
	frames := func(bodies ...amqpwire.Composite) []byte {
		var b []byte
		for _, body := range bodies {
			var payload []byte
			if _, ok := body.(*amqpwire.Transfer); ok {
				payload, _ = amqpwire.AppendMessage(nil, &amqpwire.Message{Properties: &amqpwire.Properties{MessageID: "m"},
					Data: [][]byte{[]byte("x")}})
			}
			b, _ = amqpwire.AppendFrame(b, amqpwire.FrameAMQP, 0, body, payload)
		}
		return b
	}
	f.Add(frames(senderAttach("s", 0, "q1"),
		&amqpwire.Transfer{Handle: 0, DeliveryID: amqpwire.Ptr[uint32](0), DeliveryTag: []byte{0}, MessageFormat: amqpwire.Ptr[uint32](0)},
		&amqpwire.Detach{Handle: 0, Closed: true}))
	f.Add(frames(&amqpwire.Attach{Name: "r", Handle: 1, Role: amqpwire.RoleReceiver, Source: &amqpwire.Source{Address: "q1"}, Target: &amqpwire.Target{}},
		&amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 10, OutgoingWindow: 10, Handle: amqpwire.Ptr[uint32](1),
			DeliveryCount: amqpwire.Ptr[uint32](0), LinkCredit: amqpwire.Ptr[uint32](5), Drain: true, Echo: true},
		&amqpwire.Disposition{Role: amqpwire.RoleReceiver, First: 0, Last: amqpwire.Ptr[uint32](1 << 31), State: &amqpwire.Modified{UndeliverableHere: true}},
		&amqpwire.End{}))
	f.Add(frames(&amqpwire.Attach{Name: "m", Handle: 2, Role: amqpwire.RoleSender, Target: &amqpwire.Target{Address: "q1/$management"}},
		&amqpwire.Transfer{Handle: 2, DeliveryID: amqpwire.Ptr[uint32](0), More: true},
		&amqpwire.Transfer{Handle: 2, Aborted: true}))
	f.Add([]byte{0, 0, 0, 12, 2, 0, 0, 0, 0, 0x53, 0x13, 0x45})
	f.Fuzz(fuzzConn)
}

// fuzzConn is the body of FuzzConnFrames.
func fuzzConn(t *testing.T, data []byte) {
	srv, p := plainPeer(t, &Options{IdleTimeout: 2 * time.Second}, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, p.nc)
	}()
	p.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := p.nc.Write(data); err == nil {
		if b, err := amqpwire.AppendFrame(nil, amqpwire.FrameAMQP, 0, &amqpwire.Close{}, nil); err == nil {
			p.nc.Write(b)
		}
	}
	select {
	case <-done:
	case <-time.After(300 * time.Millisecond):
		// The input left a frame incomplete; the peer hangs up instead.
		p.nc.Close()
		<-done
	}
	deadline := time.Now().Add(3 * time.Second)
	for srv.connCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("connection still served after the peer went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.panics.Load(); n != 0 {
		t.Fatalf("%d connection loops panicked", n)
	}
}
