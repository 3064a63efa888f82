package sbemu

import (
	"net"
	"testing"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
)

func TestManagementStatuses(t *testing.T) {
	srv, _ := newPipeServer(t, nil)
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := newConn(srv, a)
	if _, err := srv.broker.Send("q1", []*broker.Message{{Raw: encodeMsg(t, &amqpwire.Message{Data: [][]byte{{1}}})}}); err != nil {
		t.Fatal(err)
	}
	uuids := func(us ...amqpwire.UUID) amqpwire.Array {
		a := amqpwire.Array{Code: amqpwire.TypeUUID}
		for _, u := range us {
			a.Elems = append(a.Elems, u)
		}
		return a
	}
	longs := func(ns ...int64) amqpwire.Array {
		a := amqpwire.Array{Code: amqpwire.TypeLong}
		for _, n := range ns {
			a.Elems = append(a.Elems, n)
		}
		return a
	}
	tests := []struct {
		name string
		path string
		op   string
		body amqpwire.Map
		want int32
		cond amqpwire.Symbol // errorCondition, when the service sends one
	}{
		{"unknown operation", "q1", "com.microsoft:get-message-sessions", amqpwire.Map{}, statusBadRequest, ""},
		{"renew without tokens", "q1", opRenewLock, amqpwire.Map{}, statusBadRequest, ""},
		{"renew with wrong token type", "q1", opRenewLock, amqpwire.Map{{Key: "lock-tokens", Value: longs(1)}}, statusBadRequest, ""},
		{"renew unknown lock", "q1", opRenewLock, amqpwire.Map{{Key: "lock-tokens", Value: uuids(amqpwire.UUID{1})}}, statusGone, condLockLost},
		{"peek", "q1", opPeek, amqpwire.Map{{Key: "from-sequence-number", Value: int64(1)}, {Key: "message-count", Value: int32(5)}}, statusOK, ""},
		{"peek past the end", "q1", opPeek, amqpwire.Map{{Key: "from-sequence-number", Value: int64(99)}, {Key: "message-count", Value: int32(5)}}, statusNoContent, ""},
		{"peek without count", "q1", opPeek, amqpwire.Map{{Key: "from-sequence-number", Value: int64(1)}}, statusBadRequest, ""},
		{"peek unknown entity", "nope", opPeek, amqpwire.Map{{Key: "from-sequence-number", Value: int64(1)}, {Key: "message-count", Value: int32(1)}}, statusNotFound, condNotFound},
		{"cancel unknown sequence", "q1", opCancelScheduled, amqpwire.Map{{Key: "sequence-numbers", Value: longs(42)}}, statusNotFound, condMessageNotFound},
		{"receive deferred unknown", "q1", opReceiveBySequence, amqpwire.Map{{Key: "sequence-numbers", Value: longs(42)}, {Key: "receiver-settle-mode", Value: uint32(1)}}, statusNotFound, condMessageNotFound},
		{"schedule non-binary message", "q1", opSchedule, amqpwire.Map{{Key: "messages", Value: []any{amqpwire.Map{{Key: "message", Value: "x"}}}}}, statusBadRequest, ""},
		{"disposition unknown status", "q1", opUpdateDisposition, amqpwire.Map{{Key: "lock-tokens", Value: uuids(amqpwire.UUID{1})}, {Key: "disposition-status", Value: "weird"}}, statusBadRequest, ""},
		{"disposition lost lock", "q1", opUpdateDisposition, amqpwire.Map{{Key: "lock-tokens", Value: uuids(amqpwire.UUID{1})}, {Key: "disposition-status", Value: "completed"}}, statusGone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &amqpwire.Message{ApplicationProperties: amqpwire.Map{{Key: "operation", Value: tt.op}}, Value: tt.body, HasValue: true}
			resp := c.handleMgmt(tt.path, req)
			code, _ := resp.ApplicationProperties.Get("statusCode")
			if code != tt.want {
				desc, _ := resp.ApplicationProperties.Get("statusDescription")
				t.Fatalf("status = %v (%v), want %d", code, desc, tt.want)
			}
			if tt.cond != "" {
				if cond, _ := resp.ApplicationProperties.Get("errorCondition"); cond != tt.cond {
					t.Errorf("errorCondition = %v, want %s", cond, tt.cond)
				}
			}
			if tt.want == statusOK {
				msgs, ok := resp.Value.(amqpwire.Map).Get("messages")
				if l, isList := msgs.([]any); !ok || !isList || len(l) != 1 {
					t.Fatalf("peek body = %#v, want a list of one message", resp.Value)
				}
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"empty frame", nil, "empty"},
		{"flow", &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](3), IncomingWindow: 10, LinkCredit: amqpwire.Ptr[uint32](0)},
			"Flow{NextIncomingID:3 IncomingWindow:10 LinkCredit:0}"},
		{"transfer", &amqpwire.Transfer{Handle: 1, DeliveryTag: []byte{0xab}, State: &amqpwire.Accepted{}},
			"Transfer{Handle:1 DeliveryTag:ab State:Accepted{}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.in); got != tt.want {
				t.Errorf("describe = %s, want %s", got, tt.want)
			}
		})
	}
}
