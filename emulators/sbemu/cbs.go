package sbemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/internal/localtoken"
)

// SAS and CBS constants (reference §2).
const (
	sasPrefix     = "SharedAccessSignature "
	tokenTypeSAS  = "servicebus.windows.net:sastoken"
	tokenTypeJWT  = "jwt"
	opPutToken    = "put-token"
	maxTokenCount = 1024 // audiences remembered per connection
)

// authState records what a connection may access; owned by the loop.
type authState struct {
	full   bool                 // SASL PLAIN with the configured key
	tokens map[string]time.Time // audience path (lower case, no slashes at the ends) → expiry
}

// allowed reports whether an address is covered by SASL PLAIN or by an
// unexpired token whose audience is the address or one of its parents
// (a namespace token covers everything).
func (a *authState) allowed(addr string, now time.Time) bool {
	if a.full {
		return true
	}
	p := normPath(addr)
	for aud, exp := range a.tokens {
		if !now.Before(exp) {
			continue
		}
		if aud == "" || aud == p || strings.HasPrefix(p, aud+"/") {
			return true
		}
	}
	return false
}

func normPath(p string) string { return strings.ToLower(strings.Trim(p, "/")) }

// checkTokens detaches entity and $management links whose token has
// expired without being renewed, as the service does.
func (c *conn) checkTokens() {
	if c.auth.full {
		return
	}
	now := c.srv.now()
	for _, s := range c.sessions {
		for _, l := range s.links {
			if l.kind != kindCBS && !l.refused && !l.gone && !c.auth.allowed(l.addr, now) {
				c.log.Info("detaching link: token expired", "link", l.name)
				l.detachWith(errTokenExpired(l.addr))
			}
		}
	}
}

// audiencePath returns the entity path of an audience URI such as
// amqp://localhost:5672/queue1 or sb://ns.servicebus.windows.net/queue1.
func audiencePath(aud string) string {
	if u, err := url.Parse(aud); err == nil && u.Host != "" {
		return normPath(u.Path)
	}
	return normPath(aud)
}

// audienceEntity is the entity path an audience names, without a trailing
// $management node; "" for the namespace.
func audienceEntity(aud string) string {
	p := audiencePath(aud)
	if p == "$management" {
		return ""
	}
	return strings.TrimSuffix(p, "/$management")
}

// audienceURI is the audience as the service quotes it: the URI the client
// sent, or the path under the connection's host.
func audienceURI(aud string, c *conn) string {
	if u, err := url.Parse(aud); err == nil && u.Host != "" {
		return "sb://" + u.Host + u.Path
	}
	return c.entityURI(aud)
}

// handleCBS answers a $cbs request (only put-token is defined).
func (c *conn) handleCBS(req *amqpwire.Message) *amqpwire.Message {
	op, _ := req.ApplicationProperties.Get("operation")
	if op != opPutToken {
		return rpcResponse(statusBadRequest, fmt.Sprintf("unsupported $cbs operation %v", op), nil)
	}
	typ, _ := req.ApplicationProperties.Get("type")
	nameV, _ := req.ApplicationProperties.Get("name")
	name, _ := nameV.(string)
	token, _ := req.Value.(string)
	if name == "" || token == "" {
		return rpcResponse(statusBadRequest, "put-token needs a string name and an amqp-value string token", nil)
	}
	now := c.srv.now()
	var exp time.Time
	var status int32
	var desc string
	switch typ {
	case tokenTypeSAS:
		exp, status, desc = c.srv.verifySAS(token, name, now)
	case tokenTypeJWT:
		exp, status, desc = c.srv.verifyJWT(token, now)
	default:
		return rpcResponse(statusBadRequest, fmt.Sprintf("unsupported token type %v", typ), nil)
	}
	if status != statusAccepted {
		c.log.Info("rejected token", "type", typ, "audience", name, "status", status)
		return rpcResponse(status, desc, nil)
	}
	// The service checks the token first and the entity second, so a caller
	// without rights cannot probe which entities exist.
	if path := audienceEntity(name); path != "" && !c.srv.entityExists(path) {
		c.log.Info("refused token for a missing entity", "audience", name)
		return rpcResponse(statusNotFound, entityNotFound(audienceURI(name, c)), nil)
	}
	if len(c.auth.tokens) >= maxTokenCount {
		for k, e := range c.auth.tokens {
			if !now.Before(e) {
				delete(c.auth.tokens, k)
			}
		}
	}
	if len(c.auth.tokens) < maxTokenCount {
		c.auth.tokens[audiencePath(name)] = exp
	}
	return rpcResponse(statusAccepted, "Accepted", nil)
}

