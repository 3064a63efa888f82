package sbemu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

const pipeConfig = `{"UserConfig": {"Namespaces": [{"Name": "sbemulatorns",
  "Queues": [{"Name": "q1"}, {"Name": "q2"}]}], "Logging": {"Type": "Console"}}}`

// peer drives the server over net.Pipe with hand-built frames.
type peer struct {
	t  *testing.T
	nc net.Conn
}

func newPipeServer(t *testing.T, opts *Options) (*Server, *peer) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Config == nil {
		cfg, err := broker.LoadConfig([]byte(pipeConfig))
		if err != nil {
			t.Fatal(err)
		}
		opts.Config = cfg
	}
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.authCheckEvery = 20 * time.Millisecond
	a, b := net.Pipe()
	srv.serveConn(a)
	t.Cleanup(func() {
		b.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, &peer{t: t, nc: b}
}

func (p *peer) write(b []byte) {
	p.t.Helper()
	p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

func (p *peer) frame(typ byte, ch uint16, body amqpwire.Composite, payload []byte) {
	p.t.Helper()
	b, err := amqpwire.AppendFrame(nil, typ, ch, body, payload)
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(b)
}

func (p *peer) amqp(ch uint16, body amqpwire.Composite) {
	p.t.Helper()
	p.frame(amqpwire.FrameAMQP, ch, body, nil)
}

func (p *peer) readN(n int) ([]byte, error) {
	b := make([]byte, n)
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadFull(p.nc, b)
	return b, err
}

// readFrame reads the next frame, skipping heartbeats unless keepEmpty.
func (p *peer) readAny(keepEmpty bool) amqpwire.Frame {
	p.t.Helper()
	for {
		hdr, err := p.readN(8)
		if err != nil {
			p.t.Fatalf("read frame header: %v", err)
		}
		size, err := amqpwire.FrameSize(hdr)
		if err != nil {
			p.t.Fatal(err)
		}
		rest, err := p.readN(int(size) - 8)
		if err != nil {
			p.t.Fatalf("read frame body: %v", err)
		}
		f, err := amqpwire.ParseFrame(append(hdr, rest...))
		if err != nil {
			p.t.Fatal(err)
		}
		if f.Body != nil || keepEmpty {
			return f
		}
	}
}

func (p *peer) read() amqpwire.Frame { p.t.Helper(); return p.readAny(false) }

// expect reads the next non-empty frame and checks its body type.
func expect[T any](p *peer) T {
	p.t.Helper()
	f := p.read()
	v, ok := f.Body.(T)
	if !ok {
		p.t.Fatalf("got %#v, want %T", f.Body, *new(T))
	}
	return v
}

func (p *peer) expectEOF() {
	p.t.Helper()
	for range 100 {
		b, err := p.readN(8)
		if err != nil {
			return
		}
		if size, ferr := amqpwire.FrameSize(b); ferr == nil {
			if _, err := p.readN(int(size) - 8); err != nil {
				return
			}
		}
	}
	p.t.Fatal("connection not closed")
}

// handshake runs SASL with mech and opens the connection.
func (p *peer) handshake(mech string, resp []byte, open *amqpwire.Open) *amqpwire.Open {
	p.t.Helper()
	p.write(amqpwire.ProtoSASL[:])
	if h, err := p.readN(8); err != nil || string(h) != string(amqpwire.ProtoSASL[:]) {
		p.t.Fatalf("sasl header = %q, %v", h, err)
	}
	mechs := expect[*amqpwire.SASLMechanisms](p)
	if got := fmt.Sprint(mechs.Mechanisms); got != "[MSSBCBS PLAIN ANONYMOUS]" {
		p.t.Errorf("mechanisms = %s", got)
	}
	p.frame(amqpwire.FrameSASL, 0, &amqpwire.SASLInit{Mechanism: amqpwire.Symbol(mech), InitialResponse: resp}, nil)
	if out := expect[*amqpwire.SASLOutcome](p); out.Code != amqpwire.SASLOK {
		p.t.Fatalf("sasl outcome = %d", out.Code)
	}
	p.write(amqpwire.ProtoAMQP[:])
	if h, err := p.readN(8); err != nil || string(h) != string(amqpwire.ProtoAMQP[:]) {
		p.t.Fatalf("amqp header = %q, %v", h, err)
	}
	if open == nil {
		open = &amqpwire.Open{ContainerID: "test", MaxFrameSize: 65536, ChannelMax: 65535, IdleTimeOut: 30000}
	}
	p.amqp(0, open)
	return expect[*amqpwire.Open](p)
}

func (p *peer) begin(ch uint16) uint16 {
	p.t.Helper()
	p.amqp(ch, &amqpwire.Begin{NextOutgoingID: 0, IncomingWindow: 5000, OutgoingWindow: 5000, HandleMax: 100})
	b := expect[*amqpwire.Begin](p)
	if b.RemoteChannel == nil || *b.RemoteChannel != ch || b.IncomingWindow == 0 {
		p.t.Fatalf("begin reply = %+v", b)
	}
	return ch
}

func sasToken(audience, keyName, key string, exp time.Time) string {
	sr := strings.ToLower(url.QueryEscape(audience))
	se := fmt.Sprint(exp.Unix())
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%s&skn=%s", sr, sig, se, keyName)
}

func encodeMsg(t *testing.T, m *amqpwire.Message) []byte {
	t.Helper()
	b, err := amqpwire.AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putToken runs one $cbs put-token on a fresh session and returns the
// response's status and description.
func (p *peer) putToken(ch uint16, typ, audience, token string) (int32, string) {
	p.t.Helper()
	p.begin(ch)
	reply := "$cbs-reply-" + fmt.Sprint(ch)
	p.amqp(ch, &amqpwire.Attach{Name: "cbs-s", Handle: 0, Role: amqpwire.RoleSender, Source: &amqpwire.Source{},
		Target: &amqpwire.Target{Address: "$cbs"}})
	expect[*amqpwire.Attach](p)
	fl := expect[*amqpwire.Flow](p)
	if fl.LinkCredit == nil || *fl.LinkCredit == 0 || fl.NextIncomingID == nil {
		p.t.Fatalf("cbs credit flow = %+v", fl)
	}
	p.amqp(ch, &amqpwire.Attach{Name: "cbs-r", Handle: 1, Role: amqpwire.RoleReceiver, SndSettleMode: amqpwire.Ptr(amqpwire.SndSettled),
		RcvSettleMode: amqpwire.Ptr(amqpwire.RcvFirst), Source: &amqpwire.Source{Address: "$cbs"}, Target: &amqpwire.Target{Address: reply}})
	ra := expect[*amqpwire.Attach](p)
	if ra.SndSettleMode == nil || *ra.SndSettleMode != amqpwire.SndSettled || ra.InitialDeliveryCount == nil {
		p.t.Fatalf("cbs reply attach = %+v", ra)
	}
	p.amqp(ch, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 5000, OutgoingWindow: 5000,
		Handle: amqpwire.Ptr[uint32](1), DeliveryCount: amqpwire.Ptr[uint32](0), LinkCredit: amqpwire.Ptr[uint32](10)})
	req := encodeMsg(p.t, &amqpwire.Message{Properties: &amqpwire.Properties{MessageID: "req-1", ReplyTo: reply},
		ApplicationProperties: amqpwire.Map{{Key: "operation", Value: "put-token"}, {Key: "type", Value: typ},
			{Key: "name", Value: audience}, {Key: "expiration", Value: fmt.Sprint(time.Now().Add(time.Hour).Unix())}},
		Value: token, HasValue: true})
	p.frame(amqpwire.FrameAMQP, ch, &amqpwire.Transfer{Handle: 0, DeliveryID: amqpwire.Ptr[uint32](0), DeliveryTag: []byte{1},
		MessageFormat: amqpwire.Ptr[uint32](0), Settled: amqpwire.Ptr(false)}, req)
	var resp *amqpwire.Message
	var disp bool
	for resp == nil || !disp {
		f := p.read()
		switch b := f.Body.(type) {
		case *amqpwire.Disposition:
			if _, ok := b.State.(*amqpwire.Accepted); !ok || !b.Settled || b.Role != amqpwire.RoleReceiver {
				p.t.Fatalf("request disposition = %+v", b)
			}
			disp = true
		case *amqpwire.Transfer:
			if b.Settled == nil || !*b.Settled || b.Handle != 1 {
				p.t.Fatalf("response transfer = %+v", b)
			}
			m, err := amqpwire.DecodeMessage(f.Payload)
			if err != nil {
				p.t.Fatal(err)
			}
			resp = m
		case *amqpwire.Flow:
		default:
			p.t.Fatalf("unexpected %T during put-token", b)
		}
	}
	if resp.Properties == nil || resp.Properties.CorrelationID != "req-1" {
		p.t.Fatalf("response correlation-id = %+v", resp.Properties)
	}
	code, _ := resp.ApplicationProperties.Get("statusCode")
	desc, _ := resp.ApplicationProperties.Get("statusDescription")
	p.amqp(ch, &amqpwire.End{})
	expect[*amqpwire.End](p)
	st, ok := code.(int32)
	if !ok {
		p.t.Fatalf("statusCode type %T, want int32", code)
	}
	ds, _ := desc.(string)
	return st, ds
}

func TestProtocolHeaderMismatch(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"amqp without sasl", amqpwire.ProtoAMQP[:]},
		{"tls", amqpwire.ProtoTLS[:]},
		{"http", []byte("GET / HT")},
		{"amqp 0-10", []byte{'A', 'M', 'Q', 'P', 1, 1, 0, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := newPipeServer(t, nil)
			p.write(tt.in)
			h, err := p.readN(8)
			if err != nil || string(h) != string(amqpwire.ProtoSASL[:]) {
				t.Fatalf("reply header = %q, %v; want the SASL header", h, err)
			}
			p.expectEOF()
		})
	}
}

