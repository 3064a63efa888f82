package sbemu

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/amqpwire"
	"github.com/ffbatch/ffbatch/emulators/sbemu/internal/broker"
)

// AMQP error conditions the Service Bus clients map (reference §7). Every
// wire error this emulator sends is built in this file.
const (
	condNotFound            amqpwire.Symbol = "amqp:not-found"
	condUnauthorized        amqpwire.Symbol = "amqp:unauthorized-access"
	condNotAllowed          amqpwire.Symbol = "amqp:not-allowed"
	condNotImplemented      amqpwire.Symbol = "amqp:not-implemented"
	condInvalidField        amqpwire.Symbol = "amqp:invalid-field"
	condDecodeError         amqpwire.Symbol = "amqp:decode-error"
	condInternalError       amqpwire.Symbol = "amqp:internal-error"
	condResourceLimit       amqpwire.Symbol = "amqp:resource-limit-exceeded"
	condFramingError        amqpwire.Symbol = "amqp:connection:framing-error"
	condConnectionForced    amqpwire.Symbol = "amqp:connection:forced"
	condUnattachedHandle    amqpwire.Symbol = "amqp:session:unattached-handle"
	condHandleInUse         amqpwire.Symbol = "amqp:session:handle-in-use"
	condMessageSizeExceeded amqpwire.Symbol = "amqp:link:message-size-exceeded"
	condLockLost            amqpwire.Symbol = "com.microsoft:message-lock-lost"
	condMessageNotFound     amqpwire.Symbol = "com.microsoft:message-not-found"
	condDeadLetter          amqpwire.Symbol = "com.microsoft:dead-letter"
)

// Management and CBS status codes (reference §5 "Status codes").
const (
	statusOK           int32 = 200
	statusAccepted     int32 = 202
	statusNoContent    int32 = 204
	statusBadRequest   int32 = 400
	statusUnauthorized int32 = 401
	statusNotFound     int32 = 404
	statusGone         int32 = 410
	statusServerError  int32 = 500
	statusUnavailable  int32 = 503
)

func amqpError(cond amqpwire.Symbol, format string, args ...any) *amqpwire.Error {
	return &amqpwire.Error{Condition: cond, Description: fmt.Sprintf(format, args...)}
}

// entityNotFound is the service's description of a missing entity, for
// attach, $management and $cbs alike; entity is its URI
// ("sb://host/queue"). Clients parse it: @azure/core-amqp reports
// MessagingEntityNotFound only when the description matches "The messaging
// entity '…' could not be found" (the amqp:not-found condition alone maps
// to ServiceCommunicationProblem).
func entityNotFound(entity string) string {
	return fmt.Sprintf("The messaging entity '%s' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.", entity)
}

// entityURI names an entity path the way the service's descriptions do,
// under the host name the client opened the connection with.
func (c *conn) entityURI(path string) string {
	return "sb://" + c.host + "/" + strings.Trim(path, "/")
}

// linkError is brokerError for an operation on l's entity.
func (l *link) linkError(err error) *amqpwire.Error {
	return brokerError(err, l.s.c.entityURI(l.path))
}

// mgmtBrokerError is brokerStatus as a $management refusal for path.
func (c *conn) mgmtBrokerError(path string, err error) *mgmtError {
	st, cond, desc := brokerStatus(err, c.entityURI(path))
	return &mgmtError{status: st, cond: cond, desc: desc}
}

// mgmtFailure is the $management response to a refused request. The
// errorCondition property is how the JavaScript and Python clients tell a
// missing message or a lost lock from other 404 and 410 answers.
func mgmtFailure(merr *mgmtError) *amqpwire.Message {
	m := rpcResponse(merr.status, merr.desc, nil)
	if merr.cond != "" {
		m.ApplicationProperties = append(m.ApplicationProperties, amqpwire.MapEntry{Key: "errorCondition", Value: merr.cond})
	}
	return m
}

// brokerError maps a broker error to the AMQP error a link operation
// (attach, transfer disposition) on entity (a URI) reports.
func brokerError(err error, entity string) *amqpwire.Error {
	switch {
	case errors.Is(err, broker.ErrEntityNotFound):
		return amqpError(condNotFound, "%s", entityNotFound(entity))
	case errors.Is(err, broker.ErrLockLost):
		return amqpError(condLockLost, "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue. (%v)", err)
	case errors.Is(err, broker.ErrMessageTooLarge):
		return amqpError(condMessageSizeExceeded, "%v", err)
	case errors.Is(err, broker.ErrMessageNotFound):
		return amqpError(condMessageNotFound, "%v", err)
	case errors.Is(err, broker.ErrSessionsNotSupported):
		return amqpError(condNotImplemented, "%v", err)
	case errors.Is(err, broker.ErrNotAllowed):
		return amqpError(condNotAllowed, "%v", err)
	case errors.Is(err, broker.ErrInvalidArgument):
		return amqpError(condInvalidField, "%v", err)
	}
	return amqpError(condInternalError, "%v", err)
}

// brokerStatus maps a broker error to a $management status code, error
// condition (empty when the service sends none we know of) and
// description for an operation on entity (a URI).
func brokerStatus(err error, entity string) (int32, amqpwire.Symbol, string) {
	switch {
	case errors.Is(err, broker.ErrEntityNotFound):
		return statusNotFound, condNotFound, entityNotFound(entity)
	case errors.Is(err, broker.ErrMessageNotFound):
		return statusNotFound, condMessageNotFound, err.Error()
	case errors.Is(err, broker.ErrLockLost):
		return statusGone, condLockLost, err.Error()
	case errors.Is(err, broker.ErrNotAllowed), errors.Is(err, broker.ErrInvalidArgument),
		errors.Is(err, broker.ErrMessageTooLarge), errors.Is(err, broker.ErrSessionsNotSupported):
		return statusBadRequest, "", err.Error()
	case errors.Is(err, broker.ErrClosed):
		return statusUnavailable, "", err.Error()
	}
	return statusServerError, "", err.Error()
}

// errUnauthorized is the attach error for a link without a valid token.
func errUnauthorized(path string) *amqpwire.Error {
	return amqpError(condUnauthorized, "unauthorized access: no valid token for %q was put on $cbs", path)
}

// errTokenExpired detaches a link whose token expired without renewal.
func errTokenExpired(path string) *amqpwire.Error {
	return amqpError(condUnauthorized, "unauthorized access: the token for %q expired and was not renewed on $cbs", path)
}

// errIdleTimeout closes a connection whose peer stayed silent past our
// advertised idle-time-out.
func errIdleTimeout() *amqpwire.Error {
	return amqpError(condResourceLimit, "local-idle-timeout expired")
}

// $cbs put-token failure descriptions, worded as the service words them
// (status 401).

func sasInvalidToken(why string) string { return "InvalidToken: " + why }

func sasInvalidSignature(why string) string { return "InvalidSignature: " + why }

func jwtNotAccepted() string {
	return "InvalidToken: jwt tokens are not accepted; the emulator verifies SAS tokens only (start it with --token-key-file to accept the local token issuer's tokens)"
}

func sasInvalidAudience() string {
	return "InvalidAudience: the token's resource does not cover the audience"
}

func sasExpired(exp time.Time) string {
	return fmt.Sprintf("ExpiredToken: The token is expired. Expiration time: '%s'", exp.UTC().Format("2006-01-02 15:04:05Z"))
}