// verifyJWT checks a "jwt" put-token with the local token issuer: it
// returns the token's expiry and 202, or 401 with a description. Without
// a token key every jwt token is refused.
func (s *Server) verifyJWT(token string, now time.Time) (time.Time, int32, string) {
	if s.tokens == nil {
		return time.Time{}, statusUnauthorized, jwtNotAccepted()
	}
	exp, err := s.tokens.Verify(token, localtoken.AudienceServiceBus, now)
	switch {
	case errors.Is(err, localtoken.ErrExpired):
		return time.Time{}, statusUnauthorized, sasExpired(exp)
	case errors.Is(err, localtoken.ErrAudience):
		return time.Time{}, statusUnauthorized, sasInvalidAudience()
	case err != nil:
		return time.Time{}, statusUnauthorized, sasInvalidToken(err.Error())
	}
	return exp, statusAccepted, ""
}

// verifySAS checks a SharedAccessSignature token for audience. It returns
// the token's expiry and 202, or a 401/400 status with a description in
// the service's words.
func (s *Server) verifySAS(token, audience string, now time.Time) (time.Time, int32, string) {
	if !strings.HasPrefix(token, sasPrefix) {
		return time.Time{}, statusUnauthorized, sasInvalidToken("the token is not a SharedAccessSignature")
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(token, sasPrefix), "&") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	sr, sig, se, skn := fields["sr"], fields["sig"], fields["se"], fields["skn"]
	if sr == "" || sig == "" || se == "" || skn == "" {
		return time.Time{}, statusUnauthorized, sasInvalidToken("the token must contain sr, sig, se and skn")
	}
	if !constantEqual(skn, s.opts.KeyName) {
		return time.Time{}, statusUnauthorized, sasInvalidSignature("unknown shared access key name")
	}
	// The signature covers sr exactly as received (clients differ in escape case).
	mac := hmac.New(sha256.New, []byte(s.opts.Key))
	mac.Write([]byte(sr + "\n" + se))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	got, err := url.QueryUnescape(sig)
	if err != nil || !constantEqual(got, want) {
		return time.Time{}, statusUnauthorized, sasInvalidSignature("The token has an invalid signature.")
	}
	secs, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return time.Time{}, statusUnauthorized, sasInvalidToken("se is not a number")
	}
	exp := time.Unix(secs, 0)
	if !now.Before(exp) {
		return time.Time{}, statusUnauthorized, sasExpired(exp)
	}
	resource, err := url.QueryUnescape(sr)
	if err != nil || !audienceCovers(resource, audience) {
		return time.Time{}, statusUnauthorized, sasInvalidAudience()
	}
	return exp, statusAccepted, ""
}

// audienceCovers reports whether a token resource covers an audience: the
// same entity path or a parent of it (hosts are not compared, as the
// emulator may be reached under any name).
func audienceCovers(resource, audience string) bool {
	r, a := audiencePath(resource), audiencePath(audience)
	return r == "" || r == a || strings.HasPrefix(a, r+"/")
}

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// rpcResponse builds a $cbs/$management response (reference §5
// "Responses"); CorrelationID is filled by reply.
func rpcResponse(status int32, desc string, body amqpwire.Map) *amqpwire.Message {
	m := &amqpwire.Message{Properties: &amqpwire.Properties{},
		// Clients read either spelling: uamqp's CBS client the dashed one,
		// Go, rhea and uamqp's management client the camel-case one.
		ApplicationProperties: amqpwire.Map{{Key: "statusCode", Value: status}, {Key: "statusDescription", Value: desc},
			{Key: "status-code", Value: status}, {Key: "status-description", Value: desc}}}
	if body != nil {
		m.Value, m.HasValue = body, true
	}
	return m
}