func TestSASLMechanisms(t *testing.T) {
	tests := []struct {
		name string
		mech string
		resp []byte
		want uint8
	}{
		{"anonymous", "ANONYMOUS", []byte("anonymous"), amqpwire.SASLOK},
		{"mssbcbs", "MSSBCBS", nil, amqpwire.SASLOK},
		{"plain with key", "PLAIN", []byte("\x00RootManageSharedAccessKey\x00SAS_KEY_VALUE"), amqpwire.SASLOK},
		{"plain wrong key", "PLAIN", []byte("\x00RootManageSharedAccessKey\x00nope"), amqpwire.SASLAuth},
		{"plain wrong name", "PLAIN", []byte("\x00other\x00SAS_KEY_VALUE"), amqpwire.SASLAuth},
		{"plain malformed", "PLAIN", []byte("SAS_KEY_VALUE"), amqpwire.SASLAuth},
		{"unknown mechanism", "EXTERNAL", nil, amqpwire.SASLAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := newPipeServer(t, nil)
			p.write(amqpwire.ProtoSASL[:])
			p.readN(8)
			expect[*amqpwire.SASLMechanisms](p)
			p.frame(amqpwire.FrameSASL, 0, &amqpwire.SASLInit{Mechanism: amqpwire.Symbol(tt.mech), InitialResponse: tt.resp}, nil)
			if out := expect[*amqpwire.SASLOutcome](p); out.Code != tt.want {
				t.Fatalf("outcome = %d, want %d", out.Code, tt.want)
			}
			if tt.want != amqpwire.SASLOK {
				p.expectEOF()
			}
		})
	}
}

func TestOpenNegotiation(t *testing.T) {
	_, p := newPipeServer(t, &Options{IdleTimeout: 45 * time.Second})
	open := p.handshake("ANONYMOUS", nil, &amqpwire.Open{ContainerID: "c", MaxFrameSize: 4096, ChannelMax: 7})
	if open.IdleTimeOut != 45000 || open.ChannelMax != 7 || open.MaxFrameSize < 65536 {
		t.Fatalf("server open = %+v", open)
	}
	p.amqp(0, &amqpwire.Close{})
	expect[*amqpwire.Close](p)
	p.expectEOF()
}

func TestIdleTimeoutClosesSilentPeer(t *testing.T) {
	_, p := newPipeServer(t, &Options{IdleTimeout: 150 * time.Millisecond})
	p.handshake("ANONYMOUS", nil, nil)
	c := expect[*amqpwire.Close](p)
	if c.Error == nil || c.Error.Condition != condResourceLimit {
		t.Fatalf("close = %+v, want %s", c.Error, condResourceLimit)
	}
	p.expectEOF()
}

func TestHeartbeatsAtHalfPeerIdleTimeout(t *testing.T) {
	_, p := newPipeServer(t, nil)
	p.handshake("ANONYMOUS", nil, &amqpwire.Open{ContainerID: "c", MaxFrameSize: 65536, ChannelMax: 10, IdleTimeOut: 200})
	start := time.Now()
	for range 3 {
		if f := p.readAny(true); f.Body != nil {
			t.Fatalf("got %T, want an empty frame", f.Body)
		}
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 2*time.Second {
		t.Fatalf("3 heartbeats took %v, want about 300ms", el)
	}
}

func TestMalformedFrameClosesWithDecodeError(t *testing.T) {
	_, p := newPipeServer(t, nil)
	p.handshake("ANONYMOUS", nil, nil)
	p.write([]byte{0, 0, 0, 10, 2, 0, 0, 0, 0xff, 0xff})
	c := expect[*amqpwire.Close](p)
	if c.Error == nil || c.Error.Condition != condDecodeError {
		t.Fatalf("close = %+v", c.Error)
	}
}

func TestCBSPutToken(t *testing.T) {
	now := time.Now()
	key := localtoken.NewKey()
	issuer, err := localtoken.New(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := localtoken.New(localtoken.NewKey(), nil)
	jwt := func(iss *localtoken.Issuer, aud string, ttl time.Duration) string {
		tok, _ := iss.Issue(aud, ttl)
		return tok
	}
	tests := []struct {
		name, typ, audience, token string
		tokenKey                   []byte // the server's Options.TokenKey
		want                       int32
		desc                       string
	}{
		{"valid sas", tokenTypeSAS, "amqp://127.0.0.1:5672/q1", sasToken("amqp://127.0.0.1:5672/q1", DefaultKeyName, DefaultKey, now.Add(time.Hour)), nil, statusAccepted, ""},
		{"namespace sas covers entity", tokenTypeSAS, "amqp://127.0.0.1:5672/q1", sasToken("amqp://127.0.0.1:5672/", DefaultKeyName, DefaultKey, now.Add(time.Hour)), nil, statusAccepted, ""},
		{"wrong key", tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", DefaultKeyName, "other", now.Add(time.Hour)), nil, statusUnauthorized, "InvalidSignature"},
		{"wrong key name", tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", "Listen", DefaultKey, now.Add(time.Hour)), nil, statusUnauthorized, "InvalidSignature"},
		{"expired", tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", DefaultKeyName, DefaultKey, now.Add(-time.Minute)), nil, statusUnauthorized, "ExpiredToken"},
		{"other entity", tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q2", DefaultKeyName, DefaultKey, now.Add(time.Hour)), nil, statusUnauthorized, "InvalidAudience"},
		{"not a sas token", tokenTypeSAS, "amqp://h/q1", "Bearer x", nil, statusUnauthorized, "InvalidToken"},
		{"jwt refused without a token key", tokenTypeJWT, "amqp://h/q1", "eyJhbGciOi.x.y", nil, statusUnauthorized, "jwt tokens are not accepted"},
		{"issued jwt refused without a token key", tokenTypeJWT, "amqp://h/q1", jwt(issuer, localtoken.AudienceServiceBus, time.Hour), nil, statusUnauthorized, "jwt tokens are not accepted"},
		{"issued jwt with the token key", tokenTypeJWT, "amqp://h/q1", jwt(issuer, localtoken.AudienceServiceBus, time.Hour), key, statusAccepted, ""},
		{"forged jwt with the token key", tokenTypeJWT, "amqp://h/q1", "eyJhbGciOi.x.y", key, statusUnauthorized, "InvalidToken"},
		{"jwt of another key", tokenTypeJWT, "amqp://h/q1", jwt(other, localtoken.AudienceServiceBus, time.Hour), key, statusUnauthorized, "InvalidToken"},
		{"expired jwt", tokenTypeJWT, "amqp://h/q1", jwt(issuer, localtoken.AudienceServiceBus, -time.Hour), key, statusUnauthorized, "ExpiredToken"},
		{"jwt for Batch", tokenTypeJWT, "amqp://h/q1", jwt(issuer, localtoken.AudienceBatch, time.Hour), key, statusUnauthorized, "InvalidAudience"},
		{"sas still accepted with a token key", tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", DefaultKeyName, DefaultKey, now.Add(time.Hour)), key, statusAccepted, ""},
		{"unknown token type", "x509", "amqp://h/q1", "t", nil, statusBadRequest, "unsupported token type"},
		// A missing entity is refused at put-token, in the service's words,
		// after the token is checked (no probing without rights).
		{"unknown queue", tokenTypeSAS, "sb://h/nope", sasToken("sb://h/", DefaultKeyName, DefaultKey, now.Add(time.Hour)), nil, statusNotFound,
			"The messaging entity 'sb://h/nope' could not be found."},
		{"unknown management node", tokenTypeSAS, "amqp://h/nope/$management", sasToken("amqp://h/", DefaultKeyName, DefaultKey, now.Add(time.Hour)), nil, statusNotFound,
			"The messaging entity 'sb://h/nope/$management' could not be found."},
		{"unknown entity with jwt", tokenTypeJWT, "amqp://h/nope/$DeadLetterQueue", jwt(issuer, localtoken.AudienceServiceBus, time.Hour), key, statusNotFound, "could not be found"},
		{"unknown entity with a forged jwt", tokenTypeJWT, "amqp://h/nope", "eyJhbGciOi.x.y", nil, statusUnauthorized, "jwt tokens are not accepted"},
		{"dead-letter queue", tokenTypeJWT, "amqp://h/q1/$DeadLetterQueue", jwt(issuer, localtoken.AudienceServiceBus, time.Hour), key, statusAccepted, ""},
		{"management node", tokenTypeJWT, "amqp://h/q1/$management", jwt(issuer, localtoken.AudienceServiceBus, time.Hour), key, statusAccepted, ""},
		{"namespace", tokenTypeSAS, "amqp://h/", sasToken("amqp://h/", DefaultKeyName, DefaultKey, now.Add(time.Hour)), nil, statusAccepted, ""},
		{"unknown queue, wrong key", tokenTypeSAS, "amqp://h/nope", sasToken("amqp://h/nope", DefaultKeyName, "other", now.Add(time.Hour)), nil, statusUnauthorized, "InvalidSignature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := newPipeServer(t, &Options{TokenKey: tt.tokenKey})
			p.handshake("ANONYMOUS", nil, nil)
			code, desc := p.putToken(1, tt.typ, tt.audience, tt.token)
			if code != tt.want || !strings.Contains(desc, tt.desc) {
				t.Fatalf("status = %d %q, want %d containing %q", code, desc, tt.want, tt.desc)
			}
		})
	}
}

// attachEntity attaches a link and returns the server's attach reply and,
// when refused, the detach error.
func (p *peer) attachEntity(ch uint16, a *amqpwire.Attach) (*amqpwire.Attach, *amqpwire.Error) {
	p.t.Helper()
	p.amqp(ch, a)
	reply := expect[*amqpwire.Attach](p)
	if reply.Source == nil && reply.Target == nil {
		d := expect[*amqpwire.Detach](p)
		if !d.Closed || d.Error == nil {
			p.t.Fatalf("refusal detach = %+v", d)
		}
		return reply, d.Error
	}
	return reply, nil
}

func senderAttach(name string, handle uint32, addr string) *amqpwire.Attach {
	return &amqpwire.Attach{Name: name, Handle: handle, Role: amqpwire.RoleSender, SndSettleMode: amqpwire.Ptr(amqpwire.SndMixed),
		RcvSettleMode: amqpwire.Ptr(amqpwire.RcvFirst), Source: &amqpwire.Source{}, Target: &amqpwire.Target{Address: addr},
		InitialDeliveryCount: amqpwire.Ptr[uint32](0)}
}

func TestEntityLinkAuthorization(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(p *peer)
		addr     string
		wantCond amqpwire.Symbol // "" = attached
	}{
		{"no token", func(p *peer) {}, "q1", condUnauthorized},
		{"forged jwt (refused)", func(p *peer) { p.putToken(1, tokenTypeJWT, "amqp://h/q1", "eyJhbGciOi.x.y") }, "q1", condUnauthorized},
		{"token for the entity", func(p *peer) {
			p.putToken(1, tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", DefaultKeyName, DefaultKey, time.Now().Add(time.Hour)))
		}, "q1", ""},
		{"token for another entity", func(p *peer) {
			p.putToken(1, tokenTypeSAS, "amqp://h/q2", sasToken("amqp://h/q2", DefaultKeyName, DefaultKey, time.Now().Add(time.Hour)))
		}, "q1", condUnauthorized},
		{"entity token covers its management node", func(p *peer) {
			p.putToken(1, tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", DefaultKeyName, DefaultKey, time.Now().Add(time.Hour)))
		}, "q1/$management", ""},
		{"unknown entity with namespace token", func(p *peer) {
			p.putToken(1, tokenTypeSAS, "amqp://h/", sasToken("amqp://h/", DefaultKeyName, DefaultKey, time.Now().Add(time.Hour)))
		}, "nope", condNotFound},
		{"send to dead-letter queue", func(p *peer) {
			p.putToken(1, tokenTypeSAS, "amqp://h/", sasToken("amqp://h/", DefaultKeyName, DefaultKey, time.Now().Add(time.Hour)))
		}, "q1/$DeadLetterQueue", condNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := newPipeServer(t, nil)
			p.handshake("ANONYMOUS", nil, nil)
			tt.setup(p)
			p.begin(2)
			reply, err := p.attachEntity(2, senderAttach("s", 0, tt.addr))
			if tt.wantCond == "" {
				if err != nil {
					t.Fatalf("attach refused: %v", err)
				}
				if reply.Role != amqpwire.RoleReceiver || reply.MaxMessageSize == 0 || *reply.SndSettleMode != amqpwire.SndMixed {
					t.Fatalf("attach reply = %+v", reply)
				}
				return
			}
			if err == nil || err.Condition != tt.wantCond {
				t.Fatalf("attach error = %v, want %s", err, tt.wantCond)
			}
			// @azure/core-amqp recognises a missing entity by this wording only.
			if tt.wantCond == condNotFound && !regexp.MustCompile(`The messaging entity .* could not be found`).MatchString(err.Description) {
				t.Errorf("not-found description %q is not worded as the service words it", err.Description)
			}
			// The client's answering detach is not answered again.
			p.amqp(2, &amqpwire.Detach{Handle: 0, Closed: true})
			p.amqp(2, &amqpwire.End{})
			expect[*amqpwire.End](p)
		})
	}
}

// plainPeer opens a connection authorized by SASL PLAIN with one session.
func plainPeer(t *testing.T, opts *Options, peerMaxFrame uint32) (*Server, *peer) {
	t.Helper()
	srv, p := newPipeServer(t, opts)
	p.handshake("PLAIN", []byte("\x00RootManageSharedAccessKey\x00SAS_KEY_VALUE"),
		&amqpwire.Open{ContainerID: "c", MaxFrameSize: peerMaxFrame, ChannelMax: 100})
	p.begin(0)
	return srv, p
}

func TestMultiFrameTransferInAndOut(t *testing.T) {
	_, p := plainPeer(t, nil, 512)
	if _, err := p.attachEntity(0, senderAttach("s", 0, "q1")); err != nil {
		t.Fatal(err)
	}
	expect[*amqpwire.Flow](p)
	body := []byte(strings.Repeat("abcdefghij", 300))
	msg := encodeMsg(t, &amqpwire.Message{Header: &amqpwire.Header{Durable: true, Priority: 7, TTL: 60000},
		Properties: &amqpwire.Properties{MessageID: "big"}, Data: [][]byte{body}})
	// Send in three frames.
	parts := [][]byte{msg[:100], msg[100:2000], msg[2000:]}
	for i, part := range parts {
		tr := &amqpwire.Transfer{Handle: 0, More: i < len(parts)-1}
		if i == 0 {
			tr.DeliveryID, tr.DeliveryTag, tr.MessageFormat = amqpwire.Ptr[uint32](0), []byte{0}, amqpwire.Ptr[uint32](0)
		}
		p.frame(amqpwire.FrameAMQP, 0, tr, part)
	}
	d := expect[*amqpwire.Disposition](p)
	if _, ok := d.State.(*amqpwire.Accepted); !ok || d.First != 0 || !d.Settled {
		t.Fatalf("disposition = %+v", d)
	}
	// Receive it back in receive-and-delete mode over 512-byte frames.
	p.amqp(0, &amqpwire.Attach{Name: "r", Handle: 1, Role: amqpwire.RoleReceiver, SndSettleMode: amqpwire.Ptr(amqpwire.SndSettled),
		RcvSettleMode: amqpwire.Ptr(amqpwire.RcvFirst), Source: &amqpwire.Source{Address: "q1"}, Target: &amqpwire.Target{}})
	ra := expect[*amqpwire.Attach](p)
	if ra.InitialDeliveryCount == nil || *ra.SndSettleMode != amqpwire.SndSettled || ra.Role != amqpwire.RoleSender {
		t.Fatalf("receiver attach reply = %+v", ra)
	}
	p.amqp(0, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 5000, OutgoingWindow: 5000,
		Handle: amqpwire.Ptr[uint32](1), DeliveryCount: amqpwire.Ptr[uint32](0), LinkCredit: amqpwire.Ptr[uint32](1)})
	var got []byte
	frames := 0
	for {
		f := p.read()
		tr, ok := f.Body.(*amqpwire.Transfer)
		if !ok {
			t.Fatalf("got %T, want transfer", f.Body)
		}
		if frames == 0 && (tr.DeliveryID == nil || tr.DeliveryTag == nil || tr.MessageFormat == nil || tr.Settled == nil || !*tr.Settled) {
			t.Fatalf("first transfer lacks delivery fields: %+v", tr)
		}
		if size := len(f.Payload); size > 512 {
			t.Fatalf("frame payload %d exceeds peer max-frame-size", size)
		}
		frames++
		got = append(got, f.Payload...)
		if !tr.More {
			break
		}
	}
	if frames < 3 {
		t.Fatalf("message sent in %d frames, want several", frames)
	}
	m, err := amqpwire.DecodeMessage(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data[0]) != string(body) || m.Header == nil || m.Header.DeliveryCount != 0 || !m.Header.Durable ||
		m.Header.Priority != 7 || m.Header.TTL != 60000 {
		t.Fatalf("delivered message: header %+v, %d body bytes", m.Header, len(m.Data[0]))
	}
	if seq, _ := m.MessageAnnotations.Get("x-opt-sequence-number"); seq != int64(1) {
		t.Fatalf("x-opt-sequence-number = %#v, want int64(1)", seq)
	}
	if _, ok := m.MessageAnnotations.Get("x-opt-locked-until"); ok {
		t.Fatal("receive-and-delete delivery carries x-opt-locked-until")
	}
}

func TestOversizeTransferRejected(t *testing.T) {
	_, p := plainPeer(t, &Options{MaxMessageSize: 1024}, 65536)
	reply, err := p.attachEntity(0, senderAttach("s", 0, "q1"))
	if err != nil || reply.MaxMessageSize != 1024 {
		t.Fatalf("attach = %+v, %v", reply, err)
	}
	expect[*amqpwire.Flow](p)
	msg := encodeMsg(t, &amqpwire.Message{Data: [][]byte{make([]byte, 2000)}})
	p.frame(amqpwire.FrameAMQP, 0, &amqpwire.Transfer{Handle: 0, DeliveryID: amqpwire.Ptr[uint32](0), DeliveryTag: []byte{0},
		MessageFormat: amqpwire.Ptr[uint32](0)}, msg)
	d := expect[*amqpwire.Disposition](p)
	rej, ok := d.State.(*amqpwire.Rejected)
	if !ok || rej.Error == nil || rej.Error.Condition != condMessageSizeExceeded {
		t.Fatalf("disposition state = %#v, want rejected %s", d.State, condMessageSizeExceeded)
	}
}

// sendSimple sends n small messages on a sender link at handle 0.
func sendSimple(t *testing.T, p *peer, n int) {
	t.Helper()
	if _, err := p.attachEntity(0, senderAttach("s", 0, "q1")); err != nil {
		t.Fatal(err)
	}
	expect[*amqpwire.Flow](p)
	for i := range n {
		msg := encodeMsg(t, &amqpwire.Message{Properties: &amqpwire.Properties{MessageID: fmt.Sprint(i)}, Data: [][]byte{{byte(i)}}})
		p.frame(amqpwire.FrameAMQP, 0, &amqpwire.Transfer{Handle: 0, DeliveryID: amqpwire.Ptr(uint32(i)), DeliveryTag: []byte{byte(i)},
			MessageFormat: amqpwire.Ptr[uint32](0), Settled: amqpwire.Ptr(false)}, msg)
		expect[*amqpwire.Disposition](p)
	}
}

func TestCreditDrainAndDispositionRange(t *testing.T) {
	_, p := plainPeer(t, nil, 65536)
	sendSimple(t, p, 3)
	p.amqp(0, &amqpwire.Attach{Name: "r", Handle: 1, Role: amqpwire.RoleReceiver, RcvSettleMode: amqpwire.Ptr(amqpwire.RcvSecond),
		Source: &amqpwire.Source{Address: "q1"}, Target: &amqpwire.Target{}})
	if ra := expect[*amqpwire.Attach](p); ra.RcvSettleMode == nil || *ra.RcvSettleMode != amqpwire.RcvSecond {
		t.Fatalf("rcv-settle-mode not echoed: %+v", ra)
	}
	flow := func(dc, credit uint32, drain bool) {
		p.amqp(0, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 5000, OutgoingWindow: 5000,
			Handle: amqpwire.Ptr[uint32](1), DeliveryCount: amqpwire.Ptr(dc), LinkCredit: amqpwire.Ptr(credit), Drain: drain})
	}
	// Credit 2: exactly two deliveries, unsettled, tagged with a 16-byte lock token.
	flow(0, 2, false)
	var ids []uint32
	for range 2 {
		tr := expect[*amqpwire.Transfer](p)
		if *tr.Settled || len(tr.DeliveryTag) != 16 {
			t.Fatalf("peek-lock transfer = %+v", tr)
		}
		ids = append(ids, *tr.DeliveryID)
	}
	// Drain with credit 5: the third message, then a flow that consumes the rest.
	flow(2, 5, true)
	tr := expect[*amqpwire.Transfer](p)
	ids = append(ids, *tr.DeliveryID)
	fl := expect[*amqpwire.Flow](p)
	if fl.LinkCredit == nil || *fl.LinkCredit != 0 || *fl.DeliveryCount != 7 || !fl.Drain {
		t.Fatalf("drain flow = dc %v credit %v drain %v, want 7/0/true", *fl.DeliveryCount, *fl.LinkCredit, fl.Drain)
	}
	// One disposition for the whole range completes all three.
	p.amqp(0, &amqpwire.Disposition{Role: amqpwire.RoleReceiver, First: ids[0], Last: amqpwire.Ptr(ids[2]), State: &amqpwire.Accepted{}})
	for i := range 3 {
		d := expect[*amqpwire.Disposition](p)
		if d.Role != amqpwire.RoleSender || !d.Settled || d.First != ids[i] {
			t.Fatalf("settlement %d = %+v", i, d)
		}
		if _, ok := d.State.(*amqpwire.Accepted); !ok {
			t.Fatalf("settlement %d state = %#v", i, d.State)
		}
	}
	// Settling again reports nothing (already settled); new credit finds the queue empty.
	flow(7, 1, true)
	fl = expect[*amqpwire.Flow](p)
	if *fl.LinkCredit != 0 || *fl.DeliveryCount != 8 {
		t.Fatalf("second drain flow = %+v", fl)
	}
}

func TestSessionWindowAndChannels(t *testing.T) {
	_, p := plainPeer(t, nil, 65536)
	// Several sessions at once, and a channel reused after end.
	for ch := uint16(1); ch <= 3; ch++ {
		p.begin(ch)
	}
	p.amqp(2, &amqpwire.End{})
	expect[*amqpwire.End](p)
	p.begin(2)
	// Frames on a channel without a session close the connection.
	p.amqp(9, &amqpwire.Flow{IncomingWindow: 1, OutgoingWindow: 1})
	c := expect[*amqpwire.Close](p)
	if c.Error == nil || c.Error.Condition != condFramingError {
		t.Fatalf("close = %+v", c.Error)
	}
}

func TestReleasedDoesNotCountDelivery(t *testing.T) {
	srv, p := plainPeer(t, nil, 65536)
	sendSimple(t, p, 1)
	p.amqp(0, &amqpwire.Attach{Name: "r", Handle: 1, Role: amqpwire.RoleReceiver, RcvSettleMode: amqpwire.Ptr(amqpwire.RcvSecond),
		Source: &amqpwire.Source{Address: "q1"}, Target: &amqpwire.Target{}})
	expect[*amqpwire.Attach](p)
	p.amqp(0, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 5000, OutgoingWindow: 5000,
		Handle: amqpwire.Ptr[uint32](1), DeliveryCount: amqpwire.Ptr[uint32](0), LinkCredit: amqpwire.Ptr[uint32](1)})
	tr := expect[*amqpwire.Transfer](p)
	p.amqp(0, &amqpwire.Disposition{Role: amqpwire.RoleReceiver, First: *tr.DeliveryID, State: &amqpwire.Released{}})
	expect[*amqpwire.Disposition](p)
	p.amqp(0, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](2), IncomingWindow: 5000, OutgoingWindow: 5000,
		Handle: amqpwire.Ptr[uint32](1), DeliveryCount: amqpwire.Ptr[uint32](1), LinkCredit: amqpwire.Ptr[uint32](1)})
	f := p.read()
	m, err := amqpwire.DecodeMessage(f.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.DeliveryCount != 0 {
		t.Fatalf("delivery-count after release = %d, want 0", m.Header.DeliveryCount)
	}
	if st := srv.broker.Stats(); st[0].Locked != 1 {
		t.Fatalf("stats = %+v", st[0])
	}
}

func TestPeerSessionWindowRespected(t *testing.T) {
	_, p := plainPeer(t, nil, 65536)
	sendSimple(t, p, 3)
	// A second session whose incoming window allows two transfer frames.
	p.amqp(1, &amqpwire.Begin{IncomingWindow: 2, OutgoingWindow: 100, HandleMax: 10})
	expect[*amqpwire.Begin](p)
	p.amqp(1, &amqpwire.Attach{Name: "r", Handle: 0, Role: amqpwire.RoleReceiver, SndSettleMode: amqpwire.Ptr(amqpwire.SndSettled),
		Source: &amqpwire.Source{Address: "q1"}, Target: &amqpwire.Target{}})
	expect[*amqpwire.Attach](p)
	p.amqp(1, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 2, OutgoingWindow: 100,
		Handle: amqpwire.Ptr[uint32](0), DeliveryCount: amqpwire.Ptr[uint32](0), LinkCredit: amqpwire.Ptr[uint32](10)})
	for range 2 {
		expect[*amqpwire.Transfer](p)
	}
	// Nothing more until the window reopens; a session flow then releases the third.
	p.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var hdr [8]byte
	if _, err := io.ReadFull(p.nc, hdr[:]); err == nil && hdr != [8]byte{0, 0, 0, 8, 2, 0, 0, 0} {
		t.Fatalf("server sent a frame beyond the session window: %x", hdr)
	}
	p.amqp(1, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](3), IncomingWindow: 2, OutgoingWindow: 100})
	tr := expect[*amqpwire.Transfer](p)
	if *tr.DeliveryID != 2 {
		t.Fatalf("third delivery id = %d, want 2", *tr.DeliveryID)
	}
}

func TestReceiveAndDeleteLosesNothingUnsent(t *testing.T) {
	srv, p := plainPeer(t, nil, 512)
	if _, err := p.attachEntity(0, senderAttach("s", 0, "q1")); err != nil {
		t.Fatal(err)
	}
	expect[*amqpwire.Flow](p)
	msg := encodeMsg(t, &amqpwire.Message{Data: [][]byte{make([]byte, 1500)}})
	for i, part := range [][]byte{msg[:400], msg[400:800], msg[800:1200], msg[1200:]} {
		tr := &amqpwire.Transfer{Handle: 0, More: i < 3}
		if i == 0 {
			tr.DeliveryID, tr.DeliveryTag, tr.MessageFormat = amqpwire.Ptr[uint32](0), []byte{0}, amqpwire.Ptr[uint32](0)
		}
		p.frame(amqpwire.FrameAMQP, 0, tr, part)
	}
	expect[*amqpwire.Disposition](p)
	// A receive-and-delete link on a session whose window fits one frame:
	// the message (several frames) is acquired but cannot be sent.
	p.amqp(1, &amqpwire.Begin{IncomingWindow: 1, OutgoingWindow: 100, HandleMax: 10})
	expect[*amqpwire.Begin](p)
	p.amqp(1, &amqpwire.Attach{Name: "r", Handle: 0, Role: amqpwire.RoleReceiver, SndSettleMode: amqpwire.Ptr(amqpwire.SndSettled),
		Source: &amqpwire.Source{Address: "q1"}, Target: &amqpwire.Target{}})
	expect[*amqpwire.Attach](p)
	p.amqp(1, &amqpwire.Flow{NextIncomingID: amqpwire.Ptr[uint32](1), IncomingWindow: 1, OutgoingWindow: 100,
		Handle: amqpwire.Ptr[uint32](0), DeliveryCount: amqpwire.Ptr[uint32](0), LinkCredit: amqpwire.Ptr[uint32](1)})
	p.amqp(1, &amqpwire.Detach{Handle: 0, Closed: true})
	if d := expect[*amqpwire.Detach](p); d.Handle != 0 {
		t.Fatalf("detach reply = %+v", d)
	}
	if st := srv.broker.Stats(); st[0].Active != 1 || st[0].Locked != 0 {
		t.Fatalf("after detach: active %d locked %d, want the message back and unlocked", st[0].Active, st[0].Locked)
	}
}

func TestLinkDetachedWhenTokenExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, p := newPipeServer(t, &Options{Now: clock})
	p.handshake("ANONYMOUS", nil, nil)
	code, _ := p.putToken(1, tokenTypeSAS, "amqp://h/q1", sasToken("amqp://h/q1", DefaultKeyName, DefaultKey, now.Add(time.Minute)))
	if code != statusAccepted {
		t.Fatalf("put-token status %d", code)
	}
	p.begin(2)
	if _, err := p.attachEntity(2, senderAttach("s", 0, "q1")); err != nil {
		t.Fatal(err)
	}
	expect[*amqpwire.Flow](p)
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	d := expect[*amqpwire.Detach](p)
	if !d.Closed || d.Error == nil || d.Error.Condition != condUnauthorized {
		t.Fatalf("detach = %+v, want closed with %s", d, condUnauthorized)
	}
}
